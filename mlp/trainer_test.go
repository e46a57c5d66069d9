package mlp

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// synthData makes n samples of a 4-class problem over 36 uint8 features: each class
// has a random prototype and samples add uniform noise of +-noise to it. The classes
// overlap enough that one step does not solve them and little enough that a small
// network reaches high accuracy in a few epochs.
func synthData(n int, noise int, seed uint64) *Data {
	const features, classes = 36, 4
	proto := rand.New(rand.NewPCG(99, 1)) // the same prototypes for every set
	protos := make([]int, classes*features)
	for i := range protos {
		protos[i] = proto.IntN(256)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	d := &Data{N: n, Features: features, Classes: classes, X: make([]uint8, n*features), Y: make([]uint8, n)}
	for i := 0; i < n; i++ {
		y := rng.IntN(classes)
		d.Y[i] = uint8(y)
		for j := 0; j < features; j++ {
			v := protos[y*features+j] + rng.IntN(2*noise+1) - noise
			d.X[i*features+j] = uint8(min(max(v, 0), 255))
		}
	}
	return d
}

func smallConfig() Config {
	c := DefaultConfig()
	c.Hidden = []Layer{{Width: 24, Act: kernels.ReLU, Init: HeNormal}, {Width: 12, Act: kernels.Tanh, Init: GlorotUniform}}
	c.Batch = 16
	c.Epochs = 6
	c.ShuffleBuffer = 100
	return c
}

// TestTrainSynthetic: a small run learns (training loss falls epoch over epoch at the
// start, test accuracy ends high) on every backend and with every optimizer, and the
// logged metrics are consistent with the data sizes.
func TestTrainSynthetic(t *testing.T) {
	train, test := synthData(1000, 120, 1), synthData(400, 120, 2)
	opts := []Optimizer{{Name: "adam"}, {Name: "sgd", LR: 0.1}, {Name: "adagrad", LR: 0.05}, {Name: "rmsprop"}}
	if testing.Short() { // under emulation (arm64 on qemu): adam only
		opts = opts[:1]
	}
	forEachBackend(t, func(t *testing.T) {
		for _, opt := range opts {
			for _, p := range []Protocol{Clean, Report} {
				c := smallConfig()
				c.Optimizer, c.Protocol = opt, p
				tr, err := NewTrainer(c, train, test)
				if err != nil {
					t.Fatal(err)
				}
				res, err := tr.Run(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				ep := res.Epochs
				name := opt.Name + "/" + string(p)
				if len(ep) != 6 || res.StopEpoch != 6 || res.StopReason != ReasonEpochs {
					t.Fatalf("%s: %d epochs, stop %d %s", name, len(ep), res.StopEpoch, res.StopReason)
				}
				if res.NVal != 100 || res.NTrain != 900 || res.NTest != 400 || ep[0].Steps != 57 { // ceil(900/16)
					t.Errorf("%s: sizes n_val %d n_train %d n_test %d steps %d", name, res.NVal, res.NTrain, res.NTest, ep[0].Steps)
				}
				if !(ep[1].Loss < ep[0].Loss && ep[5].Loss < ep[1].Loss) {
					t.Errorf("%s: training loss does not fall: %.4f %.4f ... %.4f", name, ep[0].Loss, ep[1].Loss, ep[5].Loss)
				}
				if res.TestAcc < 0.95 || res.ValAcc < 0.95 || !res.HasTest {
					t.Errorf("%s: val acc %.4f test acc %.4f, want >= 0.95", name, res.ValAcc, res.TestAcc)
				}
				if res.Backend != kernels.Backend() {
					t.Errorf("%s: backend %q recorded, running %q", name, res.Backend, kernels.Backend())
				}
				for _, e := range ep {
					if math.IsNaN(e.Loss) || math.IsNaN(e.ValLoss) || e.Accuracy < 0 || e.Accuracy > 1 {
						t.Errorf("%s: bad metrics %+v", name, e)
					}
				}
			}
		}
	})
}

// TestEvaluationMatchesReference: the trainer's validation metrics equal a float64
// recomputation over the validation samples with the trained weights.
func TestEvaluationMatchesReference(t *testing.T) {
	train, test := synthData(300, 150, 3), synthData(50, 150, 4)
	c := smallConfig()
	c.Epochs = 2
	c.Batch = 7 // the last evaluation batch is partial
	tr, err := NewTrainer(c, train, test)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := tr.net
	p64 := make([]float64, len(n.params))
	for i, v := range n.params {
		p64[i] = float64(v)
	}
	check := func(name string, idx []int32, d *Data, loss, acc float64) {
		var x []float64
		var labels []int32
		for _, s := range idx {
			for _, p := range d.X[int(s)*d.Features : int(s+1)*d.Features] {
				x = append(x, float64(p)/255)
			}
			labels = append(labels, int32(d.Y[s]))
		}
		ref, _ := refLoss(n.sizes, n.acts, p64, x, labels, len(idx))
		if math.Abs(ref-loss) > 1e-5*math.Max(1, ref) {
			t.Errorf("%s loss %.7f, float64 reference %.7f", name, loss, ref)
		}
		if acc <= 0.3 {
			t.Errorf("%s accuracy %.3f", name, acc)
		}
	}
	check("val", tr.split.val, train, res.ValLoss, res.ValAcc)
	check("test", seqInt32(test.N), test, res.TestLoss, res.TestAcc)
}

// TestDeterminism: the same seed on the same backend gives bit-identical weights and
// metrics; another seed gives different weights.
func TestDeterminism(t *testing.T) {
	train := synthData(500, 120, 5)
	run := func(seed uint64, p Protocol) ([]float32, *Result) {
		c := smallConfig()
		c.Epochs, c.Seed, c.Protocol = 2, seed, p
		tr, err := NewTrainer(c, train, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.Run(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return tr.net.params, res
	}
	forEachBackend(t, func(t *testing.T) {
		for _, p := range []Protocol{Clean, Report} {
			a, ra := run(7, p)
			b, rb := run(7, p)
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("%s: weight %d differs between two runs with seed 7: %g vs %g", p, i, a[i], b[i])
				}
			}
			for i := range ra.Epochs {
				ea, eb := ra.Epochs[i], rb.Epochs[i]
				if ea.Loss != eb.Loss || ea.ValLoss != eb.ValLoss || ea.Accuracy != eb.Accuracy {
					t.Fatalf("%s: epoch %d metrics differ: %+v vs %+v", p, i+1, ea, eb)
				}
			}
			c, _ := run(8, p)
			same := 0
			for i := range a {
				if a[i] == c[i] {
					same++
				}
			}
			if same > len(a)/10 {
				t.Errorf("%s: seeds 7 and 8 share %d of %d weights", p, same, len(a))
			}
		}
	})
}

// TestAllocations: a training step, a whole epoch (training, validation and test
// evaluation) allocate nothing, on every backend.
func TestAllocations(t *testing.T) {
	train, test := synthData(700, 120, 6), synthData(100, 120, 7)
	forEachBackend(t, func(t *testing.T) {
		for _, opt := range []string{"adam", "sgd", "adagrad", "rmsprop"} {
			for _, p := range []Protocol{Clean, Report} {
				c := smallConfig()
				c.Optimizer = Optimizer{Name: opt}
				c.Protocol = p
				c.TestEachEpoch = true
				c.Stop = Stop{Kind: StopPatience, Patience: 2, RestoreBest: true}
				tr, err := NewTrainer(c, train, test)
				if err != nil {
					t.Fatal(err)
				}
				idx := tr.split.nextEpoch()[:c.Batch]
				if a := testing.AllocsPerRun(20, func() { tr.step(idx) }); a != 0 {
					t.Errorf("%s/%s: a training step allocates %v times", opt, p, a)
				}
				done := make(chan struct{})
				if a := testing.AllocsPerRun(3, func() {
					if _, err := tr.epoch(1, done); err != nil {
						t.Fatal(err)
					}
				}); a != 0 {
					t.Errorf("%s/%s: an epoch allocates %v times", opt, p, a)
				}
			}
		}
	})
}

// TestRestoreBest: with patience and RestoreBest, the weights measured at the end are
// the best epoch's, bit for bit: evaluating them again gives that epoch's val_loss.
// A min_delta of 10 makes only the first epoch an improvement, so patience 1 stops
// after epoch 2 and restores epoch 1.
func TestRestoreBest(t *testing.T) {
	train, test := synthData(400, 120, 8), synthData(100, 120, 9)
	c := smallConfig()
	c.Stop = Stop{Kind: StopPatience, Patience: 1, MinDelta: 10, RestoreBest: true}
	tr, err := NewTrainer(c, train, test)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Epochs) != 2 || res.StopEpoch != 1 || res.StopReason != ReasonPatience {
		t.Fatalf("ran %d epochs, kept %d (%s), want 2, 1, patience", len(res.Epochs), res.StopEpoch, res.StopReason)
	}
	vl, va := tr.evalIdx(train, tr.split.val)
	if vl != res.Epochs[0].ValLoss || va != res.Epochs[0].ValAcc || res.ValLoss != vl {
		t.Errorf("restored weights give val_loss %v, epoch 1 had %v, epoch 2 %v, result %v", vl, res.Epochs[0].ValLoss, res.Epochs[1].ValLoss, res.ValLoss)
	}
	if res.Epochs[0].ValLoss == res.Epochs[1].ValLoss {
		t.Error("epochs 1 and 2 have the same val_loss: the test cannot tell them apart")
	}
}

// TestRiseKeepsStopEpoch: under rise with a tiny threshold and a large learning rate
// the run stops early and reports the stopping epoch's own validation metrics.
func TestRiseKeepsStopEpoch(t *testing.T) {
	train := synthData(400, 200, 10)
	c := smallConfig()
	c.Epochs = 30
	c.Optimizer = Optimizer{Name: "sgd", LR: 0.5}
	c.Stop = Stop{Kind: StopRise, MinDelta: 1e-9}
	tr, err := NewTrainer(c, train, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := ApplyStop(tr.Config().Stop, 30, valLosses(res), nil)
	if res.StopEpoch != d.Ran || res.StopReason != d.Reason || len(res.Epochs) != d.Ran {
		t.Fatalf("trainer stopped at %d (%s) after %d epochs; ApplyStop on its log says %+v", res.StopEpoch, res.StopReason, len(res.Epochs), d)
	}
	if res.StopReason != ReasonRise || res.StopEpoch >= 30 {
		t.Fatalf("stopped at %d by %s, want an early stop by rise", res.StopEpoch, res.StopReason)
	}
	last := res.Epochs[len(res.Epochs)-1]
	if res.ValLoss != last.ValLoss || res.ValAcc != last.ValAcc || res.HasTest {
		t.Errorf("result val_loss %v, stop epoch's %v", res.ValLoss, last.ValLoss)
	}
}

func valLosses(r *Result) []float64 {
	v := make([]float64, len(r.Epochs))
	for i, e := range r.Epochs {
		v[i] = e.ValLoss
	}
	return v
}

func TestCancel(t *testing.T) {
	train := synthData(300, 120, 11)
	ctx, cancel := context.WithCancel(context.Background())
	tr, err := NewTrainer(smallConfig(), train, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	res, err := tr.Run(ctx, func(EpochMetrics) { calls++; cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if res == nil || len(res.Epochs) != 1 || calls != 1 || res.StopReason != ReasonCanceled {
		t.Fatalf("after cancel in epoch 2: %+v, %d callbacks", res, calls)
	}
	if _, err := tr.Run(context.Background(), nil); err == nil {
		t.Error("a second Run succeeded")
	}
}

func TestNewTrainerDataErrors(t *testing.T) {
	good := synthData(50, 10, 1)
	for _, c := range []struct {
		train, test *Data
		cfg         func(*Config)
		want        string
	}{
		{&Data{N: 2, Features: 3, Classes: 4, X: make([]uint8, 5), Y: make([]uint8, 2)}, nil, nil, "X has 5 values, want N*Features = 2*3 = 6"},
		{&Data{N: 2, Features: 3, Classes: 4, X: make([]uint8, 6), Y: []uint8{0}}, nil, nil, "Y has 1 labels, want N = 2"},
		{&Data{N: 2, Features: 3, Classes: 4, X: make([]uint8, 6), Y: []uint8{0, 4}}, nil, nil, "label 4 of sample 1, want 0 <= label < 4"},
		{nil, nil, nil, "train data: want a data set, got nil"},
		{good, &Data{N: 1, Features: 35, Classes: 4, X: make([]uint8, 35), Y: []uint8{0}}, nil, "want Features=36 Classes=4 like the training data, got Features=35"},
		{good, nil, func(c *Config) { c.Split = 0.001 }, "n_val = 0"},
		{good, nil, func(c *Config) { c.Split = 0.999 }, "n_val = 50"},
		{good, nil, func(c *Config) { c.Batch = 0 }, "batch: want >= 1, got 0"},
	} {
		cfg := smallConfig()
		if c.cfg != nil {
			c.cfg(&cfg)
		}
		_, err := NewTrainer(cfg, c.train, c.test)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want it to contain %q", err, c.want)
		}
	}
}
