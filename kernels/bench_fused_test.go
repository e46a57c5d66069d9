package kernels_test

import (
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// BenchmarkSgemmBiasAct measures a dense layer's forward pass (the final model's two
// hidden layers at batch 64 and the first at 512) three ways: the GEMM alone
// ("gemm"), SgemmBiasAct ("fused"), and the three separate calls Sgemm, AddBias,
// Activate ("separate"). fused - gemm is what the bias and the relu cost on top of
// the product; separate - fused what fusing saves.
func BenchmarkSgemmBiasAct(b *testing.B) {
	forEachBackend(b, func(tb testing.TB, _ string) {
		b := tb.(*testing.B)
		for _, s := range []gemmShape{{"NN", 64, 600, 784, false}, {"NN", 64, 200, 600, false}, {"NN", 512, 600, 784, false}} {
			m, n, k := s.m, s.n, s.k
			rng := rand.New(rand.NewPCG(1, 2))
			a, w, c, bias := randSlice(rng, m*k, -1, 1), randSlice(rng, k*n, -1, 1), make([]float32, m*n), randSlice(rng, n, -1, 1)
			runs := map[string]func(){
				"gemm": func() { kernels.Sgemm(false, false, m, n, k, 1, a, k, w, n, 0, c, n) },
				"fused": func() {
					kernels.SgemmBiasAct(false, false, m, n, k, a, k, w, n, bias, kernels.ReLU, c, n)
				},
				"separate": func() {
					kernels.Sgemm(false, false, m, n, k, 1, a, k, w, n, 0, c, n)
					kernels.AddBias(m, n, c, n, bias)
					kernels.Activate(kernels.ReLU, c, c)
				},
			}
			for _, name := range []string{"gemm", "fused", "separate"} {
				b.Run(s.name()+"/"+name, func(b *testing.B) {
					f := runs[name]
					f()
					b.ReportAllocs()
					for b.Loop() {
						f()
					}
					b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
				})
			}
		}
	})
}
