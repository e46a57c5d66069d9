package kernels_test

import (
	"math"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// TestArgumentChecksPanic: arguments that describe memory outside the slices (or are
// meaningless) panic before anything is written, with the function's name and what
// was wrong in the message.
func TestArgumentChecksPanic(t *testing.T) {
	f := func(n int) []float32 { return make([]float32, n) }
	cases := []struct {
		name string
		call func(c []float32)
		want []string
	}{
		{"negative m", func(c []float32) { kernels.Sgemm(false, false, -1, 2, 2, 1, f(4), 2, f(4), 2, 0, c, 2) },
			[]string{"kernels.Sgemm", "negative dimension", "m=-1"}},
		{"short A", func(c []float32) { kernels.Sgemm(false, false, 2, 2, 3, 1, f(5), 3, f(6), 2, 0, c, 2) },
			[]string{"kernels.Sgemm", "A is 2x3", "needs 6 elements, got 5"}},
		{"short transposed B", func(c []float32) { kernels.Sgemm(false, true, 2, 3, 2, 1, f(4), 2, f(5), 2, 0, c, 3) },
			[]string{"kernels.Sgemm", "B is 3x2"}},
		{"small lda", func(c []float32) { kernels.Sgemm(true, false, 2, 2, 3, 1, f(9), 1, f(6), 2, 0, c, 2) },
			[]string{"kernels.Sgemm", "leading dimension of A is 1, want >= 2"}},
		{"small ldc", func(c []float32) { kernels.Sgemm(false, false, 2, 3, 1, 1, f(2), 1, f(3), 3, 0, c, 2) },
			[]string{"kernels.Sgemm", "leading dimension of C is 2, want >= 3"}},
		{"short C", func(c []float32) { kernels.Sgemm(false, false, 3, 3, 1, 1, f(3), 1, f(3), 3, 0, c[:8], 3) },
			[]string{"kernels.Sgemm", "C is 3x3", "got 8"}},
		{"ld overflowing (rows-1)*ld", func(c []float32) { kernels.AddBias(4, 3, c, 1<<62, f(3)) },
			[]string{"kernels.AddBias", "x is 4x3 with ld 4611686018427387904", "more elements than an int can count", "got 9"}},
		{"ldc overflowing", func(c []float32) { kernels.Sgemm(false, false, 9, 1, 1, 1, f(9), 1, f(1), 1, 0, c, math.MaxInt/4) },
			[]string{"kernels.Sgemm", "C is 9x1"}},
		{"AddBias short bias", func(c []float32) { kernels.AddBias(2, 3, c, 3, f(2)) },
			[]string{"kernels.AddBias", "bias has 2 elements, want at least 3"}},
		{"AddBias short x", func(c []float32) { kernels.AddBias(4, 3, c, 3, f(3)) },
			[]string{"kernels.AddBias", "x is 4x3"}},
		{"Activate short src", func(c []float32) { kernels.Activate(kernels.ReLU, c, f(3)) },
			[]string{"kernels.Activate", "src has 3 elements"}},
		{"Activate unknown", func(c []float32) { kernels.Activate(kernels.Activation(9), c, c) },
			[]string{"kernels.Activate", "unknown activation 9"}},
		{"ActivateGrad short y", func(c []float32) { kernels.ActivateGrad(kernels.Tanh, c, c, f(2)) },
			[]string{"kernels.ActivateGrad", "y has 2 elements"}},
		{"ColSums negative m", func(c []float32) { kernels.ColSums(-2, 3, c, 3, f(3)) },
			[]string{"kernels.ColSums", "negative size -2x3"}},
		{"ColSums short dst", func(c []float32) { kernels.ColSums(2, 3, f(6), 3, c[:2]) },
			[]string{"kernels.ColSums", "dst has 2 elements"}},
		{"softmax no classes", func(c []float32) { kernels.SoftmaxCrossEntropy(2, 0, c, 1, []int32{0, 0}, nil, 1, 1, nil) },
			[]string{"kernels.SoftmaxCrossEntropy", "n = 0"}},
		{"softmax short labels", func(c []float32) { kernels.SoftmaxCrossEntropy(3, 3, c, 3, []int32{0, 0}, nil, 3, 1, nil) },
			[]string{"kernels.SoftmaxCrossEntropy", "labels has 2 elements"}},
		{"softmax small ldg", func(c []float32) { kernels.SoftmaxCrossEntropy(2, 3, f(6), 3, []int32{0, 0}, c, 2, 1, nil) },
			[]string{"kernels.SoftmaxCrossEntropy", "leading dimension of grad is 2"}},
		{"softmax short rowLoss", func(c []float32) { kernels.SoftmaxCrossEntropy(2, 3, f(6), 3, []int32{0, 0}, nil, 3, 1, c[:1]) },
			[]string{"kernels.SoftmaxCrossEntropy", "rowLoss has 1 elements"}},
		{"SGD short g", func(c []float32) { kernels.SGD(c, f(3), 0.1) }, []string{"kernels.SGD", "g has 3 elements"}},
		{"Adam short v", func(c []float32) { kernels.Adam(c[:4], f(4), f(4), f(3), 1, 0.9, 0.999, 1e-7) },
			[]string{"kernels.Adam", "v has 3 elements, want at least 4"}},
		{"Adagrad short acc", func(c []float32) { kernels.Adagrad(c[:4], f(4), f(1), 1, 1e-7, true) },
			[]string{"kernels.Adagrad", "acc has 1 elements"}},
		{"RMSProp short s", func(c []float32) { kernels.RMSProp(c[:4], f(4), f(0), 1, 0.9, 1e-7, false) },
			[]string{"kernels.RMSProp", "s has 0 elements"}},
	}
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, tc := range cases {
			c := make([]float32, 9)
			for i := range c {
				c[i] = float32(math.Pi) * float32(i)
			}
			orig := append([]float32(nil), c...)
			msg := panicMessage(func() { tc.call(c) })
			if msg == "" {
				t.Fatalf("%s: no panic", tc.name)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("%s: panic %q does not say %q", tc.name, msg, w)
				}
			}
			for i := range c {
				if c[i] != orig[i] {
					t.Fatalf("%s: the output was written (element %d) before the panic", tc.name, i)
				}
			}
		}
	})
}
