package kernels_test

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// actAbsTol is the accuracy every backend's sigmoid and tanh must reach over their
// whole working range: 1e-6 absolute (about 8 float32 ulps at 1), far below what
// changes a trained network, and loose enough for polynomial approximations.
const actAbsTol = 1e-6

// saturating describes how a bounded activation reaches its limits. The thresholds
// are derived from the float64 reference, never from the code under test.
type saturating struct {
	act       kernels.Activation
	ref       func(float64) float64
	lo, hi    float32 // the limits at -Inf and +Inf
	tailBelow func(x float64) float64
	tailAbove func(x float64) float64
	// working range checked exhaustively: every float32 in [-span, span]
	span float32
}

// satSigmoid and satTanh: the distance to each limit is computed from a form that
// does not cancel (1 - sigmoid(x) = sigmoid(-x); 1 - tanh(x) = 2*sigmoid(-2x)).
var (
	satSigmoid = saturating{
		act: kernels.Sigmoid, ref: sigmoidRef, lo: 0, hi: 1, span: 20,
		tailBelow: func(x float64) float64 { return sigmoidRef(x) },
		tailAbove: func(x float64) float64 { return sigmoidRef(-x) },
	}
	satTanh = saturating{
		act: kernels.Tanh, ref: tanhRef, lo: -1, hi: 1, span: 10,
		tailBelow: func(x float64) float64 { return 2 * sigmoidRef(2*x) },
		tailAbove: func(x float64) float64 { return 2 * sigmoidRef(-2*x) },
	}
)

// firstAtOrBeyond returns the float32 of smallest magnitude, with x's sign as given by
// neg, for which dist(x) <= lim; dist must decrease with |x|. It bisects over bit
// patterns, which are ordered like the magnitudes they encode.
func firstAtOrBeyond(neg bool, dist func(float64) float64, lim float64) float32 {
	sign := uint32(0)
	if neg {
		sign = 1 << 31
	}
	f := func(u uint32) float64 { return float64(math.Float32frombits(u | sign)) }
	lo, hi := uint32(0), math.Float32bits(math.MaxFloat32) // dist(lo) > lim >= dist(hi)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if dist(f(mid)) <= lim {
			hi = mid
		} else {
			lo = mid
		}
	}
	return math.Float32frombits(hi | sign)
}

// spacingBelow is the gap between a limit and the float32 next to it on the side the
// function approaches from: 2^-24 below 1 (and above -1), 2^-149 above 0.
func spacingBelow(limit float32) float64 {
	if limit == 0 {
		return 0x1p-149
	}
	return 0x1p-24
}

// thresholds returns where the activation must equal its limits exactly: from the
// first float32 at which the reference is within a quarter of the float32 spacing of
// the limit (then even a result off by a fraction of an ulp rounds to the limit). The
// correctly rounded function already equals the limit from where the reference is
// within half the spacing (also returned, for the log); between the two a result one
// ulp short of the limit is accepted, under the absolute bound.
func (s saturating) thresholds() (loSat, hiSat, loRound, hiRound float32) {
	thresholdsMu.Lock()
	defer thresholdsMu.Unlock()
	if th, ok := thresholdsCache[s.act]; ok {
		return th[0], th[1], th[2], th[3]
	}
	defer func() { thresholdsCache[s.act] = [4]float32{loSat, hiSat, loRound, hiRound} }()
	loSat = firstAtOrBeyond(true, s.tailBelow, spacingBelow(s.lo)/4)
	hiSat = firstAtOrBeyond(false, s.tailAbove, spacingBelow(s.hi)/4)
	loRound = firstAtOrBeyond(true, s.tailBelow, spacingBelow(s.lo)/2)
	hiRound = firstAtOrBeyond(false, s.tailAbove, spacingBelow(s.hi)/2)
	return
}

var (
	thresholdsMu    sync.Mutex
	thresholdsCache = map[kernels.Activation][4]float32{}
)

// bitRange is the float32 magnitudes with bits in [from, to], visited every stride-th,
// with the sign bits listed.
type bitRange struct {
	from, to uint32
	stride   uint32
	signs    []uint32
}

// actStats is what one backend did over the inputs: its worst error inside the
// bound's domain, and its first failures.
type actStats struct {
	checked  int64
	maxErr   float64
	worstX   float32
	failures int64
	first    []string
}

func (a *actStats) merge(b *actStats) {
	a.checked += b.checked
	if b.maxErr > a.maxErr {
		a.maxErr, a.worstX = b.maxErr, b.worstX
	}
	a.failures += b.failures
	for _, f := range b.first {
		if len(a.first) < 8 {
			a.first = append(a.first, f)
		}
	}
}

