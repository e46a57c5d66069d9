package harness

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/simdmlp/simdmlp/mlp"
)

// progress reports a run's progress: on a terminal one status line rewritten in place
// (trials done / total, the trials in flight with their epoch, ETA); otherwise plain
// lines, one per epoch and one per finished trial, for logs.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	total    int // trials in the plan's share, including those reused
	done     int // finished (reused included)
	seq      int // trials started so far (numbering)
	start    time.Time
	lastDraw time.Time
	nTrain   int // training images of the data set (before the split)
	nTest    int
	features int
	pending  map[string]Trial
	running  map[string]*inFlight
	order    []string // running keys in start order
	doneWork float64
	// riseEpochs and riseTrials estimate how many epochs an early-stopped trial runs.
	riseEpochs, riseTrials int
	drawn                  bool
}

type inFlight struct {
	t      Trial
	n      int // trial number shown
	epochs int // epochs finished
}

func newProgress(w io.Writer, tty bool, total, already int, todo []Trial, data *Dataset) *progress {
	p := &progress{w: w, tty: tty, total: total, done: already, seq: already, start: time.Now(),
		pending: map[string]Trial{}, running: map[string]*inFlight{}}
	if data != nil {
		p.nTrain, p.nTest, p.features = data.Train.N, data.Test.N, data.Train.Features
	}
	for _, t := range todo {
		p.pending[t.Key] = t
	}
	return p
}

// epochWork is a trial's relative cost per epoch: weights x (forward+backward over the
// training part, forward over validation and, if asked, test).
func (p *progress) epochWork(c mlp.Config) float64 {
	in, weights := max(p.features, 1), 0
	for _, l := range c.Hidden {
		weights += in * l.Width
		in = l.Width
	}
	weights += in * 10
	nVal := c.Split * float64(p.nTrain)
	samples := 3*(float64(p.nTrain)-nVal) + nVal
	if c.TestEachEpoch {
		samples += float64(p.nTest)
	}
	return float64(weights) * samples
}

// expectedEpochs estimates how many epochs a trial runs.
func (p *progress) expectedEpochs(c mlp.Config) float64 {
	if c.Stop.Kind == mlp.StopNone || c.Stop.Kind == "" {
		return float64(c.Epochs)
	}
	est := 8.0 // the report's stop epochs are 6..11 but for batch 512
	if p.riseTrials > 0 {
		est = float64(p.riseEpochs) / float64(p.riseTrials)
	}
	return math.Min(est, float64(c.Epochs))
}

func (p *progress) started(t Trial) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	delete(p.pending, t.Key)
	p.running[t.Key] = &inFlight{t: t, n: p.seq}
	p.order = append(p.order, t.Key)
	p.draw(false)
}

func (p *progress) epoch(t Trial, e mlp.EpochMetrics) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.running[t.Key]
	if f == nil {
		return
	}
	f.epochs = e.Epoch
	p.doneWork += p.epochWork(t.Config)
	if !p.tty {
		test := ""
		if e.HasTest {
			test = fmt.Sprintf(" test_accuracy %.4f", e.TestAcc)
		}
		fmt.Fprintf(p.w, "trial %d/%d %s: epoch %d/%d loss %.4f accuracy %.4f val_loss %.4f val_accuracy %.4f%s (%.1fs)\n",
			f.n, p.total, t.Label(), e.Epoch, t.Config.Epochs, e.Loss, e.Accuracy, e.ValLoss, e.ValAcc, test, e.Seconds)
		return
	}
	p.draw(false)
}

func (p *progress) finished(t Trial, r Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.running[t.Key]
	p.remove(t.Key)
	p.done++
	if t.Config.Stop.Kind != mlp.StopNone {
		p.riseEpochs += len(r.Epochs)
		p.riseTrials++
	}
	n := 0
	if f != nil {
		n = f.n
	}
	p.clear()
	fmt.Fprintf(p.w, "trial %d/%d %s: done: stop epoch %d (%s), val_accuracy %.4f test_accuracy %.4f, %.1fs; %d/%d done, ETA %s\n",
		n, p.total, t.Label(), r.StopEpoch, r.StopReason, float64(r.ValAcc), float64(r.TestAcc), r.Provenance.WallSeconds, p.done, p.total, p.eta())
	p.draw(true)
}

func (p *progress) failed(t Trial, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.remove(t.Key)
	p.clear()
	fmt.Fprintf(p.w, "trial %s FAILED: %v\n", t.Label(), err)
	p.draw(true)
}

func (p *progress) remove(key string) {
	delete(p.running, key)
	for i, k := range p.order {
		if k == key {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
}

// eta extrapolates the work done per second so far over the work left.
func (p *progress) eta() string {
	elapsed := time.Since(p.start).Seconds()
	if p.doneWork <= 0 || elapsed <= 0 {
		return "?"
	}
	left := 0.0
	for _, t := range p.pending {
		left += p.expectedEpochs(t.Config) * p.epochWork(t.Config)
	}
	for _, f := range p.running {
		rem := math.Max(p.expectedEpochs(f.t.Config)-float64(f.epochs), 1)
		left += rem * p.epochWork(f.t.Config)
	}
	secs := left / (p.doneWork / elapsed)
	return (time.Duration(secs) * time.Second).Round(time.Second).String()
}

// draw rewrites the status line on a terminal, at most every 200ms unless forced.
func (p *progress) draw(force bool) {
	if !p.tty {
		return
	}
	if !force && time.Since(p.lastDraw) < 200*time.Millisecond {
		return
	}
	p.lastDraw = time.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "[%d/%d done]", p.done, p.total)
	for _, k := range p.order {
		f := p.running[k]
		fmt.Fprintf(&b, " | #%d %s epoch %d/%d", f.n, f.t.Label(), f.epochs+1, f.t.Config.Epochs)
	}
	fmt.Fprintf(&b, " | ETA %s", p.eta())
	line := b.String()
	if len(line) > 200 {
		line = line[:197] + "..."
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.drawn = true
}

// clear erases the status line before a plain line is printed.
func (p *progress) clear() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}
