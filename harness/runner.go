package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/simdmlp/simdmlp/mlp"
)

// TrainFunc trains one configuration on data, calling onEpoch after every epoch.
type TrainFunc func(ctx context.Context, cfg mlp.Config, data *Dataset, onEpoch func(mlp.EpochMetrics)) (*mlp.Result, error)

// TrainMLP is the TrainFunc of package mlp.
func TrainMLP(ctx context.Context, cfg mlp.Config, data *Dataset, onEpoch func(mlp.EpochMetrics)) (*mlp.Result, error) {
	t, err := mlp.NewTrainer(cfg, data.Train, data.Test)
	if err != nil {
		return nil, err
	}
	return t.Run(ctx, onEpoch)
}

// Planner returns the run's plan given the records so far (the adaptive order needs
// them to pick each stage's winner).
type Planner func(done map[string]Record) (*Plan, error)

// SweepPlanner plans the report's sweeps.
func SweepPlanner(s *Sweep, o PlanOptions, data string) Planner {
	return func(done map[string]Record) (*Plan, error) { return s.Plan(o, data, done) }
}

// Runner runs the missing trials of a plan, in parallel, appending each finished one to
// the store.
type Runner struct {
	Plan       Planner
	Data       *Dataset
	Store      *Store
	Jobs       int   // trials at once; 0 = CPUs / Threads
	Threads    int   // threads per trial; 0 = 1
	Shard      Shard // zero value: the whole run
	Provenance Provenance
	Train      TrainFunc // nil: TrainMLP
	// Log receives progress (nil: discarded); Terminal makes it one line rewritten in
	// place instead of plain lines.
	Log      io.Writer
	Terminal bool
	// CPUs overrides runtime.NumCPU for the jobs x threads check (tests).
	CPUs int
}

// Summary counts what a run did.
type Summary struct {
	Planned  int // trials in the plan (this shard's share)
	Reused   int // already in the results file
	Ran      int // finished by this run
	Failed   int
	Complete bool // every planned trial is now recorded
}

// Resources returns the jobs and threads a run will use, checking that jobs x threads
// does not exceed the CPUs.
func (r *Runner) Resources() (jobs, threads int, err error) {
	cpus := r.CPUs
	if cpus <= 0 {
		cpus = runtime.NumCPU() // the affinity mask's count on Linux
	}
	threads = r.Threads
	if threads < 0 {
		return 0, 0, fmt.Errorf("threads: expected >= 1 (or 0 for 1), found %d", threads)
	}
	if threads == 0 {
		threads = 1
	}
	jobs = r.Jobs
	if jobs < 0 {
		return 0, 0, fmt.Errorf("j: expected >= 1 (or 0 for CPUs/threads), found %d", jobs)
	}
	if jobs == 0 {
		jobs = max(1, cpus/threads)
	}
	if jobs*threads > cpus {
		return 0, 0, fmt.Errorf("j %d x threads %d = %d exceeds the %d CPUs this process may use", jobs, threads, jobs*threads, cpus)
	}
	return jobs, threads, nil
}

// Run plans, runs every missing trial of this shard, and, in adaptive order, plans again
// until every stage is laid out. Cancelling ctx stops it: trials in flight are
// abandoned (nothing partial is written) and ctx's error is returned.
func (r *Runner) Run(ctx context.Context) (Summary, error) {
	var sum Summary
	jobs, threads, err := r.Resources()
	if err != nil {
		return sum, err
	}
	train := r.Train
	if train == nil {
		train = TrainMLP
	}
	log := r.Log
	if log == nil {
		log = io.Discard
	}
	initial := map[string]bool{}
	for _, rec := range r.Store.Records() {
		initial[rec.Key] = true
	}
	for {
		done := recordMap(r.Store.Records())
		plan, err := r.Plan(done)
		if err != nil {
			return sum, err
		}
		if !plan.Complete && !r.Shard.Whole() {
			return sum, fmt.Errorf("the adaptive order cannot be sharded: stage %s's winner needs every shard's results; run it whole, or shard the report order", plan.Waiting)
		}
		var todo []Trial
		sum.Planned, sum.Reused = 0, 0
		for _, t := range plan.Trials {
			if !r.Shard.Has(t) {
				continue
			}
			sum.Planned++
			if initial[t.Key] {
				sum.Reused++
			}
			if _, ok := done[t.Key]; !ok {
				todo = append(todo, t)
			}
		}
		if len(todo) == 0 {
			if plan.Complete {
				sum.Complete = true
				return sum, nil
			}
			return sum, fmt.Errorf("stage %s: cannot pick its winner: its trials are missing", plan.Waiting)
		}
		ran, failed, err := r.runTrials(ctx, todo, jobs, threads, train, log, sum.Planned-len(todo))
		sum.Ran += ran
		sum.Failed += failed
		if err != nil {
			return sum, err
		}
		if failed > 0 {
			return sum, fmt.Errorf("%d trial(s) failed (see above); they are not recorded and will be re-run next time", failed)
		}
		if plan.Complete {
			sum.Complete = true
			return sum, nil
		}
	}
}

func recordMap(recs []Record) map[string]Record {
	m := make(map[string]Record, len(recs))
	for _, r := range recs {
		m[r.Key] = r
	}
	return m
}

// runTrials runs todo on jobs workers. It returns at the first store error (the run
// cannot continue durably) or when ctx is cancelled.
func (r *Runner) runTrials(ctx context.Context, todo []Trial, jobs, threads int, train TrainFunc, log io.Writer, already int) (ran, failed int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prog := newProgress(log, r.Terminal, len(todo)+already, already, todo, r.Data)
	defer prog.finish()

	queue := make(chan Trial)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range min(jobs, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range queue {
				rec, err := r.runOne(ctx, t, threads, train, prog)
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					prog.failed(t, err)
					mu.Lock()
					failed++
					mu.Unlock()
					continue
				}
				if err := r.Store.Append(rec); err != nil && !errors.Is(err, ErrDuplicate) {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				mu.Lock()
				ran++
				mu.Unlock()
				prog.finished(t, rec)
			}
		}()
	}
feed:
	for _, t := range todo {
		select {
		case queue <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	if firstErr != nil {
		return ran, failed, firstErr
	}
	if err := ctx.Err(); err != nil {
		return ran, failed, err
	}
	return ran, failed, nil
}

func (r *Runner) runOne(ctx context.Context, t Trial, threads int, train TrainFunc, prog *progress) (Record, error) {
	cfg := cloneConfig(t.Config)
	cfg.Threads = threads
	prog.started(t)
	res, err := train(ctx, cfg, r.Data, func(e mlp.EpochMetrics) { prog.epoch(t, e) })
	if err != nil {
		return Record{}, fmt.Errorf("trial %s (%s): %w", t.Key, strings.Join(t.Rows, ","), err)
	}
	if ctx.Err() != nil {
		return Record{}, ctx.Err()
	}
	return newRecord(t, res, r.Provenance, r.Data.Fingerprint())
}
