package mlp

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"runtime"
	"strconv"

	"github.com/simdmlp/simdmlp/kernels"
)

// Model is a trained network on its own: its architecture and its weights, with
// nothing of the training run (no gradients, optimizer state or data). It is what a
// program that embeds the core keeps, saves (Save, safetensors) and predicts with.
//
// Predict, PredictBatch and Evaluate may be called from many goroutines at once: the
// weights are only read, and every call takes its scratch buffers from a pool owned by
// the model. The weight slices returned by Weights are the model's own; changing them
// while a prediction runs is a data race.
type Model struct {
	sizes []int                // features, hidden widths..., classes
	acts  []kernels.Activation // per layer; the softmax layer's is Identity (logits)
	inits []Init               // per hidden layer, as trained (may be empty strings)

	params []float32   // all weights and biases, W[0], B[0], W[1], B[1], ...
	w, b   [][]float32 // views into params; w[l] is in x out, row-major

	// evalBatch is the number of rows Evaluate hands to the kernels per call: the
	// trainer's batch when the model comes from a Trainer (see Evaluate).
	evalBatch int
	// meta holds the metadata read from or written to a file beyond the architecture
	// (the training configuration, ...); reserved keys are never stored here.
	meta map[string]string

	// pool recycles Predictors between calls of Predict and PredictBatch. A buffered
	// channel rather than a sync.Pool: a garbage collection empties a sync.Pool, and a
	// prediction would then allocate.
	pool chan *Predictor
}

// Limits on the architecture, so that a corrupt or hostile file (or a typo) cannot
// ask for an absurd allocation: at most MaxLayers dense layers (the softmax layer
// included), at most MaxUnits units in all (inputs, hidden units and outputs: what the
// activation buffers hold per sample), at most MaxParams weights and biases.
const (
	MaxLayers = 64
	MaxUnits  = 1 << 20
	MaxParams = 1 << 28 // 1 GiB of float32
)

// DefaultEvalBatch is the number of rows per kernel call in Evaluate for a model
// that records no training batch size.
const DefaultEvalBatch = 64

// predictChunk is the most rows a Predictor computes per pass; PredictBatch walks
// longer batches in chunks of this size.
const predictChunk = 64

// NewModel returns a model of the given architecture (features inputs, the hidden
// layers, a softmax layer of classes outputs) with every weight and bias zero, to be
// filled through Weights: the way to bring in weights trained elsewhere. Layer.Init is
// recorded, not used. The architecture is checked against MaxLayers, MaxUnits and
// MaxParams; hidden activations must be relu, sigmoid or tanh.
func NewModel(features, classes int, hidden []Layer) (*Model, error) {
	return newModel(features, classes, hidden, true)
}

// newModel is NewModel; without alloc the weights are left for alloc, so a loader
// can check a file's size before allocating what its header claims.
func newModel(features, classes int, hidden []Layer, alloc bool) (*Model, error) {
	if features < 1 || features > MaxUnits {
		return nil, &FieldError{Field: "features", Want: fmt.Sprintf("1..%d", MaxUnits), Got: strconv.Itoa(features)}
	}
	if classes < 2 || classes > MaxUnits {
		return nil, &FieldError{Field: "classes", Want: fmt.Sprintf("2..%d", MaxUnits), Got: strconv.Itoa(classes)}
	}
	if len(hidden)+1 > MaxLayers {
		return nil, &FieldError{Field: "hidden", Want: fmt.Sprintf("at most %d layers", MaxLayers-1), Got: strconv.Itoa(len(hidden))}
	}
	m := &Model{evalBatch: DefaultEvalBatch, meta: map[string]string{}}
	m.sizes = append(m.sizes, features)
	units := features + classes
	for i, h := range hidden {
		if h.Width < 1 || h.Width > MaxUnits {
			return nil, &FieldError{Field: fmt.Sprintf("hidden[%d].width", i), Want: fmt.Sprintf("1..%d", MaxUnits), Got: strconv.Itoa(h.Width)}
		}
		if h.Act != kernels.ReLU && h.Act != kernels.Sigmoid && h.Act != kernels.Tanh {
			return nil, &FieldError{Field: fmt.Sprintf("hidden[%d].act", i), Want: "relu, sigmoid or tanh", Got: h.Act.String()}
		}
		m.sizes = append(m.sizes, h.Width)
		m.acts = append(m.acts, h.Act)
		m.inits = append(m.inits, h.Init)
		units += h.Width
	}
	m.sizes = append(m.sizes, classes)
	m.acts = append(m.acts, kernels.Identity)
	if units > MaxUnits {
		return nil, &FieldError{Field: "hidden", Want: fmt.Sprintf("at most %d units in all layers", MaxUnits), Got: fmt.Sprintf("%d (layers %v)", units, m.sizes)}
	}
	if _, ok := paramCount(m.sizes); !ok {
		return nil, &FieldError{Field: "hidden", Want: fmt.Sprintf("at most %d parameters", MaxParams), Got: fmt.Sprintf("more (layers %v)", m.sizes)}
	}
	if alloc {
		m.alloc()
	}
	m.pool = make(chan *Predictor, max(4, 2*runtime.GOMAXPROCS(0)))
	return m, nil
}

