package kernels_test

// Elementwise benchmarks, on every backend by name, at the sizes one training step
// of the final model (784-600-200-10) uses at batch 64 and 512, plus a few that stay
// in the L1/L2 caches. Each reports GB/s: the bytes the kernel must read and write
// (every operand once) per second, so the figures compare with the machine's memory
// and cache bandwidth. The optimizer updates run over a layer's parameters (784*600
// weights + 600 biases = 471,000) and over the whole model's 592,410, as the trainer
// does once per step.

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// reportGBs reports the bandwidth of b's loop, which moved bytes per iteration.
func reportGBs(b *testing.B, bytes int) {
	b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// benchBackends runs f as a sub-benchmark per backend, with that backend forced.
func benchBackends(b *testing.B, f func(b *testing.B)) {
	forEachBackend(b, func(tb testing.TB, _ string) { f(tb.(*testing.B)) })
}

func randSlice(rng *rand.Rand, n int, lo, hi float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = lo + (hi-lo)*rng.Float32()
	}
	return s
}

// batchShapes are the m x n activation matrices of the final model's layers at
// batch 64 and 512.
var batchShapes = [][2]int{{64, 600}, {64, 200}, {64, 10}, {512, 600}, {512, 200}, {512, 10}}

func BenchmarkAddBias(b *testing.B) {
	benchBackends(b, func(b *testing.B) {
		for _, s := range batchShapes {
			m, n := s[0], s[1]
			b.Run(fmt.Sprintf("m%dn%d", m, n), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				x, bias := randSlice(rng, m*n, -1, 1), randSlice(rng, n, -1, 1)
				b.ReportAllocs()
				for b.Loop() {
					kernels.AddBias(m, n, x, n, bias)
				}
				reportGBs(b, 8*m*n+4*n)
			})
		}
	})
}

func BenchmarkColSums(b *testing.B) {
	benchBackends(b, func(b *testing.B) {
		for _, s := range batchShapes {
			m, n := s[0], s[1]
			b.Run(fmt.Sprintf("m%dn%d", m, n), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				x, dst := randSlice(rng, m*n, -1, 1), make([]float32, n)
				b.ReportAllocs()
				for b.Loop() {
					kernels.ColSums(m, n, x, n, dst)
				}
				reportGBs(b, 4*m*n+4*n)
			})
		}
	})
}

// activationSizes: the hidden activations of batch 64 and 512, and two sizes that
// stay in L1 and L2.
var activationSizes = []int{1024, 64 * 200, 64 * 600, 512 * 600}

var benchActivations = []kernels.Activation{kernels.ReLU, kernels.Sigmoid, kernels.Tanh}

func BenchmarkActivate(b *testing.B) {
	benchBackends(b, func(b *testing.B) {
		for _, act := range benchActivations {
			for _, n := range activationSizes {
				b.Run(fmt.Sprintf("%v/n%d", act, n), func(b *testing.B) {
					rng := rand.New(rand.NewPCG(1, 2))
					src, dst := randSlice(rng, n, -6, 6), make([]float32, n)
					b.ReportAllocs()
					for b.Loop() {
						kernels.Activate(act, dst, src)
					}
					reportGBs(b, 8*n)
				})
			}
		}
	})
}

func BenchmarkActivateGrad(b *testing.B) {
	benchBackends(b, func(b *testing.B) {
		for _, act := range benchActivations {
			for _, n := range activationSizes {
				b.Run(fmt.Sprintf("%v/n%d", act, n), func(b *testing.B) {
					rng := rand.New(rand.NewPCG(1, 2))
					dy, y, dx := randSlice(rng, n, -1, 1), randSlice(rng, n, -1, 1), make([]float32, n)
					b.ReportAllocs()
					for b.Loop() {
						kernels.ActivateGrad(act, dx, dy, y)
					}
					reportGBs(b, 12*n)
				})
			}
		}
	})
}

