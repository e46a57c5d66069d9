//go:build arm64 && !purego && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The NEON SGEMM driver chooses, per operand, between reading panels in place and
// packing them, and blocks m, n and k. The backend-agnostic suite reaches only the
// choices its shapes imply (m <= 49 always takes the small-M path), so these tests
// run plans with tiny blocks (every boundary crossed by small matrices) and with each
// in-place/packed choice forced, on small-integer data for which float32 arithmetic
// is exact: the result must equal the float64 reference bit for bit.

// gemmRef64 is C = alpha*op(A)*op(B) + beta*C in float64 (beta == 0 ignores C).
func gemmRef64(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			s *= float64(alpha)
			if beta != 0 {
				s += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

// guarded is a matrix inside a larger buffer: 8 guard floats on each side and the
// padding of every row past its columns hold a sentinel that must survive.
type guarded struct {
	buf            []float32
	m              []float32 // the slice handed to Sgemm: exactly (rows-1)*ld+cols long
	rows, cols, ld int
	sentinel       float32
}

const guardLen = 8

func newGuarded(rows, cols, ld int, sentinel float32, rng *rand.Rand) *guarded {
	need := 0
	if rows > 0 && cols > 0 {
		need = (rows-1)*ld + cols
	}
	g := &guarded{buf: make([]float32, need+2*guardLen), rows: rows, cols: cols, ld: ld, sentinel: sentinel}
	for i := range g.buf {
		g.buf[i] = sentinel
	}
	g.m = g.buf[guardLen : guardLen+need : guardLen+need]
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			g.m[i*ld+j] = float32(rng.IntN(9) - 4)
		}
	}
	return g
}

// checkOutside reports the first element outside the matrix that lost its sentinel.
func (g *guarded) checkOutside() error {
	for i, v := range g.buf {
		o := i - guardLen
		inside := o >= 0 && o < len(g.m) && o%g.ld < g.cols
		same := v == g.sentinel || (v != v && g.sentinel != g.sentinel)
		if !inside && !same {
			return fmt.Errorf("element %d outside the matrix (offset %d) changed from %v to %v", i, o, g.sentinel, v)
		}
	}
	return nil
}

func TestNEONGemmPathsExact(t *testing.T) {
	plans := []struct {
		name string
		g    *neonGemm
	}{
		{"tiny-blocks-direct", &neonGemm{mc: 16, kc: 5, nc: 24, directBMaxM: 1 << 30, pool: make(chan *neonWorkspace, 1)}},
		{"tiny-blocks-packed", &neonGemm{mc: 16, kc: 5, nc: 24, directBMaxM: 0, pool: make(chan *neonWorkspace, 1)}},
		{"default", neonGemmPlan},
	}
	ms := []int{1, 7, 8, 9, 16, 17, 33}
	ns := []int{1, 11, 12, 13, 24, 25, 37}
	ks := []int{1, 4, 5, 6, 11}
	alphas := []float32{1, -0.5, 2}
	betas := []float32{0, 1, -0.5}
	rng := rand.New(rand.NewPCG(1, 2))
	nan := float32(math.NaN())
	cases := 0
	for _, pl := range plans {
		idx := 0
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, m := range ms {
					for _, n := range ns {
						for _, k := range ks {
							idx++
							if testing.Short() && idx%3 != 0 {
								continue
							}
							alpha, beta := alphas[idx%3], betas[(idx/3)%3]
							// Leading dimensions: tight, padded, and (every fourth case) a
							// multiple of 128 floats, which the driver packs instead of
							// reading in place.
							pad := idx % 3
							ar, ac := m, k
							if tA {
								ar, ac = k, m
							}
							br, bc := k, n
							if tB {
								br, bc = n, k
							}
							lda, ldb, ldc := ac+pad, bc+2*pad, n+pad
							if idx%4 == 0 {
								lda, ldb = 128, 256
							}
							ga := newGuarded(ar, ac, lda, nan, rng)
							gb := newGuarded(br, bc, ldb, nan, rng)
							gc := newGuarded(m, n, ldc, -7, rng)
							if beta == 0 { // must not be read
								for i := 0; i < m; i++ {
									for j := 0; j < n; j++ {
										gc.m[i*ldc+j] = nan
									}
								}
							}
							want := gemmRef64(tA, tB, m, n, k, alpha, ga.m, lda, gb.m, ldb, beta, gc.m, ldc)
							pl.g.sgemm(tA, tB, m, n, k, alpha, ga.m, lda, gb.m, ldb, beta, gc.m, ldc)
							where := fmt.Sprintf("%s: transA=%v transB=%v m=%d n=%d k=%d alpha=%v beta=%v lda=%d ldb=%d ldc=%d",
								pl.name, tA, tB, m, n, k, alpha, beta, lda, ldb, ldc)
							for i := 0; i < m; i++ {
								for j := 0; j < n; j++ {
									if got := gc.m[i*ldc+j]; float64(got) != want[i*n+j] {
										t.Fatalf("%s: C[%d][%d] = %v, want %v", where, i, j, got, want[i*n+j])
									}
								}
							}
							for name, g := range map[string]*guarded{"A": ga, "B": gb, "C": gc} {
								if err := g.checkOutside(); err != nil {
									t.Fatalf("%s: %s: %v", where, name, err)
								}
							}
							cases++
						}
					}
				}
			}
		}
	}
	t.Logf("backend neon: %d GEMM cases exact, on plans with tiny blocks (in place and packed) and the default plan", cases)
}

// TestNEONGemmNoAllocs: after the first call has made a workspace, calls allocate
// nothing, on both the small-M (in place) and the packed paths.
func TestNEONGemmNoAllocs(t *testing.T) {
	m, n, k := 200, 50, 40
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
		lda, ldb := k, n
		if tr[0] {
			lda = m
		}
		if tr[1] {
			ldb = k
		}
		allocs := testing.AllocsPerRun(5, func() {
			neonGemmPlan.sgemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c, n)
		})
		if allocs != 0 {
			t.Errorf("transA=%v transB=%v: %v allocations per call, want 0", tr[0], tr[1], allocs)
		}
	}
}

// TestNEONPackTrans checks the transposing panel copies against their definition for
// every k up to 13 (the 4-step blocks and every tail), with padded rows whose
// padding and the slots around dst must not be touched.
func TestNEONPackTrans(t *testing.T) {
	for _, w := range []int{8, 12} {
		pack := map[int]func(dst, src *float32, ld, k int){8: packTrans8NEON, 12: packTrans12NEON}[w]
		for k := 1; k <= 13; k++ {
			ld := k + 3
			src := make([]float32, (w-1)*ld+k)
			for i := range src {
				src[i] = float32(i)
			}
			buf := make([]float32, w*k+2*guardLen)
			for i := range buf {
				buf[i] = -1
			}
			pack(&buf[guardLen], &src[0], ld, k)
			for i, v := range buf {
				o := i - guardLen
				want := float32(-1)
				if o >= 0 && o < w*k {
					p, j := o/w, o%w
					want = src[j*ld+p]
				}
				if v != want {
					t.Fatalf("w=%d k=%d: dst[%d] = %v, want %v", w, k, o, v, want)
				}
			}
		}
	}
}
