package mlp

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/simdmlp/simdmlp/kernels"
)

// Result is one finished (or canceled) training run.
type Result struct {
	Config Config         `json:"config"` // normalized: every default filled in
	Epochs []EpochMetrics `json:"epochs"` // one per epoch run
	// StopEpoch is the epoch whose weights were kept and measured: the last epoch run,
	// except under patience with RestoreBest when the rule fired (the best epoch).
	StopEpoch  int    `json:"stop_epoch"`
	StopReason string `json:"stop_reason"` // ReasonEpochs, ReasonRise, ReasonPatience, ReasonLossFloor, or "canceled"
	// Validation and test metrics of the kept weights. The test metrics are zero and
	// HasTest false when the trainer was given no test set.
	ValLoss  float64 `json:"val_loss"`
	ValAcc   float64 `json:"val_accuracy"`
	HasTest  bool    `json:"has_test"`
	TestLoss float64 `json:"test_loss"`
	TestAcc  float64 `json:"test_accuracy"`

	NTrain int `json:"n_train"`
	NVal   int `json:"n_val"`
	NTest  int `json:"n_test"`
	// Backend is the kernels backend the run used (kernels.Backend() at its start).
	Backend     string  `json:"backend"`
	Threads     int     `json:"threads"`
	WallSeconds float64 `json:"wall_seconds"`
}

// ReasonCanceled is Result.StopReason when Run's context was canceled.
const ReasonCanceled = "canceled"

// Trainer trains one network on one data set under one Config. NewTrainer allocates
// every buffer; Run then allocates only the Result and its per-epoch records.
// A Trainer is not safe for concurrent use and runs once.
type Trainer struct {
	cfg         Config
	train, test *Data
	net         *network
	opt         *optimizer
	split       *splitter
	stop        stopper
	best        []float32 // patience + RestoreBest: the best epoch's weights
	// pool is the trainer's own set of kernel threads (Config.Threads of them),
	// started by NewTrainer and stopped when Run returns (or when the Trainer is
	// garbage collected without running).
	pool    *kernels.Pool
	threads int // the pool's threads while open
	ran     bool
}

// NewTrainer normalizes cfg (see Config.Normalize), checks the data (consistent sizes,
// labels below Classes, the test set shaped like the training set, a split leaving
// at least one validation and one training sample), draws the initial weights and the
// validation split from cfg.Seed, and allocates every buffer of the run. test may be
// nil: no test metrics are then computed.
func NewTrainer(cfg Config, train, test *Data) (*Trainer, error) {
	cfg.Hidden = slices.Clone(cfg.Hidden)
	if err := cfg.Normalize(); err != nil {
		return nil, fmt.Errorf("mlp: config: %w", err)
	}
	if err := train.Validate("train"); err != nil {
		return nil, err
	}
	if test != nil {
		if err := test.Validate("test"); err != nil {
			return nil, err
		}
		if test.Features != train.Features || test.Classes != train.Classes {
			return nil, fmt.Errorf("mlp: test data: want Features=%d Classes=%d like the training data, got Features=%d Classes=%d",
				train.Features, train.Classes, test.Features, test.Classes)
		}
	}
	nVal := ValCount(cfg.Split, train.N)
	if nVal < 1 || nVal >= train.N {
		return nil, &FieldError{Field: "split", Want: fmt.Sprintf("a split of the %d training samples leaving >= 1 for validation and >= 1 for training", train.N),
			Got: fmt.Sprintf("%g (n_val = %d)", cfg.Split, nVal)}
	}

	t := &Trainer{cfg: cfg, train: train, test: test}
	t.net = newNetwork(train.Features, train.Classes, cfg.Hidden, cfg.Batch)
	inits := make([]Init, 0, len(cfg.Hidden)+1)
	for _, h := range cfg.Hidden {
		inits = append(inits, h.Init)
	}
	inits = append(inits, cfg.OutputInit)
	t.net.initWeights(inits, newStream(cfg.Seed, streamInit))
	t.opt = newOptimizer(cfg.Optimizer, len(t.net.params))
	var err error
	t.split, err = newSplitter(cfg.Protocol, train.N, nVal, cfg.ShuffleBuffer, newStream(cfg.Seed, streamShuffle))
	if err != nil {
		return nil, err
	}
	t.stop = newStopper(cfg.Stop)
	if cfg.Stop.RestoreBest {
		t.best = make([]float32, len(t.net.params))
	}
	// Last, once nothing can fail: the workers are goroutines.
	t.pool = kernels.NewPool(cfg.Threads)
	t.net.pool = t.pool
	t.threads = t.pool.Threads()
	runtime.AddCleanup(t, func(p *kernels.Pool) { p.Close() }, t.pool)
	return t, nil
}

// Config returns the trainer's normalized configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Threads returns the number of threads the trainer's kernels compute with
// (Config.Threads, or the CPUs available when it is 0).
func (t *Trainer) Threads() int { return t.threads }

// NVal returns the number of validation samples; the rest of the training data trains.
func (t *Trainer) NVal() int { return t.split.nVal }

