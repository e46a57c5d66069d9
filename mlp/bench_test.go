package mlp

// Trainer benchmarks: what a user of the trainer feels. Each runs once per backend
// and per thread count (1, and every CPU the process may use) and reports, beside
// the time, the matrix work's rate (GFLOP/s: forward 2*in*out per sample and layer,
// weight gradient 2*in*out, input gradient 2*in*out except for the first layer;
// validation is forward only) and %peak, that rate over the FMA peak of the same
// backend on the same number of threads measured in this process
// (kernels.MeasurePeak). Allocations are reported (zero per step and per epoch).
//
// The data are uint8 noise of MNIST's shape (784 pixels, 10 classes): the speed of a
// step does not depend on the values, except through subnormal numbers, which
// BenchmarkEpochDrift measures on the real MNIST.

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// mnistShaped is random data of MNIST's shape (784 features, 10 classes).
func mnistShaped(n int) *Data {
	rng := rand.New(rand.NewPCG(1, 1))
	d := &Data{N: n, Features: 784, Classes: 10, X: make([]uint8, n*784), Y: make([]uint8, n)}
	for i := range d.X {
		d.X[i] = uint8(rng.IntN(256))
	}
	for i := range d.Y {
		d.Y[i] = uint8(rng.IntN(10))
	}
	return d
}

// sampleFlops returns the matrix flops one sample costs in a training step and in a
// forward pass alone, for a network of the given layer sizes.
func sampleFlops(sizes []int) (train, forward float64) {
	for l := 0; l+1 < len(sizes); l++ {
		f := 2 * float64(sizes[l]) * float64(sizes[l+1])
		forward += f
		train += 2 * f // forward and weight gradient
		if l > 0 {
			train += f // input gradient
		}
	}
	return train, forward
}

// benchThreads are the thread counts the benchmarks run: 1 and every CPU.
func benchThreads() []int {
	if d := kernels.DefaultThreads(); d > 1 {
		return []int{1, d}
	}
	return []int{1}
}

// forEachBackendB runs f as a sub-benchmark per backend, with that backend forced.
func forEachBackendB(b *testing.B, f func(b *testing.B, backend string)) {
	prev := kernels.Backend()
	defer func() { _ = kernels.Use(prev) }()
	for _, name := range kernels.Backends() {
		if err := kernels.Use(name); err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) { f(b, name) })
	}
}

// reportRate reports the GFLOP/s of flops done in sec seconds and its %peak of peak
// (kernels.MeasurePeak, measured before the timed loop: it takes half a second).
func reportRate(b *testing.B, flops, sec, peak float64) {
	gflops := flops / sec / 1e9
	b.ReportMetric(gflops, "GFLOP/s")
	if peak > 0 {
		b.ReportMetric(100*gflops/peak, "%peak")
	}
}

// BenchmarkTrainStep measures one training step (gather + forward + loss + backward +
// adam) of the report's final network, 784-600-200-10.
func BenchmarkTrainStep(b *testing.B) {
	data := mnistShaped(4096)
	forEachBackendB(b, func(b *testing.B, backend string) {
		for _, batch := range []int{32, 64, 128, 256, 512} {
			for _, threads := range benchThreads() {
				b.Run(fmt.Sprintf("b%d/threads%d", batch, threads), func(b *testing.B) {
					c := DefaultConfig()
					c.Batch, c.Threads = batch, threads
					tr, err := NewTrainer(c, data, nil)
					if err != nil {
						b.Fatal(err)
					}
					order := tr.split.nextEpoch()
					steps := len(order) / batch
					tr.step(order[:batch]) // fill the GEMM workspace pools
					peak := kernels.MeasurePeak(backend, threads)
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						k := i % steps
						tr.step(order[k*batch : (k+1)*batch])
					}
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(sec, "s/step")
					b.ReportMetric(float64(batch)/sec, "samples/s")
					train, _ := sampleFlops(tr.net.sizes)
					reportRate(b, train*float64(batch), sec, peak)
				})
			}
		}
	})
}

// BenchmarkEpoch measures whole epochs of the final model (784-600-200-10, adam) on
// 60,000 samples split as the report does (54,000 trained on in 844 steps of 64 or
// 106 of 512, then 6,000 validated): Trainer.Run's work per epoch.
func BenchmarkEpoch(b *testing.B) {
	data := mnistShaped(60000)
	forEachBackendB(b, func(b *testing.B, backend string) {
		for _, threads := range benchThreads() {
			for _, batch := range []int{64, 512} {
				b.Run(fmt.Sprintf("threads%d/b%d", threads, batch), func(b *testing.B) {
					c := DefaultConfig()
					c.Batch, c.Threads = batch, threads
					tr, err := NewTrainer(c, data, nil)
					if err != nil {
						b.Fatal(err)
					}
					tr.step(tr.split.nextEpoch()[:batch]) // fill the GEMM workspace pools
					peak := kernels.MeasurePeak(backend, threads)
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := tr.epoch(i+1, nil); err != nil {
							b.Fatal(err)
						}
					}
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(sec, "s/epoch")
					train, fwd := sampleFlops(tr.net.sizes)
					reportRate(b, train*float64(tr.split.nTrain)+fwd*float64(tr.split.nVal), sec, peak)
				})
			}
		}
	})
}
