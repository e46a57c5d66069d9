package kernels_test

// Benchmarks of the Pool: the cost of one hand-off (a call split in two tiny parts),
// the optimizer update over the final model's 592,410 parameters in GB/s, and the
// trainer's GEMMs in GFLOP/s and %peak of the peak of the same number of threads
// (kernels.MeasurePeak), per backend and thread count.

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// poolThreads are the thread counts the Pool benchmarks run: 1 and the CPUs.
func poolThreads() []int {
	if d := kernels.DefaultThreads(); d > 1 {
		return []int{1, d}
	}
	return []int{1}
}

// BenchmarkPoolHandoff is the fixed cost of a split call: SGD on 128 floats split in
// two parts of 64 (the work itself is a few nanoseconds).
func BenchmarkPoolHandoff(b *testing.B) {
	defer kernels.SplitSmall()()
	p := kernels.NewPool(2)
	defer p.Close()
	w, g := make([]float32, 128), make([]float32, 128)
	b.ReportAllocs()
	for b.Loop() {
		p.SGD(w, g, 0)
	}
}

// BenchmarkPoolAdam is one Adam step over the final model's parameters.
func BenchmarkPoolAdam(b *testing.B) {
	const n = 592410
	benchBackends(b, func(b *testing.B) {
		for _, threads := range poolThreads() {
			b.Run(fmt.Sprintf("threads%d", threads), func(b *testing.B) {
				p := kernels.NewPool(threads)
				defer p.Close()
				rng := rand.New(rand.NewPCG(1, 2))
				w, g := randSlice(rng, n, -0.1, 0.1), randSlice(rng, n, -1e-3, 1e-3)
				m, v := randSlice(rng, n, -1e-4, 1e-4), randSlice(rng, n, 0, 1e-6)
				b.ReportAllocs()
				for b.Loop() {
					p.Adam(w, g, m, v, 1e-3, 0.9, 0.999, 1e-7)
				}
				reportGBs(b, 28*n)
			})
		}
	})
}

// BenchmarkPoolSgemm runs the trainer's batch-64 and batch-512 products on a Pool.
func BenchmarkPoolSgemm(b *testing.B) {
	forEachBackend(b, func(tb testing.TB, backend string) {
		b := tb.(*testing.B)
		for _, threads := range poolThreads() {
			peak := kernels.MeasurePeak(backend, threads)
			b.Run(fmt.Sprintf("threads%d", threads), func(b *testing.B) {
				p := kernels.NewPool(threads)
				defer p.Close()
				for _, s := range gemmBenchShapes() {
					if s.m*s.n*s.k > 1<<28 {
						continue
					}
					b.Run(s.op+"/"+s.name(), func(b *testing.B) {
						o := newGemmOperands(s, rand.New(rand.NewPCG(1, 2)))
						transA, transB := s.trans()
						run := func() {
							p.Sgemm(transA, transB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
						}
						run()
						b.ReportAllocs()
						for b.Loop() {
							run()
						}
						gflops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N) / float64(b.Elapsed().Nanoseconds())
						b.ReportMetric(gflops, "GFLOP/s")
						if peak > 0 {
							b.ReportMetric(100*gflops/peak, "%peak")
						}
					})
				}
			})
		}
	})
}