// paramCount returns the number of weights and biases of dense layers of the given
// sizes, and false when it exceeds MaxParams. Sizes are at most MaxUnits, so no
// product or partial sum overflows.
func paramCount(sizes []int) (int, bool) {
	total := 0
	for l := 0; l+1 < len(sizes); l++ {
		total += sizes[l]*sizes[l+1] + sizes[l+1]
		if total > MaxParams {
			return 0, false
		}
	}
	return total, true
}

// Model returns a copy of the trainer's current weights as a Model: after Run, the
// weights that were kept and measured (Result.StopEpoch's). The model records the
// normalized training configuration in its metadata and evaluates in batches of
// Config.Batch rows, as Run did, so Evaluate reproduces Run's test metrics exactly on
// the same backend.
func (t *Trainer) Model() *Model {
	n := t.net
	m, err := NewModel(n.sizes[0], n.sizes[len(n.sizes)-1], t.cfg.Hidden)
	if err != nil {
		// The trainer's configuration was validated and its buffers allocated.
		panic("mlp: Trainer.Model: " + err.Error())
	}
	copy(m.params, n.params)
	m.evalBatch = t.cfg.Batch
	if b, err := json.Marshal(t.cfg); err == nil {
		m.meta[MetaTrainConfig] = string(b)
	}
	return m
}

// Features returns the number of inputs of one sample.
func (m *Model) Features() int { return m.sizes[0] }

// Classes returns the number of outputs (classes of the softmax layer).
func (m *Model) Classes() int { return m.sizes[len(m.sizes)-1] }

// Hidden returns the hidden layers (width, activation, and the initializer they were
// trained from, when known).
func (m *Model) Hidden() []Layer {
	h := make([]Layer, len(m.acts)-1)
	for i := range h {
		h[i] = Layer{Width: m.sizes[i+1], Act: m.acts[i], Init: m.inits[i]}
	}
	return h
}

// Layers returns the number of dense layers, the softmax layer included.
func (m *Model) Layers() int { return len(m.w) }

// Params returns the number of weights and biases.
func (m *Model) Params() int { return len(m.params) }

// Weights returns layer l's weights and bias (0 <= l < Layers(); the last layer is
// the softmax layer) as the model's own slices: w is in x out, row-major (w[i*out+j]
// connects input i to unit j, Keras's kernel layout), so that a layer computes
// act(x*w + b). It panics if l is out of range.
func (m *Model) Weights(l int) (w, b []float32) {
	if l < 0 || l >= len(m.w) {
		panic(fmt.Sprintf("mlp: Model.Weights(%d): the model has layers 0..%d", l, len(m.w)-1))
	}
	return m.w[l], m.b[l]
}

// Metadata returns a copy of the model's metadata beyond its architecture: for a
// model from a Trainer, MetaTrainConfig; for a loaded model, every such key of the
// file.
func (m *Model) Metadata() map[string]string { return maps.Clone(m.meta) }

