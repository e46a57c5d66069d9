package mlp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// refLoss is the reference: the mean softmax cross-entropy of a dense network computed
// in float64 from scratch (no kernels), with the same parameter layout as network.
func refLoss(sizes []int, acts []kernels.Activation, params []float64, x []float64, labels []int32, m int) (loss float64, pre [][]float64) {
	in := x
	off := 0
	for l := 0; l+1 < len(sizes); l++ {
		k, c := sizes[l], sizes[l+1]
		w := params[off : off+k*c]
		b := params[off+k*c : off+k*c+c]
		off += k*c + c
		z := make([]float64, m*c)
		for i := 0; i < m; i++ {
			for j := 0; j < c; j++ {
				s := b[j]
				for p := 0; p < k; p++ {
					s += in[i*k+p] * w[p*c+j]
				}
				z[i*c+j] = s
			}
		}
		pre = append(pre, append([]float64(nil), z...))
		for i := range z {
			switch acts[l] {
			case kernels.ReLU:
				z[i] = math.Max(z[i], 0)
			case kernels.Sigmoid:
				z[i] = 1 / (1 + math.Exp(-z[i]))
			case kernels.Tanh:
				z[i] = math.Tanh(z[i])
			case kernels.Identity:
			default:
				panic("refLoss: activation")
			}
		}
		in = z
	}
	c := sizes[len(sizes)-1]
	for i := 0; i < m; i++ {
		row := in[i*c : i*c+c]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - mx)
		}
		loss += math.Log(s) + mx - row[labels[i]]
	}
	return loss / float64(m), pre
}

// TestGradientsFiniteDifferences checks every weight and bias gradient of a 7-5-4-3
// network, for every pair of hidden activations, against float64 central differences
// of the float64 reference loss. The batch (4 rows) is smaller than the buffers (6
// rows), so the mean is over the partial batch's own size.
func TestGradientsFiniteDifferences(t *testing.T) {
	acts := []kernels.Activation{kernels.ReLU, kernels.Sigmoid, kernels.Tanh}
	forEachBackend(t, func(t *testing.T) {
		for _, a1 := range acts {
			for _, a2 := range acts {
				t.Run(fmt.Sprintf("%v-%v", a1, a2), func(t *testing.T) {
					checkGradients(t, []Layer{{Width: 5, Act: a1}, {Width: 4, Act: a2}}, 7, 3, 4, 6)
				})
			}
		}
		t.Run("no-hidden", func(t *testing.T) { checkGradients(t, nil, 7, 3, 4, 6) })
		t.Run("three-hidden", func(t *testing.T) {
			checkGradients(t, []Layer{{Width: 6, Act: kernels.Tanh}, {Width: 5, Act: kernels.ReLU}, {Width: 4, Act: kernels.Sigmoid}}, 7, 3, 5, 5)
		})
	})
}

func checkGradients(t *testing.T, hidden []Layer, features, classes, m, maxBatch int) {
	n := newNetwork(features, classes, hidden, maxBatch)
	const h = 1e-6
	// Draw random parameters (biases too, so their gradients matter) and inputs until
	// the instance is usable: no ReLU pre-activation within 1e-3 of the kink (a
	// difference quotient straddling it measures nothing) and no layer whose weight or
	// bias gradient is all zero (the check would be vacuous for it).
	var p64, x64 []float64
	for seed := uint64(1); ; seed++ {
		if seed > 50 {
			t.Fatal("no usable random instance in 50 seeds")
		}
		rng := rand.New(rand.NewPCG(seed, 11))
		for i := range n.params {
			n.params[i] = float32(2*rng.Float64() - 1)
		}
		for i := range n.x {
			n.x[i] = float32(rng.Float64())
		}
		for i := range n.labels {
			n.labels[i] = int32(rng.IntN(classes))
		}
		n.forward(m)
		n.loss(m, true)
		n.backward(m)
		p64 = make([]float64, len(n.params))
		for i, v := range n.params {
			p64[i] = float64(v)
		}
		x64 = make([]float64, m*features)
		for i := range x64 {
			x64[i] = float64(n.x[i])
		}
		_, pre := refLoss(n.sizes, n.acts, p64, x64, n.labels, m)
		if usable(n, pre) {
			break
		}
	}
	bad := 0
	for i := range p64 {
		orig := p64[i]
		p64[i] = orig + h
		fp, _ := refLoss(n.sizes, n.acts, p64, x64, n.labels, m)
		p64[i] = orig - h
		fm, _ := refLoss(n.sizes, n.acts, p64, x64, n.labels, m)
		p64[i] = orig
		fd := (fp - fm) / (2 * h)
		g := float64(n.grads[i])
		if !gradClose(g, fd) {
			bad++
			if bad <= 5 {
				t.Errorf("param %d (%s): gradient %.8g, finite difference %.8g", i, paramName(n, i), g, fd)
			}
		}
	}
}

func usable(n *network, pre [][]float64) bool {
	for l, z := range pre[:len(pre)-1] {
		if n.acts[l] != kernels.ReLU {
			continue
		}
		for _, v := range z {
			if math.Abs(v) < 1e-3 {
				return false
			}
		}
	}
	for l := range n.gw {
		if norm(n.gw[l]) < 1e-3 || norm(n.gb[l]) < 1e-3 {
			return false
		}
	}
	return true
}

// gradClose is the comparison: float32 accumulation against float64 differences.
func gradClose(g, fd float64) bool {
	return math.Abs(g-fd) <= 1e-4*math.Abs(fd)+2e-6
}

func TestGradCloseDetectsErrors(t *testing.T) {
	// The tolerance must reject a gradient 1% off, or a scaling bug (e.g. sum instead
	// of mean) could hide in it.
	for _, fd := range []float64{1e-3, 0.05, 0.7} {
		if gradClose(fd*1.01, fd) {
			t.Errorf("gradClose accepts a 1%% error at %g", fd)
		}
	}
}

func paramName(n *network, i int) string {
	off := 0
	for l := range n.w {
		if i < off+len(n.w[l]) {
			r := (i - off) / n.sizes[l+1]
			return fmt.Sprintf("W%d[%d][%d]", l, r, (i-off)%n.sizes[l+1])
		}
		off += len(n.w[l])
		if i < off+len(n.b[l]) {
			return fmt.Sprintf("b%d[%d]", l, i-off)
		}
		off += len(n.b[l])
	}
	return "?"
}

func norm(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}