// checkActivation runs Activate over every input of the ranges on every backend and
// checks each result: exactly the limit beyond the saturation thresholds, else within
// actAbsTol of the reference. The inputs go through in chunks of about a million, each
// split among GOMAXPROCS goroutines; the reference of a chunk is computed once and
// checked against every backend, since on most inputs it costs more than the kernels.
// Each backend then gets a subtest that reports its statistics and failures.
func checkActivation(t *testing.T, s saturating, ranges []bitRange) {
	loSat, hiSat, loRound, hiRound := s.thresholds()
	t.Logf("%v: reference rounds to the limits from %v and %v; exact limits required from %v and %v",
		s.act, loRound, hiRound, loSat, hiSat)
	backends := kernels.Backends()
	prev := kernels.Backend()
	defer func() { _ = kernels.Use(prev) }()
	stats := make([]actStats, len(backends))

	const chunk = 1 << 20
	xs := make([]float32, chunk)
	ys := make([]float32, chunk)
	refs := make([]float64, chunk)
	workers := runtime.GOMAXPROCS(0)
	parallel := func(n int, f func(lo, hi int, w int)) {
		var wg sync.WaitGroup
		per := (n + workers - 1) / workers
		for w := 0; w < workers; w++ {
			lo, hi := w*per, min(n, (w+1)*per)
			if lo >= hi {
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); f(lo, hi, w) }()
		}
		wg.Wait()
	}
	wstats := make([]actStats, workers)
	flush := func(n int) {
		parallel(n, func(lo, hi, _ int) {
			for i := lo; i < hi; i++ {
				refs[i] = s.ref(float64(xs[i]))
			}
		})
		for bi, name := range backends {
			if err := kernels.Use(name); err != nil {
				t.Fatal(err)
			}
			clear(wstats)
			parallel(n, func(lo, hi, w int) {
				kernels.Activate(s.act, ys[lo:hi], xs[lo:hi])
				compareActivation(&wstats[w], s, loSat, hiSat, xs[lo:hi], ys[lo:hi], refs[lo:hi])
			})
			for w := range wstats {
				stats[bi].merge(&wstats[w])
			}
		}
	}
	n := 0
	for _, r := range ranges {
		for u := uint64(r.from); u <= uint64(r.to); u += uint64(r.stride) {
			for _, sign := range r.signs {
				xs[n] = math.Float32frombits(uint32(u) | sign)
				n++
			}
			if n > chunk-len(r.signs) {
				flush(n)
				n = 0
			}
		}
	}
	flush(n)
	for bi, name := range backends {
		st := stats[bi]
		t.Run(name, func(t *testing.T) {
			t.Logf("backend %s: %d inputs, max |error| %.3g at x = %v (bound %g), %d failures",
				name, st.checked, st.maxErr, st.worstX, actAbsTol, st.failures)
			for _, f := range st.first {
				t.Error(f)
			}
		})
	}
}

// compareActivation checks ys = s.act(xs) against refs, the reference of xs, into st.
func compareActivation(st *actStats, s saturating, loSat, hiSat float32, xs, ys []float32, refs []float64) {
	ys, refs = ys[:len(xs)], refs[:len(xs)]
	st.checked += int64(len(xs))
	maxErr, worstX := st.maxErr, st.worstX
	for i, x := range xs {
		y := ys[i]
		d := float64(y) - refs[i]
		if x > loSat && x < hiSat && d <= actAbsTol && d >= -actAbsTol { // false for NaN
			if d = math.Abs(d); d > maxErr {
				maxErr, worstX = d, x
			}
			continue
		}
		if x >= hiSat && y == s.hi || x <= loSat && y == s.lo {
			continue
		}
		st.failures++
		if len(st.first) < 8 {
			st.first = append(st.first, fmt.Sprintf("%v(%v [%#08x]) = %v, want %.9g", s.act, x, math.Float32bits(x), y, refs[i]))
		}
	}
	st.maxErr, st.worstX = maxErr, worstX
}

const (
	bothSigns = 1 << 31
	maxBits   = 0x7f7fffff // math.MaxFloat32
	infBits   = 0x7f800000
)

var signs = []uint32{0, bothSigns}

// tinyBits is 2^-10: below it both activations are their first Taylor terms to
// float32 precision (sigmoid = 0.5 + x/4, tanh = x), an approximation's range
// reduction and polynomial switches all lie above it, and yet the float32 bit
// patterns below it outnumber those above by eleven to one.
var tinyBits = math.Float32bits(0x1p-10)

// envExhaustive, set to 1, makes the activation test visit every float32 of the
// working range, tiny ones included: about 2.2e9 inputs per function, 50 s for
// sigmoid alone with three backends on the 2-core development machine (the default
// visits about 2.6e8 per function, 5 s).
const envExhaustive = "SIMDMLP_EXHAUSTIVE"

// activationRanges are the inputs of the activation test of s:
//   - every float32 with 2^-10 <= |x| <= span (every 63rd under -short: an odd stride,
//     so every residue of the low mantissa bits is still visited);
//   - every 61st float32 with |x| < 2^-10, +-0 and the subnormals included (every
//     pattern with SIMDMLP_EXHAUSTIVE=1; 61*63rd under -short);
//   - every float32 within a factor 1.25 of each saturation threshold that lies
//     outside the working range, and every 4099th of the rest up to MaxFloat32; Inf.
func activationRanges(s saturating) []bitRange {
	core, tiny := uint32(1), uint32(61)
	if os.Getenv(envExhaustive) == "1" {
		tiny = 1
	}
	if testing.Short() {
		core, tiny = 63, 61*63
	}
	span := math.Float32bits(s.span)
	rs := []bitRange{{0, tinyBits - 1, tiny, signs}, {tinyBits, span, core, signs}}
	loSat, hiSat, _, _ := s.thresholds()
	for _, th := range []float32{-loSat, hiSat} {
		if th > s.span {
			sign := uint32(0)
			if th == -loSat {
				sign = bothSigns
			}
			rs = append(rs, bitRange{math.Float32bits(th * 0.8), math.Float32bits(th * 1.25), core, []uint32{sign}})
		}
	}
	return append(rs,
		bitRange{span, maxBits, 4099 * core, signs},
		bitRange{maxBits, maxBits, 1, signs},
		bitRange{infBits, infBits, 1, signs},
	)
}

func TestSigmoidExhaustive(t *testing.T) {
	checkActivation(t, satSigmoid, activationRanges(satSigmoid))
}

func TestTanhExhaustive(t *testing.T) {
	checkActivation(t, satTanh, activationRanges(satTanh))
}
