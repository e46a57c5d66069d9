package kernels_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// TestSgemmBiasActMatchesComposition: on every backend, SgemmBiasAct gives the bits
// of Sgemm (alpha 1, beta 0) + AddBias + Activate over each row (a zero may differ
// in sign, as Activate allows), for every activation, with and without bias, every
// transpose, small shapes with every tail, the trainer's shapes and padded leading
// dimensions; C's prior contents (NaN here) never leak; elements outside C are
// untouched.
func TestSgemmBiasActMatchesComposition(t *testing.T) {
	type shape struct {
		tA, tB  bool
		m, n, k int
		pad     int
	}
	var shapes []shape
	for i, tr := range transposes {
		for m := 1; m <= 17; m += 4 {
			for n := 1; n <= 70; n += 3 {
				shapes = append(shapes, shape{tr[0], tr[1], m, n, 1 + (m*n)%37, (i + n) % 3})
			}
		}
	}
	for _, s := range poolGemmShapes(testing.Short()) {
		shapes = append(shapes, shape{s.tA, s.tB, s.m, s.n, s.k, s.pad})
	}
	forEachBackend(t, func(t testing.TB, _ string) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, s := range shapes {
			ar, ac, br, bc := s.m, s.k, s.k, s.n
			if s.tA {
				ar, ac = s.k, s.m
			}
			if s.tB {
				br, bc = s.n, s.k
			}
			lda, ldb, ldc := ac+s.pad, bc+s.pad, s.n+s.pad
			a, b := mixedSlice(rng, matSize(ar, ac, lda)), mixedSlice(rng, matSize(br, bc, ldb))
			bias := mixedSlice(rng, s.n)
			want, got := make([]float32, matSize(s.m, s.n, ldc)), make([]float32, matSize(s.m, s.n, ldc))
			for _, act := range activations {
				for _, withBias := range []bool{true, false} {
					var bb []float32
					if withBias {
						bb = bias
					}
					for i := range want {
						want[i] = float32(i) // outside C: must stay
						got[i] = want[i]
						if i%ldc < s.n {
							got[i] = float32(math.NaN())
						}
					}
					kernels.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, want, ldc)
					for i := 0; i < s.m; i++ {
						row := want[i*ldc : i*ldc+s.n]
						if withBias {
							kernels.AddBias(1, s.n, row, s.n, bias)
						}
						kernels.Activate(act, row, row)
					}
					kernels.SgemmBiasAct(s.tA, s.tB, s.m, s.n, s.k, a, lda, b, ldb, bb, act, got, ldc)
					if j, ok := sameBits(got, want, true); !ok {
						t.Fatalf("%s %dx%dx%d pad %d, %v, bias %v: element (%d, %d) is %g, want %g from Sgemm+AddBias+Activate",
							transName(s.tA, s.tB), s.m, s.n, s.k, s.pad, act, withBias, j/ldc, j%ldc, got[j], want[j])
					}
				}
			}
		}
	})
}

// TestSgemmBiasActReference checks one layer against a float64 computation of
// act(x*w + b), so that the fused form is right, not just consistent.
func TestSgemmBiasActReference(t *testing.T) {
	const m, n, k = 13, 37, 50
	rng := rand.New(rand.NewPCG(8, 9))
	x, w, bias := randSlice(rng, m*k, -1, 1), randSlice(rng, k*n, -1, 1), randSlice(rng, n, -1, 1)
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, act := range activations {
			c := make([]float32, m*n)
			kernels.SgemmBiasAct(false, false, m, n, k, x, k, w, n, bias, act, c, n)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					s := float64(bias[j])
					for p := 0; p < k; p++ {
						s += float64(x[i*k+p]) * float64(w[p*n+j])
					}
					ref := actRef(int(act), s)
					if d := math.Abs(float64(c[i*n+j]) - ref); d > 1e-5*(1+math.Abs(ref)) {
						t.Fatalf("%v: C[%d][%d] = %g, want %g (float64)", act, i, j, c[i*n+j], ref)
					}
				}
			}
		}
	})
}