// BenchmarkSoftmaxXent is the output layer's loss and gradient (10 classes) at batch
// 64 and 512, with the gradient and per-row loss the trainer asks for.
func BenchmarkSoftmaxXent(b *testing.B) {
	benchBackends(b, func(b *testing.B) {
		for _, m := range []int{64, 512} {
			const n = 10
			b.Run(fmt.Sprintf("m%dn%d", m, n), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				logits, grad, loss := randSlice(rng, m*n, -8, 8), make([]float32, m*n), make([]float32, m)
				labels := make([]int32, m)
				for i := range labels {
					labels[i] = int32(rng.IntN(n))
				}
				b.ReportAllocs()
				for b.Loop() {
					kernels.SoftmaxCrossEntropy(m, n, logits, n, labels, grad, n, 1/float32(m), loss)
				}
				reportGBs(b, 8*m*n+8*m)
			})
		}
	})
}

// optimizerSizes: a small layer in L1, the 600x200 layer, the first layer
// (784*600+600), the whole final model.
var optimizerSizes = []int{2010, 120200, 471000, 592410}

// benchOptimizer runs step over every optimizer size; bytesPer is the bytes each
// parameter moves per step (every slice read, the updated ones written back).
func benchOptimizer(b *testing.B, bytesPer int, step func(w, g, s1, s2 []float32)) {
	benchBackends(b, func(b *testing.B) {
		for _, n := range optimizerSizes {
			b.Run(fmt.Sprintf("n%d", n), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				w, g := randSlice(rng, n, -0.1, 0.1), randSlice(rng, n, -1e-3, 1e-3)
				s1, s2 := randSlice(rng, n, 0, 1e-4), randSlice(rng, n, 0, 1e-6)
				b.ReportAllocs()
				for b.Loop() {
					step(w, g, s1, s2)
				}
				reportGBs(b, bytesPer*n)
			})
		}
	})
}

func BenchmarkSGD(b *testing.B) {
	benchOptimizer(b, 12, func(w, g, _, _ []float32) { kernels.SGD(w, g, 0.01) })
}

func BenchmarkAdam(b *testing.B) {
	benchOptimizer(b, 28, func(w, g, m, v []float32) { kernels.Adam(w, g, m, v, 1e-3, 0.9, 0.999, 1e-7) })
}

func BenchmarkAdagrad(b *testing.B) {
	benchOptimizer(b, 20, func(w, g, acc, _ []float32) { kernels.Adagrad(w, g, acc, 1e-3, 1e-7, true) })
}

func BenchmarkRMSProp(b *testing.B) {
	benchOptimizer(b, 20, func(w, g, s, _ []float32) { kernels.RMSProp(w, g, s, 1e-3, 0.9, 1e-7, true) })
}

// BenchmarkAdamSubnormal is Adam over the whole model when every gradient is a
// subnormal number, so every step multiplies subnormals and produces subnormal
// moments (which the kernel then flushes): the worst case of the slow subnormal
// paths of x86 FPUs. Compare with BenchmarkAdam/<backend>/n592410.
func BenchmarkAdamSubnormal(b *testing.B) {
	benchBackends(b, func(b *testing.B) {
		const n = 592410
		b.Run(fmt.Sprintf("n%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			w, g := randSlice(rng, n, -0.1, 0.1), randSlice(rng, n, -1e-39, 1e-39)
			m, v := make([]float32, n), make([]float32, n)
			b.ReportAllocs()
			for b.Loop() {
				kernels.Adam(w, g, m, v, 1e-3, 0.9, 0.999, 1e-7)
			}
			reportGBs(b, 28*n)
		})
	})
}

// BenchmarkAdamDecaying is Adam over the whole model when every first moment is
// decaying (zero gradient) between 2^-126 and 2^-116, where lrT*m is subnormal: each
// weight whose gradient becomes zero spends some 65 steps there before its moment
// is flushed. The state is reset (untimed) before every step. Compare with
// BenchmarkAdam/<backend>/n592410.
func BenchmarkAdamDecaying(b *testing.B) {
	benchBackends(b, func(b *testing.B) {
		const n = 592410
		b.Run(fmt.Sprintf("n%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			w, g := randSlice(rng, n, -0.1, 0.1), make([]float32, n)
			m0, v0 := randSlice(rng, n, 2e-38, 1e-35), randSlice(rng, n, 0, 1e-6)
			m, v := make([]float32, n), make([]float32, n)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				copy(m, m0)
				copy(v, v0)
				b.StartTimer()
				kernels.Adam(w, g, m, v, 1e-3, 0.9, 0.999, 1e-7)
			}
			reportGBs(b, 28*n)
		})
	})
}
