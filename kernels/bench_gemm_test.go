package kernels_test

// GEMM benchmarks over the shapes one training step of the final model runs (a
// 784-600-200-10 network) at batch 64 and 512, plus 1024^3. Each reports GFLOP/s and
// %peak, the fraction of the backend's FMA peak measured in this process
// (kernels.PeakGFLOPS, see peak_test.go), from wall-clock time, and the same from the
// benchmark thread's CPU time (GFLOP/s-cpu, %peak-cpu; Linux), which leaves out the
// time other processes held the core on a shared machine. The _cold variants of the batch-64 shapes
// cycle through enough distinct operand sets (at least 8, at least 8 MB in all, 8
// times the L2 cache) that every call starts with its operands out of L2, as inside
// an epoch, where each layer's GEMM follows other layers' work.

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

type gemmShape struct {
	op      string // NN, TN (A^T*B) or NT (A*B^T)
	m, n, k int
	cold    bool // also benchmark a cold variant
}

func (s gemmShape) name() string { return fmt.Sprintf("m%dn%dk%d", s.m, s.n, s.k) }

func (s gemmShape) trans() (transA, transB bool) { return s.op[0] == 'T', s.op[1] == 'T' }

// gemmBenchShapes: forward (NN: X*W), weight gradient (TN: X^T*dY) and input
// gradient (NT: dY*W^T) of each layer, at batch 64 and 512, and the square 1024^3.
func gemmBenchShapes() []gemmShape {
	var s []gemmShape
	for _, batch := range []int{64, 512} {
		cold := batch == 64
		s = append(s,
			gemmShape{"NN", batch, 600, 784, cold},
			gemmShape{"NN", batch, 200, 600, cold},
			gemmShape{"NN", batch, 10, 200, cold},
			gemmShape{"TN", 784, 600, batch, cold},
			gemmShape{"TN", 600, 200, batch, cold},
			gemmShape{"TN", 200, 10, batch, cold},
			gemmShape{"NT", batch, 600, 200, cold},
			gemmShape{"NT", batch, 200, 10, cold},
		)
	}
	return append(s, gemmShape{"NN", 1024, 1024, 1024, false})
}

// gemmOperands is one set of A, B, C for a shape, with tight leading dimensions.
type gemmOperands struct {
	a, b, c       []float32
	lda, ldb, ldc int
}

func newGemmOperands(s gemmShape, rng *rand.Rand) gemmOperands {
	transA, transB := s.trans()
	o := gemmOperands{a: make([]float32, s.m*s.k), b: make([]float32, s.k*s.n), c: make([]float32, s.m*s.n),
		lda: s.k, ldb: s.n, ldc: s.n}
	if transA {
		o.lda = s.m
	}
	if transB {
		o.ldb = s.k
	}
	for _, x := range [][]float32{o.a, o.b, o.c} {
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
	}
	return o
}

func (o *gemmOperands) run(s gemmShape) {
	transA, transB := s.trans()
	kernels.Sgemm(transA, transB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
}

// coldSets is how many operand sets the cold variant of s cycles through.
func coldSets(s gemmShape) int {
	bytes := 4 * (s.m*s.k + s.k*s.n + s.m*s.n)
	return max(8, (8<<20+bytes-1)/bytes)
}

func BenchmarkSgemm(b *testing.B) {
	shapes := gemmBenchShapes()
	forEachBackend(b, func(tb testing.TB, backend string) {
		b := tb.(*testing.B)
		peak := kernels.PeakGFLOPS(backend)
		for _, s := range shapes {
			variants := []bool{false}
			if s.cold {
				variants = append(variants, true)
			}
			for _, cold := range variants {
				name := s.op + "/" + s.name()
				if cold {
					name += "_cold"
				}
				b.Run(name, func(b *testing.B) {
					rng := rand.New(rand.NewPCG(1, 2))
					sets := make([]gemmOperands, 1)
					if cold {
						sets = make([]gemmOperands, coldSets(s))
					}
					for i := range sets {
						sets[i] = newGemmOperands(s, rng)
					}
					sets[0].run(s) // warm up the workspace pool
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					cpu0, cpuOK := kernels.ThreadCPUNanos()
					i := 0
					for b.Loop() {
						sets[i].run(s)
						if i++; i == len(sets) {
							i = 0
						}
					}
					cpu1, _ := kernels.ThreadCPUNanos()
					flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
					gflops := flops / float64(b.Elapsed().Nanoseconds())
					b.ReportMetric(gflops, "GFLOP/s")
					if peak > 0 {
						b.ReportMetric(100*gflops/peak, "%peak")
					}
					if cpuOK && cpu1 > cpu0 {
						cpuGflops := flops / float64(cpu1-cpu0)
						b.ReportMetric(cpuGflops, "GFLOP/s-cpu")
						if peak > 0 {
							b.ReportMetric(100*cpuGflops/peak, "%peak-cpu")
						}
					}
				})
			}
		}
	})
}

// TestSgemmBenchShapesAllocs checks that every benchmarked shape allocates nothing
// once warm, on every backend.
func TestSgemmBenchShapesAllocs(t *testing.T) {
	forEachBackend(t, func(tb testing.TB, backend string) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, s := range gemmBenchShapes() {
			if testing.Short() && s.m*s.n*s.k > 1<<26 {
				continue
			}
			o := newGemmOperands(s, rng)
			// Averaged over 4 calls (AllocsPerRun divides and truncates): a real per-call
			// allocation still shows as >= 1, a single stray one from the runtime does not.
			if n := testing.AllocsPerRun(4, func() { o.run(s) }); n != 0 {
				tb.Errorf("%s %s: %v allocations per call, want 0", s.op, s.name(), n)
			}
		}
	})
}