// Run trains up to Config.Epochs epochs, calling onEpoch (if not nil) after each one,
// applies the stopping rule, and measures the kept weights on the validation and test
// sets. When ctx is canceled Run stops between two steps and returns the epochs
// finished so far (StopReason "canceled") with an error wrapping ctx.Err().
func (t *Trainer) Run(ctx context.Context, onEpoch func(EpochMetrics)) (*Result, error) {
	if t.ran {
		return nil, errors.New("mlp: Trainer.Run called twice; make a new Trainer per run")
	}
	t.ran = true
	defer t.pool.Close()
	start := time.Now()
	res := &Result{
		Config:  t.cfg,
		Epochs:  make([]EpochMetrics, 0, t.cfg.Epochs),
		NTrain:  t.split.nTrain,
		NVal:    t.split.nVal,
		Backend: kernels.Backend(),
		Threads: t.threads,
	}
	if t.test != nil {
		res.NTest = t.test.N
	}
	done := ctx.Done()
	ran, kept, reason := 0, 0, ReasonEpochs
	for e := 1; e <= t.cfg.Epochs; e++ {
		m, err := t.epoch(e, done)
		if err != nil {
			res.StopReason, res.StopEpoch = ReasonCanceled, ran
			res.WallSeconds = time.Since(start).Seconds()
			return res, fmt.Errorf("mlp: training canceled in epoch %d: %w", e, context.Cause(ctx))
		}
		res.Epochs = append(res.Epochs, m)
		ran = e
		if onEpoch != nil {
			onEpoch(m)
		}
		stop, why, improved := t.stop.observe(e, m.ValLoss, m.Loss)
		if improved && t.best != nil {
			copy(t.best, t.net.params)
		}
		if stop {
			reason = why
			break
		}
	}
	kept = ran
	if reason != ReasonEpochs {
		kept = t.stop.kept(ran, reason)
	}
	if kept != ran {
		copy(t.net.params, t.best)
	}
	km := res.Epochs[kept-1]
	res.StopEpoch, res.StopReason = kept, reason
	res.ValLoss, res.ValAcc = km.ValLoss, km.ValAcc
	if t.test != nil {
		res.HasTest = true
		if km.HasTest {
			res.TestLoss, res.TestAcc = km.TestLoss, km.TestAcc
		} else {
			res.TestLoss, res.TestAcc = t.evalAll(t.test)
		}
	}
	res.WallSeconds = time.Since(start).Seconds()
	return res, nil
}

// errCanceled reports a canceled epoch; Run turns it into the context's cause.
var errCanceled = errors.New("canceled")

// epoch trains one epoch (e is 1-based) and measures it: the running training loss and
// accuracy, the validation metrics at its end, and the test metrics when
// TestEachEpoch. It allocates nothing. It checks done between steps.
func (t *Trainer) epoch(e int, done <-chan struct{}) (EpochMetrics, error) {
	start := time.Now()
	order := t.split.nextEpoch()
	b := t.cfg.Batch
	var lossSum float64
	var correct, seen, steps int
	for lo := 0; lo < len(order); lo += b {
		select {
		case <-done:
			return EpochMetrics{}, errCanceled
		default:
		}
		idx := order[lo:min(lo+b, len(order))]
		l, c := t.step(idx)
		lossSum += l
		correct += c
		seen += len(idx)
		steps++
	}
	em := EpochMetrics{Epoch: e, Steps: steps, Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen)}
	em.ValLoss, em.ValAcc = t.evalIdx(t.train, t.split.val)
	if t.cfg.TestEachEpoch && t.test != nil {
		em.HasTest = true
		em.TestLoss, em.TestAcc = t.evalAll(t.test)
	}
	em.Seconds = time.Since(start).Seconds()
	return em, nil
}

// step trains on the samples idx (one batch): forward, loss, backward, optimizer
// update. It returns the batch's summed loss and its number of correct predictions,
// both measured before the update, as Keras's running metrics are.
func (t *Trainer) step(idx []int32) (lossSum float64, correct int) {
	n := t.net
	m := len(idx)
	gather(n.x, n.labels, t.train, idx)
	n.forward(m)
	lossSum, correct = n.loss(m, true)
	n.backward(m)
	t.opt.step(t.pool, n.params, n.grads)
	return lossSum, correct
}

// evalIdx returns the mean loss and the accuracy of the current weights over the
// samples idx of d, in batches through the training buffers.
func (t *Trainer) evalIdx(d *Data, idx []int32) (loss, acc float64) {
	n := t.net
	var sum float64
	var correct int
	for lo := 0; lo < len(idx); lo += n.maxBatch {
		part := idx[lo:min(lo+n.maxBatch, len(idx))]
		gather(n.x, n.labels, d, part)
		n.forward(len(part))
		l, c := n.loss(len(part), false)
		sum += l
		correct += c
	}
	return sum / float64(len(idx)), float64(correct) / float64(len(idx))
}

// evalAll is evalIdx over every sample of d.
func (t *Trainer) evalAll(d *Data) (loss, acc float64) {
	n := t.net
	var sum float64
	var correct int
	for lo := 0; lo < d.N; lo += n.maxBatch {
		hi := min(lo+n.maxBatch, d.N)
		gatherRange(n.x, n.labels, d, lo, hi)
		n.forward(hi - lo)
		l, c := n.loss(hi-lo, false)
		sum += l
		correct += c
	}
	return sum / float64(d.N), float64(correct) / float64(d.N)
}
