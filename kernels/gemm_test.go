package kernels_test

import (
	"math"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// Sizes. A register tile is at most 16 rows x 32 columns, so M in 0..49 and N in
// 0..97 cover zero, one, two and three whole tiles plus every remainder, for every
// tile up to that size. The K values sit on both sides of the unroll factors and of
// the cache-blocking sizes (powers of two up to 512).
const (
	maxM = 49
	maxN = 97
)

var (
	gemmKsSweep = []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257}
	gemmKsLarge = []int{300, 511, 512, 513}
	gemmAlphas  = []float32{1, -0.5, 0}
	gemmBetas   = []float32{0, 1, 0.7}
	gemmPads    = []int{0, 1, 3, 16}
)

// alphaBeta picks one of the nine (alpha, beta) pairs from an index, so that sweeps
// cycle through all of them.
func alphaBeta(i int) (alpha, beta float32) {
	return gemmAlphas[i%3], gemmBetas[(i/3)%3]
}

// newCase fills a gemmCase from a running index that varies the scalars, the padding
// and the kind of data, so neighbouring shapes differ in all of them.
func newCase(tA, tB bool, m, n, k, idx int) gemmCase {
	alpha, beta := alphaBeta(idx)
	return gemmCase{
		tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		padA: gemmPads[idx%4], padB: gemmPads[(idx/4)%4], padC: gemmPads[(idx+1)%4],
		ints: idx%2 == 0, seed: uint64(idx),
	}
}

// TestSgemmAllSmallShapes checks every M in 0..49 against every N in 0..97 (under
// -short: each M with two N, still every N) for small K, every transpose.
func TestSgemmAllSmallShapes(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		var g gemmTester
		idx := 0
		for _, tr := range transposes {
			for m := 0; m <= maxM; m++ {
				ns := []int{}
				if testing.Short() {
					for _, n := range []int{2 * m, 2*m + 1, maxN - m} {
						if n <= maxN {
							ns = append(ns, n)
						}
					}
				} else {
					for n := 0; n <= maxN; n++ {
						ns = append(ns, n)
					}
				}
				for _, n := range ns {
					for _, k := range []int{1, 9} {
						g.check(t, newCase(tr[0], tr[1], m, n, k, idx))
						idx++
					}
				}
			}
		}
	})
}

// TestSgemmKSweep checks every K up to 257 (under -short: up to 129) with every M
// paired with some N and every N paired with some M, the partners changing with K.
func TestSgemmKSweep(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		var g gemmTester
		idx := 0
		for ki, k := range gemmKsSweep {
			if testing.Short() && k > 129 {
				break
			}
			for _, tr := range transposes {
				if testing.Short() {
					// Six shapes per K and transpose, spread over M and N.
					for s := 0; s < 6; s++ {
						m, n := (ki*7+s*11)%(maxM+1), (ki*13+s*37+tr2i(tr)*5)%(maxN+1)
						g.check(t, newCase(tr[0], tr[1], m, n, k, idx))
						idx++
					}
					continue
				}
				for m := 0; m <= maxM; m++ {
					g.check(t, newCase(tr[0], tr[1], m, (3*m+7*ki+1)%(maxN+1), k, idx))
					idx++
				}
				for n := 0; n <= maxN; n++ {
					g.check(t, newCase(tr[0], tr[1], (5*n+3*ki)%(maxM+1), n, k, idx))
					idx++
				}
			}
		}
	})
}

func tr2i(tr [2]bool) int { return 2*b2i(tr[0]) + b2i(tr[1]) }

// TestSgemmLargeK crosses the K blocking of a packed GEMM (kc 256 or 512) on a few
// shapes with one, several and partial tiles.
func TestSgemmLargeK(t *testing.T) {
	shapes := [][2]int{{1, 1}, {1, 97}, {49, 1}, {16, 32}, {17, 33}, {33, 65}, {49, 97}}
	ks := append([]int{255, 256, 257}, gemmKsLarge...)
	if testing.Short() {
		shapes, ks = [][2]int{{17, 33}}, []int{300, 513}
	}
	forEachBackend(t, func(t testing.TB, _ string) {
		var g gemmTester
		idx := 0
		for _, k := range ks {
			for _, sh := range shapes {
				for _, tr := range transposes {
					g.check(t, newCase(tr[0], tr[1], sh[0], sh[1], k, idx))
					idx++
				}
			}
		}
	})
}

// mlpShapes are the products the trainer computes for the report's 784-600-200-10
// network: forward X*W (NN), weight gradient X^T*dZ (TN), input gradient dZ*W^T (NT).
func mlpShapes(batch int) []gemmCase {
	layers := [][2]int{{784, 600}, {600, 200}, {200, 10}}
	var cs []gemmCase
	for li, l := range layers {
		in, out := l[0], l[1]
		cs = append(cs,
			gemmCase{m: batch, n: out, k: in},
			gemmCase{tA: true, m: in, n: out, k: batch},
		)
		if li > 0 { // no gradient for the input images
			cs = append(cs, gemmCase{tB: true, m: batch, n: in, k: out})
		}
	}
	return cs
}

