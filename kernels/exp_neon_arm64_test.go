//go:build arm64 && !purego && !noasm

package kernels

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
)

// expULPBound is the accuracy of the NEON vector exp (asm/neon/exp.go) wherever its
// result is a normal float32: at most 2 ulps from math.Exp. The sigmoid, tanh and
// softmax kernels are built on it.
const expULPBound = 2

// ulpsOff returns |got - want| in units of the float32 spacing at want (the spacing
// of the binade holding want, so just above a power of two the smaller one).
func ulpsOff(got float32, want float64) float64 {
	_, e := math.Frexp(want) // want = f * 2^e, 0.5 <= f < 1: spacing 2^(e-24)
	return math.Abs(float64(got)-want) / math.Ldexp(1, e-24)
}

// expRange bounds, from the float64 reference alone: the largest float32 whose
// exp rounds to a finite float32, and the smallest whose exp is at least 2^-126.
func expRange() (lo, hi float32) {
	bisect := func(ok func(x float32) bool, neg bool) float32 {
		sign := uint32(0)
		if neg {
			sign = 1 << 31
		}
		a, b := uint32(0), uint32(0x7f800000) // ok(a), !ok(b)
		for b-a > 1 {
			mid := a + (b-a)/2
			if ok(math.Float32frombits(mid | sign)) {
				a = mid
			} else {
				b = mid
			}
		}
		return math.Float32frombits(a | sign)
	}
	hi = bisect(func(x float32) bool { return !math.IsInf(float64(float32(math.Exp(float64(x)))), 1) }, false)
	lo = bisect(func(x float32) bool { return math.Exp(float64(x)) >= 0x1p-126 }, true)
	return lo, hi
}

// TestNEONExpAccuracy runs expNEON over every float32 x with 2^-10 <= |x| in [lo, hi],
// the range where exp is a normal float32, and every 61st float32 below 2^-10 in
// magnitude (there exp(x) = 1+x to float32 precision, and those patterns outnumber
// the rest ten to one); under -short every 63rd and every 61*63rd (odd strides, so all
// residues of the low mantissa bits still occur). It checks the 2-ulp bound; beyond
// the range the result must be +Inf above hi and 0 below lo (subnormal results are
// flushed: see exp.go); NaN stays NaN. The full run takes about three minutes under
// qemu.
func TestNEONExpAccuracy(t *testing.T) {
	lo, hi := expRange()
	tinyStride, coreStride := uint32(61), uint32(1)
	if testing.Short() {
		tinyStride, coreStride = 61*63, 63
	}
	tinyBits := math.Float32bits(0x1p-10)
	type result struct {
		n       int64
		maxULP  float64
		worst   float32
		fails   int64
		example string
	}
	check := func(from, to, stride, sign uint32, res *result) {
		const chunk = 1 << 14
		xs, ys := make([]float32, 0, chunk), make([]float32, chunk)
		flush := func() {
			expNEON(ys[:len(xs)], xs)
			for i, x := range xs {
				y, want := ys[i], math.Exp(float64(x))
				res.n++
				var bad bool
				switch {
				case x > hi:
					bad = !math.IsInf(float64(y), 1)
				case x < lo:
					bad = y != 0
				default:
					u := ulpsOff(y, want)
					if u > res.maxULP {
						res.maxULP, res.worst = u, x
					}
					bad = !(u <= expULPBound)
				}
				if bad {
					res.fails++
					if res.example == "" {
						res.example = fmt.Sprintf("exp(%v [%#08x]) = %v, want %.9g", x, math.Float32bits(x), y, want)
					}
				}
			}
			xs = xs[:0]
		}
		for u := uint64(from); u <= uint64(to); u += uint64(stride) {
			xs = append(xs, math.Float32frombits(uint32(u)|sign))
			if len(xs) == chunk {
				flush()
			}
		}
		flush()
	}
	// Work split: positive and negative magnitudes, each cut into pieces spread over
	// the CPUs; magnitudes go a little beyond the range on each side.
	type piece struct{ from, to, stride, sign uint32 }
	var pieces []piece
	for _, side := range []struct {
		end  float32
		sign uint32
	}{{hi * 1.01, 0}, {-lo * 1.01, 1 << 31}} {
		pieces = append(pieces, piece{0, tinyBits - 1, tinyStride, side.sign})
		end := math.Float32bits(side.end)
		const parts = 16
		step := (end - tinyBits) / parts
		for p := uint32(0); p < parts; p++ {
			from, to := tinyBits+p*step, tinyBits+(p+1)*step-1
			if p == parts-1 {
				to = end
			}
			pieces = append(pieces, piece{from, to, coreStride, side.sign})
		}
	}
	results := make([]result, len(pieces))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, p := range pieces {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			check(p.from, p.to, p.stride, p.sign, &results[i])
		}()
	}
	wg.Wait()
	var total result
	for _, r := range results {
		total.n += r.n
		total.fails += r.fails
		if r.maxULP > total.maxULP {
			total.maxULP, total.worst = r.maxULP, r.worst
		}
		if total.example == "" {
			total.example = r.example
		}
	}
	t.Logf("backend neon: exp over %d inputs (strides %d below 2^-10, %d above) in [%v, %v]: max error %.3f ulp at x = %v (bound %d); %d failures",
		total.n, tinyStride, coreStride, lo, hi, total.maxULP, total.worst, expULPBound, total.fails)
	if total.fails > 0 {
		t.Errorf("%d inputs out of bounds, first: %s", total.fails, total.example)
	}
	specials := []struct{ x, want float32 }{
		{float32(math.Inf(1)), float32(math.Inf(1))}, {float32(math.Inf(-1)), 0},
		{0, 1}, {float32(math.Copysign(0, -1)), 1}, {math.MaxFloat32, float32(math.Inf(1))}, {-math.MaxFloat32, 0},
	}
	for _, s := range specials {
		y := make([]float32, 1)
		expNEON(y, []float32{s.x})
		if y[0] != s.want {
			t.Errorf("exp(%v) = %v, want %v", s.x, y[0], s.want)
		}
	}
	y := make([]float32, 5)
	expNEON(y, []float32{float32(math.NaN()), 1, float32(math.NaN()), 2, float32(math.NaN())})
	if y[0] == y[0] || y[2] == y[2] || y[4] == y[4] {
		t.Errorf("exp(NaN) = %v, want NaN (lanes 0, 2, 4 of %v)", y[0], y)
	}
}
