package search

import (
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

// counter counts floating-point operations of a naive float64 implementation: every
// multiplication and every addition of a matrix product is one.
type counter struct{ n float64 }

// matmul returns a (m x k) times b (k x n), counting 2 flops per multiply-add.
func (c *counter) matmul(a, b []float64, m, k, n int) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				s += a[i*k+p] * b[p*n+j]
				c.n += 2
			}
			out[i*n+j] = s
		}
	}
	return out
}

func transpose(a []float64, r, cols int) []float64 {
	t := make([]float64, len(a))
	for i := range r {
		for j := range cols {
			t[j*r+i] = a[i*cols+j]
		}
	}
	return t
}

// naiveStep runs one sample forward and backward through dense layers of the given
// widths (weights only: biases, activations and the softmax are not matrix products),
// computing exactly the products backpropagation needs: every layer's weight gradient
// (x^T * dy) and the input gradient (dy * W^T) of every layer but the first.
func naiveStep(c *counter, dims []int, rng *rand.Rand) {
	acts := [][]float64{make([]float64, dims[0])}
	ws := make([][]float64, len(dims)-1)
	for l := 1; l < len(dims); l++ {
		ws[l-1] = make([]float64, dims[l-1]*dims[l])
		for i := range ws[l-1] {
			ws[l-1][i] = rng.Float64()
		}
		acts = append(acts, c.matmul(acts[l-1], ws[l-1], 1, dims[l-1], dims[l]))
	}
	dy := make([]float64, dims[len(dims)-1])
	for l := len(dims) - 1; l >= 1; l-- {
		c.matmul(transpose(acts[l-1], 1, dims[l-1]), dy, dims[l-1], 1, dims[l]) // dW = x^T dy
		if l > 1 {
			dy = c.matmul(dy, transpose(ws[l-1], dims[l-1], dims[l]), 1, dims[l], dims[l-1]) // dx = dy W^T
		}
	}
}

// The FLOP formulas agree with an operation count of a naive forward and backward pass.
func TestFLOPsMatchNaiveCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 40 {
		features, classes := 1+rng.IntN(30), 2+rng.IntN(9)
		var hidden []mlp.Layer
		dims := []int{features}
		for range rng.IntN(5) {
			w := 1 + rng.IntN(20)
			hidden = append(hidden, mlp.Layer{Width: w, Act: kernels.ReLU})
			dims = append(dims, w)
		}
		dims = append(dims, classes)
		var fwd, all counter
		// Forward alone.
		x := make([]float64, features)
		for l := 1; l < len(dims); l++ {
			x = fwd.matmul(x, make([]float64, dims[l-1]*dims[l]), 1, dims[l-1], dims[l])
		}
		naiveStep(&all, dims, rng)
		if got := ForwardFLOPs(features, classes, hidden); got != fwd.n {
			t.Errorf("trial %d dims %v: ForwardFLOPs %g, counted %g", trial, dims, got, fwd.n)
		}
		if got := TrainFLOPs(features, classes, hidden); got != all.n {
			t.Errorf("trial %d dims %v: TrainFLOPs %g, counted %g", trial, dims, got, all.n)
		}
	}
}

// An epoch is n_train training samples and n_val validation samples; a record's cost
// is its epochs run (not its kept epoch) times that.
func TestEpochAndRecordFLOPs(t *testing.T) {
	cfg := mlp.DefaultConfig()
	sh := Shape{Features: 784, Classes: 10, N: 60000}
	tr, fw := TrainFLOPs(784, 10, cfg.Hidden), ForwardFLOPs(784, 10, cfg.Hidden)
	if got, want := sh.EpochFLOPs(cfg), 54000*tr+6000*fw; got != want {
		t.Errorf("epoch: %g, want %g", got, want)
	}
	cfg.Split = 0.25
	if got, want := sh.EpochFLOPs(cfg), 45000*tr+15000*fw; got != want {
		t.Errorf("split 0.25: %g, want %g", got, want)
	}
	rec := harness.Record{Config: cfg, NTrain: 45000, NVal: 15000, Epochs: make([]harness.Epoch, 5), StopEpoch: 3}
	if got, want := RecordFLOPs(rec, 784, 10), 5*(45000*tr+15000*fw); got != want {
		t.Errorf("record of 5 epochs run, 3 kept: %g, want %g", got, want)
	}
}
