package mlp

import (
	"github.com/simdmlp/simdmlp/kernels"
)

// network is the model and every buffer a forward and backward pass needs, sized once
// for batches of up to maxBatch rows. Layer l (0 = first hidden layer, L = the softmax
// layer) maps sizes[l] inputs to sizes[l+1] outputs with weights W[l], a sizes[l] x
// sizes[l+1] row-major matrix (Keras's kernel layout), and bias B[l].
//
// All parameters live in one slice (and all gradients in another) in the order
// W[0], B[0], W[1], B[1], ..., so an optimizer step is one kernel call over the whole
// model and a weight snapshot is one copy.
type network struct {
	sizes    []int
	acts     []kernels.Activation // per layer; the softmax layer's is Identity (logits)
	maxBatch int

	params, grads []float32
	w, b          [][]float32 // views into params
	gw, gb        [][]float32 // views into grads

	x       []float32   // input batch, maxBatch x sizes[0]
	labels  []int32     // the batch's labels
	out     [][]float32 // out[l]: layer l's output (after its activation), maxBatch x sizes[l+1]
	delta   [][]float32 // delta[l]: d(mean loss)/d(layer l's pre-activation), same shape as out[l]
	rowLoss []float32

	// pool computes the kernels (nil: on the calling goroutine alone). The bits are
	// the same either way.
	pool *kernels.Pool
}

func newNetwork(features, classes int, hidden []Layer, maxBatch int) *network {
	L := len(hidden)
	n := &network{maxBatch: maxBatch}
	n.sizes = append(n.sizes, features)
	for _, h := range hidden {
		n.sizes = append(n.sizes, h.Width)
		n.acts = append(n.acts, h.Act)
	}
	n.sizes = append(n.sizes, classes)
	n.acts = append(n.acts, kernels.Identity)

	total := 0
	for l := 0; l <= L; l++ {
		total += n.sizes[l]*n.sizes[l+1] + n.sizes[l+1]
	}
	n.params = make([]float32, total)
	n.grads = make([]float32, total)
	off := 0
	for l := 0; l <= L; l++ {
		in, out := n.sizes[l], n.sizes[l+1]
		n.w = append(n.w, n.params[off:off+in*out:off+in*out])
		n.gw = append(n.gw, n.grads[off:off+in*out:off+in*out])
		off += in * out
		n.b = append(n.b, n.params[off:off+out:off+out])
		n.gb = append(n.gb, n.grads[off:off+out:off+out])
		off += out
		n.out = append(n.out, make([]float32, maxBatch*out))
		n.delta = append(n.delta, make([]float32, maxBatch*out))
	}
	n.x = make([]float32, maxBatch*features)
	n.labels = make([]int32, maxBatch)
	n.rowLoss = make([]float32, maxBatch)
	return n
}

func (n *network) layers() int { return len(n.w) }

// forward computes every layer's output for the first m rows of n.x; the last layer's
// output is the logits. Each layer is one fused call: the product, the bias and the
// activation (the same bits as the three separate kernels).
func (n *network) forward(m int) {
	in := n.x
	for l := range n.w {
		k, c := n.sizes[l], n.sizes[l+1]
		z := n.out[l][:m*c]
		n.pool.SgemmBiasAct(false, false, m, c, k, in, k, n.w[l], c, n.b[l], n.acts[l], z, c)
		in = z
	}
}

// loss evaluates the softmax cross-entropy of the logits of the first m rows against
// n.labels. It returns the sum of the m row losses and the number of rows classified
// correctly; when withGrad it also writes d(mean loss)/d(logits) into the last delta.
func (n *network) loss(m int, withGrad bool) (sum float64, correct int) {
	L := n.layers() - 1
	c := n.sizes[L+1]
	var grad []float32
	if withGrad {
		grad = n.delta[L]
	}
	correct = n.pool.SoftmaxCrossEntropy(m, c, n.out[L], c, n.labels, grad, c, 1/float32(m), n.rowLoss)
	for _, v := range n.rowLoss[:m] {
		sum += float64(v)
	}
	return sum, correct
}

// backward fills n.grads from the last delta written by loss (the gradient of the mean
// loss over the m rows). The first layer's input gradient is never computed: nothing
// consumes it.
func (n *network) backward(m int) {
	for l := n.layers() - 1; l >= 0; l-- {
		k, c := n.sizes[l], n.sizes[l+1]
		in := n.x
		if l > 0 {
			in = n.out[l-1]
		}
		d := n.delta[l][:m*c]
		// dW = in^T * delta (k x c); db = column sums of delta.
		n.pool.Sgemm(true, false, k, c, m, 1, in, k, d, c, 0, n.gw[l], c)
		n.pool.ColSums(m, c, d, c, n.gb[l])
		if l == 0 {
			break
		}
		// delta[l-1] = (delta * W^T) . f'(out[l-1]), f' written in terms of the output.
		prev := n.delta[l-1][:m*k]
		n.pool.Sgemm(false, true, m, k, c, 1, d, c, n.w[l], c, 0, prev, k)
		n.pool.ActivateGrad(n.acts[l-1], prev, prev, n.out[l-1][:m*k])
	}
}
