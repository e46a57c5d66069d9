package kernels_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// gradBound is how far ActivateGrad may be from the float64 reference, for the
// forms the API documents: relu is exact; sigmoid's dy*y*(1-y) is three roundings
// (1-y is exact for y >= 1/2 and well conditioned below), so 4*eps32 relative; tanh's
// dy*(1-y*y) cancels near |y| = 1, where the rounding of y*y (half an ulp of y^2,
// absent with a fused multiply-add) dominates: eps32/2*y^2*|dy| plus 4*eps32 relative.
// A tiny absolute term covers results in the subnormal range.
func gradBound(act kernels.Activation, dy, y, want float64) float64 {
	const tiny = 0x1p-140
	switch act {
	case kernels.Sigmoid:
		return 4*eps32*math.Abs(want) + tiny
	case kernels.Tanh:
		return eps32/2*y*y*math.Abs(dy) + 4*eps32*math.Abs(want) + tiny
	}
	return 0
}

// gradYs are special outputs: the limits, zeros, NaN (relu's gradient is 0 there,
// since NaN > 0 is false), and values next to the limits where 1-y and 1-y*y cancel.
var gradYs = []float32{0, negZ, 1, -1, 0.5, nan32, math.SmallestNonzeroFloat32, 1 - 0x1p-24, -1 + 0x1p-24, 0.999, -0.999, 1e-20, 3}

func TestActivateGrad(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, act := range activations {
			for _, n := range vecLens {
				for _, inPlace := range []bool{false, true} {
					y := vecBuf(n, func(i int) float32 {
						if i%5 == 4 {
							return gradYs[(i/5+n)%len(gradYs)]
						}
						return float32(actRef(int(act), rng.NormFloat64()*4))
					})
					dy := vecBuf(n, func(int) float32 { return rng.Float32()*4 - 2 })
					want := make([]float64, n)
					for i := range want {
						want[i] = actGradRef(int(act), float64(dy.s[i]), float64(y.s[i]))
					}
					y.save()
					dx := dy
					if !inPlace {
						dy.save()
						dx = vecBuf(n, func(int) float32 { return nan32 })
					}
					dys := make([]float64, n)
					for i := range dys {
						dys[i] = float64(dy.s[i])
					}
					kernels.ActivateGrad(act, dx.s, dy.s, y.s)
					if err := dx.checkOutside(); err != nil {
						t.Fatalf("ActivateGrad(%v) n=%d in place=%v: dx: %v", act, n, inPlace, err)
					}
					if err := y.checkUnchanged(); err != nil {
						t.Fatalf("ActivateGrad(%v) n=%d: y (read-only): %v", act, n, err)
					}
					if !inPlace {
						if err := dy.checkUnchanged(); err != nil {
							t.Fatalf("ActivateGrad(%v) n=%d: dy (read-only): %v", act, n, err)
						}
					}
					for i, w := range want {
						got, yi := float64(dx.s[i]), float64(y.s[i])
						if math.IsNaN(w) {
							if !math.IsNaN(got) {
								t.Fatalf("ActivateGrad(%v) n=%d element %d: dy=%v y=%v: got %v, want NaN", act, n, i, dys[i], yi, got)
							}
							continue
						}
						if b := gradBound(act, dys[i], yi, w); !(math.Abs(got-w) <= b) {
							t.Fatalf("ActivateGrad(%v) n=%d in place=%v element %d: dy=%v y=%v: got %v, want %v (bound %.3g)",
								act, n, inPlace, i, dys[i], yi, got, w, b)
						}
					}
				}
			}
		}
	})
}
