package kernels_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// matrixRows are the row counts of the matrix kernels' tests.
var matrixRows = []int{0, 1, 2, 3, 5, 17, 64}

// matrixCols are their column counts: every tail up to 70 and a few longer rows.
func matrixCols() []int {
	if testing.Short() {
		return []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 600}
	}
	return vecLens
}

// TestAddBias: one float32 addition per element, so the result must equal Go's
// float32 x + b exactly; padding, guards and the bias must be left alone.
func TestAddBias(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, m := range matrixRows {
			for _, n := range matrixCols() {
				for _, pad := range []int{0, 1, 7} {
					var x matBuf
					x.reset(m, n, max(n, 1)+pad, func(int, int) float32 { return float32(rng.NormFloat64()) })
					orig := append([]float32(nil), x.s...)
					bias := vecBuf(n, func(int) float32 { return float32(rng.NormFloat64()) })
					bias.save()
					kernels.AddBias(m, n, x.s, x.ld, bias.s)
					if err := x.checkOutside(); err != nil {
						t.Fatalf("AddBias m=%d n=%d ld=%d: x: %v", m, n, x.ld, err)
					}
					if err := bias.checkUnchanged(); err != nil {
						t.Fatalf("AddBias m=%d n=%d: bias (read-only): %v", m, n, err)
					}
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							if got, want := x.at(i, j), orig[i*x.ld+j]+bias.s[j]; got != want {
								t.Fatalf("AddBias m=%d n=%d ld=%d: x(%d,%d) = %v, want %v", m, n, x.ld, i, j, got, want)
							}
						}
					}
				}
			}
		}
	})
}

// TestColSums: dst[j] is the sum of column j, overwritten (dst starts as NaN). A sum
// of m float32 terms in any order is within (m-1)*eps32/2*sum|x| of the exact sum; the
// bound allows m*eps32*sum|x|. Integer data must give the exact sum.
func TestColSums(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, m := range append(matrixRows, 100) {
			for _, n := range matrixCols() {
				for _, ints := range []bool{false, true} {
					pad := (m + n) % 4
					var x matBuf
					x.reset(m, n, max(n, 1)+pad, func(int, int) float32 {
						if ints {
							return float32(rng.IntN(201) - 100)
						}
						return float32(rng.NormFloat64())
					})
					x.save()
					dst := vecBuf(n, func(int) float32 { return nan32 })
					kernels.ColSums(m, n, x.s, x.ld, dst.s)
					if err := x.checkUnchanged(); err != nil {
						t.Fatalf("ColSums m=%d n=%d: x (read-only): %v", m, n, err)
					}
					if err := dst.checkOutside(); err != nil {
						t.Fatalf("ColSums m=%d n=%d: dst: %v", m, n, err)
					}
					for j := 0; j < n; j++ {
						var sum, abs float64
						for i := 0; i < m; i++ {
							sum += float64(x.at(i, j))
							abs += math.Abs(float64(x.at(i, j)))
						}
						bound := float64(m) * eps32 * abs
						if ints {
							bound = 0
						}
						if got := float64(dst.s[j]); !(math.Abs(got-sum) <= bound) {
							t.Fatalf("ColSums m=%d n=%d ld=%d ints=%v: dst[%d] = %v, want %v (bound %.3g)", m, n, x.ld, ints, j, got, sum, bound)
						}
					}
				}
			}
		}
	})
}
