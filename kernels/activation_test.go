package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

var activations = []kernels.Activation{kernels.Identity, kernels.ReLU, kernels.Sigmoid, kernels.Tanh}

// vecLens are the vector lengths of the elementwise tests: every length up to 70
// (every tail modulo 16 and 32, in one, two and three vectors), lengths around the
// larger unrolls, and long vectors with every kind of tail.
var vecLens = func() []int {
	var ns []int
	for n := 0; n <= 70; n++ {
		ns = append(ns, n)
	}
	return append(ns, 95, 96, 97, 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025, 4099)
}()

var (
	nan32  = float32(math.NaN())
	inf32  = float32(math.Inf(1))
	negNaN = math.Float32frombits(0xffc00000)
	sNaN   = math.Float32frombits(0x7f800001)
	negZ   = float32(math.Copysign(0, -1))
)

// activationSpecials are the inputs whose results are fixed exactly (NaN, infinities,
// zeros) or sit where approximations break (the float32 exp overflow near +-88.7,
// subnormals, huge values).
var activationSpecials = []float32{
	nan32, negNaN, sNaN, inf32, -inf32, 0, negZ,
	math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
	minNormal32, -minNormal32, 1, -1, 0.5, -0.5,
	88.72, -88.72, 89, -89, 100, -100, 104, -104, 105, -105, 1e30, -1e30, 17, 18.5, -17, 9.5, -9.5,
}

// activationWant checks y = act(x) for any input: NaN in gives NaN out; the
// identity copies bits; relu is exact (the sign of a zero result is unspecified, as
// the API documents); sigmoid and tanh are exact at 0 and beyond their saturation
// thresholds, and within actAbsTol of the reference elsewhere.
func activationWant(act kernels.Activation, x, y float32) error {
	bad := func() error {
		return fmt.Errorf("%v(%v [%#08x]) = %v [%#08x]", act, x, math.Float32bits(x), y, math.Float32bits(y))
	}
	if x != x {
		if y == y {
			return bad()
		}
		return nil
	}
	switch act {
	case kernels.Identity:
		if math.Float32bits(x) != math.Float32bits(y) {
			return bad()
		}
	case kernels.ReLU:
		if want := max(x, 0); y != want {
			return bad()
		}
	case kernels.Sigmoid, kernels.Tanh:
		s := satSigmoid
		if act == kernels.Tanh {
			s = satTanh
		}
		loSat, hiSat, _, _ := s.thresholds()
		switch {
		case x == 0:
			if y != float32(s.ref(0)) { // 0.5, or a zero of either sign
				return bad()
			}
		case x >= hiSat:
			if y != s.hi {
				return bad()
			}
		case x <= loSat:
			if y != s.lo {
				return bad()
			}
		default:
			if d := math.Abs(float64(y) - s.ref(float64(x))); !(d <= actAbsTol) {
				return fmt.Errorf("%v, want %.9g", bad(), s.ref(float64(x)))
			}
		}
	}
	return nil
}

// TestActivateSpecialValues puts every special value in every lane position (the
// specials rotate by one per length) of every vector length, into a separate
// destination and in place, with guard bands.
func TestActivateSpecialValues(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, act := range activations {
			for _, n := range vecLens {
				for _, inPlace := range []bool{false, true} {
					src := vecBuf(n, func(i int) float32 { return activationSpecials[(i+n)%len(activationSpecials)] })
					want := append([]float32(nil), src.s...)
					dst := src
					if !inPlace {
						src.save()
						dst = vecBuf(n, func(int) float32 { return 12345 })
					}
					kernels.Activate(act, dst.s, src.s)
					if err := dst.checkOutside(); err != nil {
						t.Fatalf("Activate(%v) n=%d in place=%v: dst: %v", act, n, inPlace, err)
					}
					if !inPlace {
						if err := src.checkUnchanged(); err != nil {
							t.Fatalf("Activate(%v) n=%d: src (read-only): %v", act, n, err)
						}
					}
					for i, x := range want {
						if err := activationWant(act, x, dst.s[i]); err != nil {
							t.Fatalf("Activate n=%d in place=%v, element %d: %v", n, inPlace, i, err)
						}
					}
				}
			}
		}
	})
}

// TestActivateRandom compares every activation with the reference on random inputs
// spanning the working range, for every length, with a longer src than dst (only
// len(dst) elements are used).
func TestActivateRandom(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, act := range activations {
			for _, n := range vecLens {
				src := vecBuf(n+3, func(int) float32 { return float32(rng.NormFloat64() * 8) })
				dst := vecBuf(n, func(int) float32 { return nan32 })
				kernels.Activate(act, dst.s, src.s)
				if err := dst.checkOutside(); err != nil {
					t.Fatalf("Activate(%v) n=%d: dst: %v", act, n, err)
				}
				for i := 0; i < n; i++ {
					if err := activationWant(act, src.s[i], dst.s[i]); err != nil {
						t.Fatalf("Activate n=%d element %d: %v", n, i, err)
					}
				}
			}
		}
	})
}

// TestActivateSaturationPoints checks, from the float64 reference alone, that the
// documented limits hold where the brief expects them: sigmoid is 1 from about 17.3
// and 0 from about -104 (the last subnormal), tanh is +-1 from about 9.01.
func TestActivateSaturationPoints(t *testing.T) {
	for _, c := range []struct {
		s          saturating
		lo, hi     float32 // the correctly rounded thresholds lie in [lo, hi]
		loNeg, hiN float32
	}{
		{satSigmoid, 17.3, 17.4, -104.1, -103.9},
		{satTanh, 9.0, 9.02, -9.02, -9.0},
	} {
		_, _, loR, hiR := c.s.thresholds()
		if hiR < c.lo || hiR > c.hi || loR < c.loNeg || loR > c.hiN {
			t.Errorf("%v: reference rounds to its limits from %v and %v, want within [%v, %v] and [%v, %v]",
				c.s.act, loR, hiR, c.loNeg, c.hiN, c.lo, c.hi)
		}
		// Just below the rounding threshold the reference is not yet the limit.
		below := math.Nextafter32(hiR, 0)
		if float32(c.s.ref(float64(below))) == c.s.hi {
			t.Errorf("%v(%v) rounds to the limit already", c.s.act, below)
		}
	}
}
