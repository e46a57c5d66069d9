package mlp

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// trainedSmall trains smallConfig on the synthetic 4-class problem and returns the
// trainer's result, its model and the test set.
func trainedSmall(t testing.TB) (*Result, *Model, *Data) {
	t.Helper()
	train, test := synthData(1000, 120, 1), synthData(400, 120, 2)
	c := smallConfig()
	c.Epochs = 3
	tr, err := NewTrainer(c, train, test)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, tr.Model(), test
}

// inputs scales every sample of d to float32, as training does.
func inputs(d *Data) []float32 {
	x := make([]float32, len(d.X))
	ScalePixels(x, d.X)
	return x
}

// TestModelMatchesTrainer: the model a trainer hands out is the trainer's kept
// weights: its Evaluate gives Run's test loss and accuracy bit for bit, on every
// backend, and its confusion matrix agrees with the accuracy.
func TestModelMatchesTrainer(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		res, m, test := trainedSmall(t)
		if m.String() != "36-24 relu-12 tanh-4 softmax" || m.Params() != 36*24+24+24*12+12+12*4+4 {
			t.Fatalf("model %s with %d params", m, m.Params())
		}
		e, err := m.Evaluate(test)
		if err != nil {
			t.Fatal(err)
		}
		if e.Loss != res.TestLoss || e.Accuracy != res.TestAcc {
			t.Errorf("Evaluate: loss %v acc %v, Run measured loss %v acc %v", e.Loss, e.Accuracy, res.TestLoss, res.TestAcc)
		}
		diag, sum := 0, 0
		for i, row := range e.Confusion {
			for j, v := range row {
				sum += v
				if i == j {
					diag += v
				}
			}
		}
		if sum != test.N || float64(diag)/float64(test.N) != e.Accuracy {
			t.Errorf("confusion matrix: %d samples, %d on the diagonal; want %d and accuracy %v", sum, diag, test.N, e.Accuracy)
		}
		if e.Accuracy < 0.9 {
			t.Errorf("accuracy %v: the small model did not learn", e.Accuracy)
		}
	})
}

// TestSaveLoadIdentical: save -> load gives the same weights, architecture and
// metadata, hence bit-identical probabilities and the same evaluation.
func TestSaveLoadIdentical(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		_, m, test := trainedSmall(t)
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		got, err := LoadModel(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != m.String() || got.evalBatch != m.evalBatch || fmt.Sprint(got.Hidden()) != fmt.Sprint(m.Hidden()) {
			t.Fatalf("loaded %s (eval batch %d, hidden %v), saved %s (%d, %v)", got, got.evalBatch, got.Hidden(), m, m.evalBatch, m.Hidden())
		}
		for i := range m.params {
			if math.Float32bits(got.params[i]) != math.Float32bits(m.params[i]) {
				t.Fatalf("param %d: loaded %v, saved %v", i, got.params[i], m.params[i])
			}
		}
		if got.Metadata()[MetaTrainConfig] == "" || got.Metadata()[MetaTrainConfig] != m.Metadata()[MetaTrainConfig] {
			t.Errorf("train_config metadata: loaded %q, saved %q", got.Metadata()[MetaTrainConfig], m.Metadata()[MetaTrainConfig])
		}
		x := inputs(test)
		pa, pb := make([]float32, test.N*4), make([]float32, test.N*4)
		ca, cb := make([]int, test.N), make([]int, test.N)
		if err := m.PredictBatch(test.N, x, ca, pa); err != nil {
			t.Fatal(err)
		}
		if err := got.PredictBatch(test.N, x, cb, pb); err != nil {
			t.Fatal(err)
		}
		for i := range pa {
			if math.Float32bits(pa[i]) != math.Float32bits(pb[i]) {
				t.Fatalf("probability %d: %v after load, %v before", i, pb[i], pa[i])
			}
		}
		for i := range ca {
			if ca[i] != cb[i] {
				t.Fatalf("sample %d: class %d after load, %d before", i, cb[i], ca[i])
			}
		}
		ea, _ := m.Evaluate(test)
		eb, _ := got.Evaluate(test)
		if ea.Loss != eb.Loss || ea.Accuracy != eb.Accuracy || fmt.Sprint(ea.Confusion) != fmt.Sprint(eb.Confusion) {
			t.Errorf("evaluation after load %+v, before %+v", eb, ea)
		}
	})
}