// String describes the architecture: "784-600 relu-200 relu-10 softmax".
func (m *Model) String() string {
	s := strconv.Itoa(m.sizes[0])
	for l := 1; l < len(m.sizes); l++ {
		act := "softmax"
		if l < len(m.sizes)-1 {
			act = m.acts[l-1].String()
		}
		s += "-" + strconv.Itoa(m.sizes[l]) + " " + act
	}
	return s
}

// Predictor is a reusable workspace for predictions with one model: PredictBatch
// through a Predictor allocates nothing. A Predictor is not safe for concurrent use;
// give each goroutine its own, or call the Model's methods, which take one from a pool.
type Predictor struct {
	m   *Model
	out [][]float32 // out[l]: layer l's output, predictChunk x sizes[l+1]
}

// NewPredictor returns a workspace for predicting with m.
func (m *Model) NewPredictor() *Predictor {
	p := &Predictor{m: m}
	for l := range m.w {
		p.out = append(p.out, make([]float32, predictChunk*m.sizes[l+1]))
	}
	return p
}

func (m *Model) getPredictor() *Predictor {
	select {
	case p := <-m.pool:
		return p
	default:
		return m.NewPredictor()
	}
}

func (m *Model) putPredictor(p *Predictor) {
	select {
	case m.pool <- p:
	default: // the pool is full: leave p to the garbage collector
	}
}

// Predict classifies one sample: x holds Features() inputs scaled as in training
// (pixel/255, see ScalePixels). It returns the most probable class (the first one,
// on a tie) and, when probs is not nil, writes the Classes() softmax probabilities
// into it. It allocates nothing and is safe for concurrent use.
func (m *Model) Predict(x, probs []float32) (int, error) {
	var class [1]int
	var p []float32
	if probs != nil {
		if len(probs) < m.Classes() {
			return 0, fmt.Errorf("mlp: Predict: probs has %d elements, want at least %d (classes)", len(probs), m.Classes())
		}
		p = probs[:m.Classes()]
	}
	if len(x) != m.Features() {
		return 0, fmt.Errorf("mlp: Predict: x has %d values, want %d (features)", len(x), m.Features())
	}
	pr := m.getPredictor()
	err := pr.PredictBatch(1, x, class[:], p)
	m.putPredictor(pr)
	return class[0], err
}

// PredictBatch classifies n samples: x holds n*Features() inputs, sample-major.
// classes (if not nil, at least n long) receives each sample's most probable class;
// probs (if not nil, at least n*Classes() long) its softmax probabilities. It
// allocates nothing and is safe for concurrent use.
func (m *Model) PredictBatch(n int, x []float32, classes []int, probs []float32) error {
	pr := m.getPredictor()
	err := pr.PredictBatch(n, x, classes, probs)
	m.putPredictor(pr)
	return err
}

// PredictBatch is Model.PredictBatch with this workspace.
func (p *Predictor) PredictBatch(n int, x []float32, classes []int, probs []float32) error {
	m := p.m
	f, c := m.Features(), m.Classes()
	switch {
	case n < 0:
		return fmt.Errorf("mlp: PredictBatch: n = %d samples, want >= 0", n)
	case n > len(x)/f || len(x) != n*f:
		return fmt.Errorf("mlp: PredictBatch: x has %d values, want n*features = %d*%d", len(x), n, f)
	case classes != nil && len(classes) < n:
		return fmt.Errorf("mlp: PredictBatch: classes has %d elements, want at least n = %d", len(classes), n)
	case probs != nil && len(probs)/c < n:
		return fmt.Errorf("mlp: PredictBatch: probs has %d elements, want at least n*classes = %d*%d", len(probs), n, c)
	}
	for lo := 0; lo < n; lo += predictChunk {
		rows := min(predictChunk, n-lo)
		logits := p.forward(rows, x[lo*f:(lo+rows)*f])
		for i := 0; i < rows; i++ {
			row := logits[i*c : (i+1)*c]
			if classes != nil {
				classes[lo+i] = argmax(row)
			}
			if probs != nil {
				softmax(probs[(lo+i)*c:(lo+i+1)*c], row)
			}
		}
	}
	return nil
}