// TestSgemmMLPShapes checks the trainer's real products at batch 64 and 512, with
// beta 0 (forward, gradients) and 1 (accumulation), random data. For the batch-512
// products only 40 rows of C, covering every residue modulo 16 and the last rows, are
// compared (the float64 reference dominates the run time).
func TestSgemmMLPShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("the realistic shapes take seconds; the tails they exercise are covered by the small-shape sweeps")
	}
	forEachBackend(t, func(t testing.TB, _ string) {
		var g gemmTester
		for _, batch := range []int{64, 512} {
			for i, c := range mlpShapes(batch) {
				c.alpha, c.beta, c.seed = 1, float32(i%2), uint64(batch+i)
				if c.m*c.n*c.k > 64*600*784 {
					c.rows = sampleRows(c.m)
				}
				g.check(t, c)
			}
		}
	})
}

// sampleRows returns rows 0..15, the last 24 rows and a few between: every residue of
// the row index modulo 16, both edges of any row blocking, in 40 rows.
func sampleRows(m int) []int {
	var rows []int
	for i := 0; i < 16; i++ {
		rows = append(rows, i)
	}
	for i := m / 3; i < m/3+3; i++ {
		rows = append(rows, i)
	}
	for i := m - 24; i < m; i++ {
		rows = append(rows, i)
	}
	return rows
}

// TestSgemmKZero: with k = 0 the product is empty and C becomes beta*C; A and B may be
// nil (or hold NaN) and are not read.
func TestSgemmKZero(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		var g gemmTester
		idx := 0
		for _, tr := range transposes {
			for _, mn := range [][2]int{{1, 1}, {3, 70}, {17, 33}, {49, 97}} {
				for ab := 0; ab < 9; ab++ {
					c := newCase(tr[0], tr[1], mn[0], mn[1], 0, ab)
					c.seed = uint64(idx)
					g.check(t, c)
					idx++
				}
				// nil A and B.
				var c matBuf
				c.reset(mn[0], mn[1], mn[1]+2, func(i, j int) float32 { return float32(i - j) })
				lda, ldb := 1, mn[1]
				if tr[0] {
					lda = mn[0]
				}
				if tr[1] {
					ldb = 1
				}
				kernels.Sgemm(tr[0], tr[1], mn[0], mn[1], 0, 1, nil, lda, nil, ldb, -2, c.s, c.ld)
				if err := c.checkOutside(); err != nil {
					t.Fatalf("Sgemm %s k=0 with nil A, B: C: %v", transName(tr[0], tr[1]), err)
				}
				for i := 0; i < mn[0]; i++ {
					for j := 0; j < mn[1]; j++ {
						if got, want := c.at(i, j), -2*float32(i-j); got != want {
							t.Fatalf("Sgemm %s k=0 with nil A, B, beta=-2: C(%d,%d) = %v, want %v", transName(tr[0], tr[1]), i, j, got, want)
						}
					}
				}
			}
		}
	})
}

// TestSgemmEmptyLeavesCAlone: with m or n zero nothing is read or written.
func TestSgemmEmptyLeavesCAlone(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, tr := range transposes {
			for _, mn := range [][2]int{{0, 0}, {0, 5}, {5, 0}} {
				c := vecBuf(4, func(int) float32 { return 7 })
				c.save()
				a := vecBuf(64, func(int) float32 { return float32(math.NaN()) })
				kernels.Sgemm(tr[0], tr[1], mn[0], mn[1], 3, 1, a.s, 8, a.s, 8, 0, c.s[:0], max(mn[1], 1))
				if err := c.checkUnchanged(); err != nil {
					t.Fatalf("Sgemm %s m=%d n=%d: %v", transName(tr[0], tr[1]), mn[0], mn[1], err)
				}
			}
		}
	})
}

// TestSgemmPropagatesNaNAndInf: NaN or Inf in A or B reaches exactly the elements of C
// whose dot products include it, as IEEE arithmetic says (0*Inf is NaN, and a zero in
// the other operand does not excuse a NaN), on every path including tails.
func TestSgemmPropagatesNaNAndInf(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		var ref gemmRef
		specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
		for _, tr := range transposes {
			for _, sh := range [][3]int{{5, 7, 3}, {17, 33, 9}, {49, 97, 17}} {
				m, n, k := sh[0], sh[1], sh[2]
				for s, sp := range specials {
					ar, ac, br, bc := m, k, k, n
					if tr[0] {
						ar, ac = k, m
					}
					if tr[1] {
						br, bc = n, k
					}
					var a, b, c matBuf
					// Mostly zeros, so that a kernel skipping zero multipliers is caught,
					// with one special in A and one in B at shape-dependent places.
					a.reset(ar, ac, ac, func(i, j int) float32 { return float32((i + j + s) % 3) })
					b.reset(br, bc, bc+1, func(i, j int) float32 { return float32((i*j + s) % 2) })
					a.s[(ar/2)*ac+ac-1] = sp
					b.s[(br-1)*b.ld+bc/3] = sp
					c.reset(m, n, n, func(int, int) float32 { return 1 })
					want, _ := ref.run(tr[0], tr[1], m, n, k, 1, a.s, a.ld, b.s, b.ld, 0, c.s, c.ld, nil)
					kernels.Sgemm(tr[0], tr[1], m, n, k, 1, a.s, a.ld, b.s, b.ld, 0, c.s, c.ld)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							if got := float64(c.at(i, j)); !closeTo(got, want[i*n+j], 0) {
								t.Fatalf("Sgemm %s %dx%dx%d with %v in A and B: C(%d,%d) = %v, want %v",
									transName(tr[0], tr[1]), m, n, k, sp, i, j, got, want[i*n+j])
							}
						}
					}
				}
			}
		}
	})
}