// refForward computes the probabilities of one sample in float64 straight from the
// layer definition (act(x*W + b), softmax at the end), from the model's weights.
func refForward(m *Model, x []float32) []float64 {
	in := make([]float64, len(x))
	for i, v := range x {
		in[i] = float64(v)
	}
	for l := 0; l < m.Layers(); l++ {
		w, b := m.Weights(l)
		out := make([]float64, len(b))
		for j := range out {
			s := float64(b[j])
			for i := range in {
				s += in[i] * float64(w[i*len(b)+j])
			}
			if l < m.Layers()-1 {
				switch m.Hidden()[l].Act {
				case kernels.ReLU:
					s = math.Max(s, 0)
				case kernels.Sigmoid:
					s = 1 / (1 + math.Exp(-s))
				case kernels.Tanh:
					s = math.Tanh(s)
				}
			}
			out[j] = s
		}
		in = out
	}
	mx := in[0]
	for _, v := range in {
		mx = math.Max(mx, v)
	}
	sum := 0.0
	for _, v := range in {
		sum += math.Exp(v - mx)
	}
	for j, v := range in {
		in[j] = math.Exp(v-mx) / sum
	}
	return in
}

// TestPredictReference: Predict's probabilities match a float64 forward pass of the
// layer definition, its class is their argmax, and Predict of one sample agrees with
// PredictBatch, whatever the batch (and across PredictBatch's 64-row chunks).
func TestPredictReference(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		_, m, test := trainedSmall(t)
		x := inputs(test)
		f := m.Features()
		n := 150 // three chunks, the last partial
		classes, probs := make([]int, n), make([]float32, n*4)
		if err := m.PredictBatch(n, x[:n*f], classes, probs); err != nil {
			t.Fatal(err)
		}
		one := make([]float32, 4)
		for i := 0; i < n; i++ {
			ref := refForward(m, x[i*f:(i+1)*f])
			c, err := m.Predict(x[i*f:(i+1)*f], one)
			if err != nil {
				t.Fatal(err)
			}
			best := 0
			for j, p := range ref {
				if math.Abs(float64(probs[i*4+j])-p) > 1e-5 || math.Abs(float64(one[j])-p) > 1e-5 {
					t.Fatalf("sample %d class %d: batch %v, one %v, float64 reference %v", i, j, probs[i*4+j], one[j], p)
				}
				if p > ref[best] {
					best = j
				}
			}
			// A class whose reference probability is within rounding of the best may win.
			if c != classes[i] || ref[best]-ref[c] > 1e-5 {
				t.Fatalf("sample %d: Predict %d, PredictBatch %d, reference argmax %d (%v)", i, c, classes[i], best, ref)
			}
		}
	})
}

