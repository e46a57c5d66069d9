package harness

import (
	"fmt"
	"math"
)

// Stat is the mean and sample standard deviation of N values (N == 0: nothing measured).
type Stat struct {
	N        int
	Mean, SD float64
}

func newStat(xs []float64) Stat {
	s := Stat{N: len(xs)}
	if s.N == 0 {
		return s
	}
	for _, x := range xs {
		s.Mean += x
	}
	s.Mean /= float64(s.N)
	if s.N > 1 {
		ss := 0.0
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(ss / float64(s.N-1))
	}
	return s
}

// SE is the standard error of the mean.
func (s Stat) SE() float64 {
	if s.N < 1 {
		return math.NaN()
	}
	return s.SD / math.Sqrt(float64(s.N))
}

// Format writes the value with the given verb and scale: "—" when nothing was measured,
// the value alone for one sample, "mean ± sd (n)" for several.
func (s Stat) Format(scale float64, prec int) string {
	switch {
	case s.N == 0:
		return "—"
	case s.N == 1:
		return fmt.Sprintf("%.*f", prec, s.Mean*scale)
	}
	return fmt.Sprintf("%.*f ± %.*f (%d)", prec, s.Mean*scale, prec, s.SD*scale, s.N)
}

// FormatEpoch formats an epoch count: a whole number for one sample.
func (s Stat) FormatEpoch() string {
	if s.N == 1 {
		return fmt.Sprintf("%.0f", s.Mean)
	}
	return s.Format(1, 1)
}
