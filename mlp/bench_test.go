package mlp

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

// BenchmarkTrainStep measures one training step (gather + forward + loss + backward +
// adam) of the report's final network, 784-600-200-10, per backend and batch size.
func BenchmarkTrainStep(b *testing.B) {
	data := mnistShaped(4096)
	prev := kernels.Backend()
	defer kernels.Use(prev)
	for _, name := range kernels.Backends() {
		if err := kernels.Use(name); err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for _, batch := range []int{32, 64, 128, 256, 512} {
				b.Run(fmt.Sprintf("b%d", batch), func(b *testing.B) {
					c := DefaultConfig()
					c.Batch = batch
					tr, err := NewTrainer(c, data, nil)
					if err != nil {
						b.Fatal(err)
					}
					order := tr.split.nextEpoch()
					steps := len(order) / batch
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						k := i % steps
						tr.step(order[k*batch : (k+1)*batch])
					}
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(sec, "s/step")
					b.ReportMetric(float64(batch)/sec, "samples/s")
				})
			}
		})
	}
}