// TestPredictArgErrors: wrong lengths are errors that say what was wanted.
func TestPredictArgErrors(t *testing.T) {
	m, err := NewModel(3, 2, []Layer{{Width: 2, Act: kernels.ReLU}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"short x", func() error { _, err := m.Predict(make([]float32, 2), nil); return err }(), "x has 2 values, want 3"},
		{"short probs", func() error { _, err := m.Predict(make([]float32, 3), make([]float32, 1)); return err }(), "probs has 1 elements, want at least 2"},
		{"batch x", m.PredictBatch(2, make([]float32, 5), nil, nil), "x has 5 values, want n*features = 2*3"},
		{"batch classes", m.PredictBatch(2, make([]float32, 6), make([]int, 1), nil), "classes has 1 elements"},
		{"batch probs", m.PredictBatch(2, make([]float32, 6), nil, make([]float32, 3)), "probs has 3 elements"},
		{"negative n", m.PredictBatch(-1, nil, nil, nil), "n = -1"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, c.err, c.want)
		}
	}
	if err := m.PredictBatch(0, nil, nil, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

// TestNewModelLimits: architectures beyond the limits are FieldErrors, not huge
// allocations.
func TestNewModelLimits(t *testing.T) {
	for _, c := range []struct {
		features, classes int
		hidden            []Layer
		field             string
	}{
		{0, 10, nil, "features"},
		{784, 1, nil, "classes"},
		{784, 10, []Layer{{Width: 0, Act: kernels.ReLU}}, "hidden[0].width"},
		{784, 10, []Layer{{Width: 5, Act: kernels.Identity}}, "hidden[0].act"},
		{784, 10, make([]Layer, MaxLayers), "hidden"},
		{MaxUnits, 10, []Layer{{Width: 1, Act: kernels.ReLU}}, "hidden"},                                          // too many units
		{1 << 19, 10, []Layer{{Width: 1 << 10, Act: kernels.ReLU}}, "hidden"},                                     // 2^29 params
		{1 << 15, 2, []Layer{{Width: 1 << 13, Act: kernels.ReLU}, {Width: 1 << 13, Act: kernels.ReLU}}, "hidden"}, // 2^28 + 2^26
	} {
		_, err := NewModel(c.features, c.classes, c.hidden)
		fe, ok := err.(*FieldError)
		if !ok || fe.Field != c.field {
			t.Errorf("NewModel(%d, %d, %d layers): got %v, want a FieldError on %q", c.features, c.classes, len(c.hidden), err, c.field)
		}
	}
}

// TestPredictConcurrent: many goroutines predicting at once with one model get the
// results of a serial run (run with -race to check for data races).
func TestPredictConcurrent(t *testing.T) {
	_, m, test := trainedSmall(t)
	x := inputs(test)
	f := m.Features()
	n := test.N
	want := make([]float32, n*4)
	for i := 0; i < n; i++ {
		if _, err := m.Predict(x[i*f:(i+1)*f], want[i*4:(i+1)*4]); err != nil {
			t.Fatal(err)
		}
	}
	wantBatch := make([]float32, 64*4)
	if err := m.PredictBatch(64, x[:64*f], nil, wantBatch); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]float32, 64*4)
			for r := 0; r < 3; r++ {
				for i := g; i < n; i += 7 {
					if _, err := m.Predict(x[i*f:(i+1)*f], p[:4]); err != nil {
						errs <- err
						return
					}
					for j := 0; j < 4; j++ {
						if p[j] != want[i*4+j] {
							errs <- fmt.Errorf("goroutine %d sample %d: %v, serially %v", g, i, p[:4], want[i*4:i*4+4])
							return
						}
					}
				}
				if err := m.PredictBatch(64, x[:64*f], nil, p); err != nil {
					errs <- err
					return
				}
				for j := range p {
					if p[j] != wantBatch[j] {
						errs <- fmt.Errorf("goroutine %d batch value %d: %v, serially %v", g, j, p[j], wantBatch[j])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestPredictAllocs: predicting allocates nothing, through the model's pool and
// through a caller's Predictor, for one sample and for a batch.
func TestPredictAllocs(t *testing.T) {
	m, err := NewModel(784, 10, []Layer{{Width: 600, Act: kernels.ReLU}, {Width: 200, Act: kernels.ReLU}})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 100*784)
	probs := make([]float32, 100*10)
	classes := make([]int, 100)
	p := m.NewPredictor()
	for name, f := range map[string]func(){
		"Predict":          func() { m.Predict(x[:784], probs[:10]) },
		"PredictBatch/64":  func() { m.PredictBatch(64, x[:64*784], classes, probs) },
		"PredictBatch/100": func() { m.PredictBatch(100, x, classes, probs) },
		"Predictor/1":      func() { p.PredictBatch(1, x[:784], classes, nil) },
		"Predictor/64":     func() { p.PredictBatch(64, x[:64*784], nil, probs) },
		"Predict/no probs": func() { m.Predict(x[:784], nil) },
	} {
		if a := testing.AllocsPerRun(20, f); a != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, a)
		}
	}
}

// BenchmarkPredict measures one prediction (probabilities included) of the report's
// final network, 784-600-200-10, for a batch of 1 and of 64 samples: latency per call
// and per sample, and allocations per call (0: the workspace comes from the model's
// pool).
func BenchmarkPredict(b *testing.B) {
	m, err := NewModel(784, 10, []Layer{{Width: 600, Act: kernels.ReLU}, {Width: 200, Act: kernels.ReLU}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range m.params {
		m.params[i] = float32(i%17-8) / 256
	}
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			x := make([]float32, n*784)
			for i := range x {
				x[i] = float32(i%255) / 255
			}
			probs := make([]float32, n*10)
			classes := make([]int, n)
			// Warm up outside the measurement: the first call makes the model's pooled
			// workspace and the kernels' packing buffers, once.
			if err := m.PredictBatch(n, x, classes, probs); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := m.PredictBatch(n, x, classes, probs); err != nil {
					b.Fatal(err)
				}
			}
			per := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(per*1e6, "us/call")
			b.ReportMetric(per*1e6/float64(n), "us/sample")
		})
	}
}
