package search

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Param is one numeric dimension of a search space: either a list of values (a choice,
// each equally likely) or a range [Min, Max], drawn uniformly, or uniformly in log space
// when Log is set (learning rates and widths: 10 to 100 is as likely as 100 to 1000).
type Param struct {
	Values []float64 `json:"values,omitempty"`
	Min    float64   `json:"min,omitempty"`
	Max    float64   `json:"max,omitempty"`
	Log    bool      `json:"log,omitempty"`
}

// Choice is a Param holding the given values.
func Choice(v ...float64) Param { return Param{Values: v} }

// Range is a Param over [lo, hi], log-scaled when log is set.
func Range(lo, hi float64, log bool) Param { return Param{Min: lo, Max: hi, Log: log} }

// isRange reports whether p is a range rather than a list.
func (p Param) isRange() bool { return len(p.Values) == 0 }

// validate checks p; integer dimensions must hold integers; lo and hi bound every value.
func (p Param) validate(field string, integer bool, lo, hi float64) error {
	bad := func(want string, got any) error {
		return fmt.Errorf("%s: expected %s, found %v", field, want, got)
	}
	check := func(what string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
			return bad(fmt.Sprintf("%s in [%g, %g]", what, lo, hi), v)
		}
		if integer && v != math.Trunc(v) {
			return bad(what+" a whole number", v)
		}
		return nil
	}
	if !p.isRange() {
		if p.Min != 0 || p.Max != 0 || p.Log {
			return bad(`either "values" or "min"/"max"/"log", not both`, fmt.Sprintf("values %v and min %g, max %g, log %v", p.Values, p.Min, p.Max, p.Log))
		}
		for i, v := range p.Values {
			if err := check(fmt.Sprintf("values[%d]", i), v); err != nil {
				return err
			}
			if slices.Contains(p.Values[:i], v) {
				return bad("distinct values", fmt.Sprintf("%g listed twice", v))
			}
		}
		return nil
	}
	if p.Min == 0 && p.Max == 0 {
		return bad(`"values" or a range "min".."max"`, "neither")
	}
	if err := check("min", p.Min); err != nil {
		return err
	}
	if err := check("max", p.Max); err != nil {
		return err
	}
	if p.Min > p.Max {
		return bad("min <= max", fmt.Sprintf("min %g > max %g", p.Min, p.Max))
	}
	if p.Log && (p.Min <= 0 || integer && p.Min < 1) {
		return bad("min > 0 (integers: >= 1) for a log-scaled range", p.Min)
	}
	return nil
}

// draw returns one value of p. Integer dimensions round the draw to the nearest whole
// number; real ones keep 4 significant digits, so a value reads well in a record and
// reproduces on every platform whatever the last bit of math.Exp.
func (p Param) draw(r *rng, integer bool) float64 {
	if !p.isRange() {
		return p.Values[r.intn(len(p.Values))]
	}
	u := r.float()
	lo, hi := p.Min, p.Max
	if integer {
		// Widen by half a unit on each side, so that rounding gives the end values
		// their full share (1..4 would otherwise draw 1 and 4 half as often as 2 and 3).
		lo, hi = lo-0.5, hi+0.5
	}
	var v float64
	if p.Log {
		v = math.Exp(math.Log(lo) + u*(math.Log(hi)-math.Log(lo)))
	} else {
		v = lo + u*(hi-lo)
	}
	if integer {
		v = math.Round(v)
	} else {
		v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	}
	return math.Min(math.Max(v, p.Min), p.Max)
}

// contains reports whether v is a value p can draw (within a range's bounds, allowing
// for the 4-significant-digit rounding of draw at the edges).
func (p Param) contains(v float64) bool {
	if !p.isRange() {
		return slices.Contains(p.Values, v)
	}
	return v >= p.Min && v <= p.Max
}

// max returns the largest value p can draw.
func (p Param) max() float64 {
	if !p.isRange() {
		return slices.Max(p.Values)
	}
	return p.Max
}

func (p Param) String() string {
	if !p.isRange() {
		return fmt.Sprint(p.Values)
	}
	if p.Log {
		return fmt.Sprintf("%g..%g (log)", p.Min, p.Max)
	}
	return fmt.Sprintf("%g..%g", p.Min, p.Max)
}