// forward runs the network on rows samples of x (rows <= the workspace's capacity)
// and returns the logits, rows x Classes(). Each layer is one SgemmBiasAct (product,
// bias, activation), as in training.
func (p *Predictor) forward(rows int, x []float32) []float32 {
	m := p.m
	in := x
	for l := range m.w {
		k, c := m.sizes[l], m.sizes[l+1]
		z := p.out[l][:rows*c]
		kernels.SgemmBiasAct(false, false, rows, c, k, in, k, m.w[l], c, m.b[l], m.acts[l], z, c)
		in = z
	}
	return in
}

// argmax returns the index of the first largest value of row (NaN never wins).
func argmax(row []float32) int {
	best := 0
	for j, v := range row {
		if v > row[best] || row[best] != row[best] && v == v {
			best = j
		}
	}
	return best
}

// softmax writes the softmax of the logits row into dst, computed stably (the largest
// logit subtracted first) in float64 and rounded once to float32.
func softmax(dst, row []float32) {
	mx := row[argmax(row)]
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v - mx))
	}
	for j, v := range row {
		dst[j] = float32(math.Exp(float64(v-mx)) / sum)
	}
}

// ScalePixels writes pixel/255 for each pixel into x, the preprocessing the trainer
// applies (protocol.md), bit for bit; x must be at least as long as pix.
func ScalePixels(x []float32, pix []uint8) {
	x = x[:len(pix)]
	for i, p := range pix {
		x[i] = pixelScale[p]
	}
}

// Evaluation is a model's performance on a labelled data set.
type Evaluation struct {
	N        int     // samples
	Loss     float64 // mean cross-entropy
	Accuracy float64 // fraction whose most probable class is the label
	// Confusion[t][p] counts the samples of true class t predicted as class p.
	Confusion [][]int
}

// Precision returns the fraction of the samples predicted as class c that are of
// class c (NaN when none was predicted as c).
func (e *Evaluation) Precision(c int) float64 {
	pred := 0
	for t := range e.Confusion {
		pred += e.Confusion[t][c]
	}
	return float64(e.Confusion[c][c]) / float64(pred)
}

// Recall returns the fraction of the samples of class c predicted as c (NaN when the
// data has no sample of class c).
func (e *Evaluation) Recall(c int) float64 {
	n := 0
	for _, v := range e.Confusion[c] {
		n += v
	}
	return float64(e.Confusion[c][c]) / float64(n)
}

// Evaluate measures the model on d: mean loss, accuracy and the confusion matrix.
// The samples go to the kernels in batches of the training batch size when the model
// records it (a model from a Trainer, or a file it saved) and of DefaultEvalBatch
// otherwise: a backend may sum a row's dot products in an order that depends on how
// many rows one call holds, so the same batches give the trainer's test metrics bit
// for bit. The loss and the count of correct samples are computed exactly as the
// trainer computes them (kernels.SoftmaxCrossEntropy).
func (m *Model) Evaluate(d *Data) (*Evaluation, error) {
	if err := d.Validate("evaluate"); err != nil {
		return nil, err
	}
	if d.Features != m.Features() || d.Classes != m.Classes() {
		return nil, fmt.Errorf("mlp: evaluate data: the model wants Features=%d Classes=%d, got Features=%d Classes=%d",
			m.Features(), m.Classes(), d.Features, d.Classes)
	}
	bs := m.evalBatch
	f, c := m.Features(), m.Classes()
	net := newNetwork(f, c, m.Hidden(), bs)
	copy(net.params, m.params)
	e := &Evaluation{N: d.N, Confusion: make([][]int, c)}
	for i := range e.Confusion {
		e.Confusion[i] = make([]int, c)
	}
	var sum float64
	correct := 0
	logits := net.out[len(net.out)-1]
	for lo := 0; lo < d.N; lo += bs {
		hi := min(lo+bs, d.N)
		gatherRange(net.x, net.labels, d, lo, hi)
		net.forward(hi - lo)
		for i := 0; i < hi-lo; i++ {
			e.Confusion[d.Y[lo+i]][argmax(logits[i*c:(i+1)*c])]++
		}
		l, k := net.loss(hi-lo, false)
		sum += l
		correct += k
	}
	e.Loss = sum / float64(d.N)
	e.Accuracy = float64(correct) / float64(d.N)
	return e, nil
}
