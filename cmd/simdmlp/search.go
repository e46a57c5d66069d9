package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/search"
)

func init() {
	commands["search"] = command{summary: "search the report's space (random or successive halving) within a FLOP or wall-time budget, resumable and shardable; test the pick once", run: runSearch}
}

func runSearch(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return searchMain(ctx, args, os.Stdout, os.Stderr, os.Getenv, isTerminal(os.Stderr), nil)
}

// The -quick smoke test's data: the first images only (as reproduce -quick).
const (
	searchQuickTrain = 2000
	searchQuickTest  = 1000
)

// searchFlags are the parsed and checked command line of search.
type searchFlags struct {
	strategy  search.Strategy
	budget    string
	eta       int
	minEpochs int
	seed      uint64
	space     *search.Space
	evalSeeds []uint64
	out       string
	jobs      int
	threads   int
	shard     harness.Shard
	shardSrc  string
	wait      time.Duration
	data      string
	quick     bool
	plan      bool
	gridCost  bool
}

func parseSearch(args []string, stderr io.Writer, getenv func(string) string) (*searchFlags, error) {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strategy := fs.String("strategy", "halving", "`strategy`: halving (successive halving, brackets while the budget lasts) or random")
	budget := fs.String("budget", "grid", "`budget`: training FLOPs (2.5e15), a wall time (30m), or a multiple of what the report's whole grid cost (grid, 0.5grid)")
	eta := fs.Int("eta", 3, "halving: keep the best 1/`eta` of each rung by validation loss")
	minEpochs := fs.Int("min-epochs", 1, "halving: epochs of the first rung (`N`); each rung trains eta times more, up to the space's most epochs")
	seed := fs.Uint64("seed", 1, "search `seed`: which configurations are drawn and their training seeds")
	space := fs.String("space", "report", "search `space`: a built-in one ("+strings.Join(search.SpaceNames(), ", ")+") or a JSON file (see docs/search.md)")
	evalSeeds := fs.String("eval-seeds", "1,2,3", "`seeds` the final pick and the report's pick are trained with and tested once")
	out := fs.String("out", "out/search", "output `folder`: search.json, results.jsonl (search trials), final.jsonl (test evaluation), search.md, SVG, CSV")
	jobs := fs.Int("j", 0, "trials run at once (`N`); 0 = CPUs / threads")
	threads := fs.Int("threads", 1, "threads per trial (`N`); -j x -threads may not exceed the CPUs")
	shard := fs.String("shard", "", "run only share `i/n` of each round's trials (also read from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)")
	shardCount := fs.Int("shard-count", 0, "number of shards `n` when the shard index comes from JOB_COMPLETION_INDEX")
	wait := fs.Duration("wait", 0, "shards: wait up to this `long` for the other shards to finish a round (polling the output folder), instead of exiting")
	data := fs.String("data", "", "`folder` with the four MNIST-style IDX files; default: fetch MNIST through the Go module proxy")
	quick := fs.Bool("quick", false, fmt.Sprintf("SMOKE TEST ONLY: first %d training and %d test images; the report says so at the top", searchQuickTrain, searchQuickTest))
	plan := fs.Bool("plan", false, "print the rounds so far and the trials of the next one, and exit")
	gridCost := fs.Bool("grid-cost", false, "print what each row of the report's grid cost in training FLOPs on MNIST, and the total, and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	f := &searchFlags{strategy: search.Strategy(*strategy), budget: *budget, eta: *eta, minEpochs: *minEpochs, seed: *seed,
		out: *out, jobs: *jobs, threads: *threads, wait: *wait, data: *data, quick: *quick, plan: *plan, gridCost: *gridCost}
	if f.gridCost {
		return f, nil
	}
	if f.strategy != search.Random && f.strategy != search.Halving {
		return nil, fmt.Errorf("-strategy: want halving or random, got %q", *strategy)
	}
	if _, err := search.ParseBudget(f.budget, func() (float64, error) { return 1, nil }); err != nil {
		return nil, fmt.Errorf("-%v", err)
	}
	if f.strategy == search.Halving {
		if f.eta < 2 {
			return nil, fmt.Errorf("-eta: want >= 2, got %d", f.eta)
		}
		if f.minEpochs < 1 {
			return nil, fmt.Errorf("-min-epochs: want >= 1, got %d", f.minEpochs)
		}
	} else {
		f.eta, f.minEpochs = 0, 0 // not part of a random search
	}
	var err error
	if f.space, err = search.OpenSpace(*space); err != nil {
		return nil, fmt.Errorf("-space: %v", err)
	}
	for _, s := range strings.Split(*evalSeeds, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("-eval-seeds: want a comma-separated list of seeds (1,2,3), got %q", *evalSeeds)
		}
		f.evalSeeds = append(f.evalSeeds, v)
	}
	if f.out == "" {
		return nil, errors.New(`-out: want an output folder, got ""`)
	}
	if err := checkRunFlags(f.jobs, f.threads, *shardCount); err != nil {
		return nil, err
	}
	if f.wait < 0 {
		return nil, fmt.Errorf("-wait: want a duration >= 0, got %s", f.wait)
	}
	if f.shard, f.shardSrc, err = harness.ResolveShard(*shard, *shardCount, getenv); err != nil {
		if strings.HasPrefix(err.Error(), "shard") {
			return nil, fmt.Errorf("-%v", err)
		}
		return nil, err
	}
	return f, nil
}

// shardFile names a shard's file of kind ("results", "final") in the output folder.
func shardFile(kind string, s harness.Shard) string {
	if s.Whole() {
		return kind + ".jsonl"
	}
	return fmt.Sprintf("%s-shard-%d-of-%d.jsonl", kind, s.Index, s.Count)
}

// otherRecords reads, without modifying them, the records of kind in dir that are not
// in the file own: for a shard, the merged file and the other shards' files. A whole run
// reads only its own file (harness.Runner would retrain what is elsewhere anyway):
// merge shard files into it first.
func otherRecords(dir, kind, own string, warn io.Writer) map[string]harness.Record {
	out := map[string]harness.Record{}
	if own == kind+".jsonl" {
		return out
	}
	paths := append(globShards(dir, kind), filepath.Join(dir, kind+".jsonl"))
	for _, p := range paths {
		if filepath.Base(p) == own {
			continue
		}
		recs, err := harness.ReadRecords(p, warn)
		if err != nil {
			continue // absent, or being written: read again next time
		}
		for _, r := range recs {
			out[r.Key] = r
		}
	}
	return out
}

// searchMain runs the search subcommand. train, when not nil, replaces the search
// trials' training (tests slow it down to kill it midway).
func searchMain(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, tty bool, train harness.TrainFunc) int {
	f, err := parseSearch(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp search: %v\n", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "simdmlp search: %v\n", err)
		return 1
	}
	if f.gridCost {
		return printGridCost(stdout, stderr)
	}
	ds, err := harness.LoadDataset(ctx, f.data)
	if err != nil {
		return fail(err)
	}
	quick := ""
	if f.quick {
		if ds, err = ds.Subset(min(searchQuickTrain, ds.Train.N), min(searchQuickTest, ds.Test.N)); err != nil {
			return fail(err)
		}
		quick = fmt.Sprintf("`-quick`: searched on the first %d training images and tested on the first %d test images only", ds.Train.N, ds.Test.N)
	}
	shape := search.DataShape(ds)
	budget, err := search.ParseBudget(f.budget, func() (float64, error) {
		_, g, err := search.GridCost(shape)
		return g, err
	})
	if err != nil {
		return fail(err)
	}
	jobs, threads, _ := (&harness.Runner{Jobs: f.jobs, Threads: f.threads}).Resources()
	set := search.Settings{Strategy: f.strategy, Space: f.space, Seed: f.seed, Budget: budget, BudgetFLOPs: budget.FLOPs,
		Eta: f.eta, MinEpochs: f.minEpochs, EvalSeeds: f.evalSeeds, Data: ds.Fingerprint(), Shape: shape, DataSource: ds.Source, Quick: quick}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fail(err)
	}
	setPath := filepath.Join(f.out, "search.json")
	stored, err := search.ReadSettings(setPath)
	switch {
	case err == nil:
		if budget.Wall > 0 {
			set.BudgetFLOPs, set.Rate = stored.BudgetFLOPs, stored.Rate
		}
		if err := search.SameSearch(stored, &set); err != nil {
			return fail(fmt.Errorf("%s holds another search (%v): give the same settings to continue it, or another -out", setPath, err))
		}
		set = *stored
	case errors.Is(err, os.ErrNotExist):
		if budget.Wall > 0 {
			rate, err := search.MeasureRate(ctx, ds, threads)
			if err != nil {
				return fail(fmt.Errorf("measuring this machine's training rate for the wall-time budget: %w", err))
			}
			set.Rate = rate * float64(jobs)
			set.BudgetFLOPs = set.Rate * budget.Wall.Seconds()
			fmt.Fprintf(stderr, "search: %s at %.3g FLOP/s (%d trials at once) = %.4g FLOPs\n", budget, set.Rate, jobs, set.BudgetFLOPs)
		}
		if err := set.Validate(); err != nil {
			return fail(err)
		}
		if !f.plan {
			if err := search.WriteSettings(setPath, &set); err != nil {
				return fail(err)
			}
		}
	default:
		return fail(err)
	}
	s, err := search.New(set)
	if err != nil {
		return fail(err)
	}
	resName := shardFile("results", f.shard)
	if f.plan {
		recs := map[string]harness.Record{}
		for _, p := range append([]string{filepath.Join(f.out, "results.jsonl")}, globShards(f.out, "results")...) {
			rs, _ := harness.ReadRecords(p, io.Discard)
			for _, r := range rs {
				recs[r.Key] = r
			}
		}
		return printSearchPlan(s, recs, f.shard, stdout, stderr)
	}
	shardNote := ""
	if !f.shard.Whole() {
		shardNote = fmt.Sprintf(", shard %s (from %s)", f.shard, f.shardSrc)
	}
	fmt.Fprintf(stderr, "search: %s, seed %d, budget %s = %.4g FLOPs, space %s%s; %d trials at once x %d thread(s); data %s (%d/%d images) -> %s\n",
		set.Strategy, set.Seed, set.Budget, set.BudgetFLOPs, spaceName(set.Space), shardNote, jobs, threads, ds.Source, ds.Train.N, ds.Test.N, f.out)
	if quick != "" {
		fmt.Fprintf(stderr, "search: -quick: SMOKE TEST, not a search of MNIST (%s)\n", quick)
	}
	prov := harness.BuildProvenance(ds.Files)
	if train == nil {
		train = search.TrainWithoutTest
	}
	others := func() map[string]harness.Record { return otherRecords(f.out, "results", resName, stderr) }
	start := time.Now()
	st, code := runRounds(ctx, f, ds, prov, resName, s.Planner(others, !f.shard.Whole()), others, train, stderr, tty, func(all map[string]harness.Record) (bool, string, error) {
		st, err := s.Replay(all)
		if err != nil {
			return false, "", err
		}
		return st.Done, st.Waiting, nil
	})
	if code >= 0 {
		return code
	}
	all := st
	state, err := s.Replay(all)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "search: done in %s: %d trials, %.4g of %.4g FLOPs spent (%s)\n", time.Since(start).Round(time.Second), len(state.Trials), state.Spent, set.BudgetFLOPs, state.Ended)
	if state.Pick == nil {
		return fail(errors.New("the search ended with no configuration to pick"))
	}
	pick := state.Pick
	fmt.Fprintf(stdout, "search: pick: %s (val_loss %.4f, val_accuracy %.4f)\n", search.Describe(pick.Config), pick.ValLoss(), pick.ValAcc())

	// The test set, once: the pick and the report's pick, over the evaluation seeds.
	finName := shardFile("final", f.shard)
	fothers := func() map[string]harness.Record { return otherRecords(f.out, "final", finName, stderr) }
	evalAll, code := runRounds(ctx, f, ds, prov, finName, s.EvalPlanner(pick.Config), fothers, harness.TrainMLP, stderr, tty, func(all map[string]harness.Record) (bool, string, error) {
		ev, err := s.Evaluate(pick.Config, all)
		if err != nil {
			return false, "", err
		}
		return ev.Complete, "the final evaluation", nil
	})
	if code >= 0 {
		return code
	}
	ev, err := s.Evaluate(pick.Config, evalAll)
	if err != nil {
		return fail(err)
	}
	if !f.shard.Whole() {
		fmt.Fprintf(stdout, "search: shard %s done; every shard's records are in %s: run `simdmlp search` with the same settings and no -shard to render the report (nothing is retrained)\n", f.shard, f.out)
		return 0
	}
	_, gridFLOPs, err := search.GridCost(set.Shape)
	if err != nil {
		return fail(err)
	}
	rep, err := search.BuildReport(s, state, ev, gridFLOPs)
	if err != nil {
		return fail(err)
	}
	files, err := rep.Render(f.out)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "search: test accuracy over seeds %v: pick %s, the report's pick trained by us %s (the report: %.2f%%)\n",
		set.EvalSeeds, ev.PickTest.Format(100, 2), ev.BaseTest.Format(100, 2), 100*rep.Paper.TestAcc)
	fmt.Fprintf(stdout, "search: %s\n", rep.Verdict())
	fmt.Fprintf(stdout, "search: report %s (%d files)\n", files[len(files)-1], len(files))
	return 0
}

// runRounds runs a phase (the search's rounds, or the final evaluation) to completion
// with harness.Runner, appending to the file name in the output folder. Whole runs let
// the runner plan round after round; a shard runs its share of each round, then reads
// the other shards' files, waiting for them up to -wait. It returns every record the
// phase knows and -1, or an exit code to stop with.
func runRounds(ctx context.Context, f *searchFlags, ds *harness.Dataset, prov harness.Provenance, name string,
	plan harness.Planner, others func() map[string]harness.Record, train harness.TrainFunc, stderr io.Writer, tty bool,
	complete func(map[string]harness.Record) (bool, string, error)) (map[string]harness.Record, int) {
	path := filepath.Join(f.out, name)
	store, err := harness.OpenStore(path, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp search: %v\n", err)
		return nil, 1
	}
	defer store.Close()
	oneRound := !f.shard.Whole()
	var deadline time.Time
	for {
		runner := &harness.Runner{Plan: plan, Data: ds, Store: store, Jobs: f.jobs, Threads: f.threads, Shard: f.shard,
			Provenance: prov, Train: train, Log: stderr, Terminal: tty}
		_, err := runner.Run(ctx)
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(stderr, "simdmlp search: interrupted; the %d finished trials in %s are recorded: run the same command again to continue\n", store.Len(), path)
				return nil, 130
			}
			fmt.Fprintf(stderr, "simdmlp search: %v\n", err)
			return nil, 1
		}
		all := others()
		for _, r := range store.Records() {
			all[r.Key] = r
		}
		ok, waiting, err := complete(all)
		if err != nil {
			fmt.Fprintf(stderr, "simdmlp search: %v\n", err)
			return nil, 1
		}
		if ok {
			return all, -1
		}
		if !oneRound {
			fmt.Fprintf(stderr, "simdmlp search: %s: trials missing after the run\n", waiting)
			return nil, 1
		}
		// A shard whose share of the round is done, waiting for the others.
		if deadline.IsZero() {
			deadline = time.Now().Add(f.wait)
		}
		if !time.Now().Before(deadline) {
			fmt.Fprintf(stderr, "search: shard %s: its share of %s is recorded; the other shards' are not yet: run this command again when they are (or give -wait)\n", f.shard, waiting)
			return nil, 0
		}
		select {
		case <-ctx.Done():
			return nil, 130
		case <-time.After(2 * time.Second):
		}
	}
}

func spaceName(sp *search.Space) string {
	if sp.Name != "" {
		return sp.Name
	}
	return "(unnamed)"
}

func printSearchPlan(s *search.Search, recs map[string]harness.Record, shard harness.Shard, stdout, stderr io.Writer) int {
	st, err := s.Replay(recs)
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp search: %v\n", err)
		return 1
	}
	for _, r := range st.Rounds {
		state := "complete"
		if !r.Complete {
			state = "next"
		}
		fmt.Fprintf(stdout, "%-34s %4d configurations (%d dropped for the budget), planned %.4g FLOPs: %s\n", r.Name(s.Set.Strategy), len(r.Entries), r.Dropped, r.Planned, state)
	}
	n := 0
	if last := st.Rounds[len(st.Rounds)-1]; !last.Complete {
		for _, e := range last.Entries {
			if e.Carried || e.Record != nil || !shard.Has(st.Trials[e.Trial]) {
				continue
			}
			n++
			fmt.Fprintf(stdout, "%5d %s #%-5d %s\n", e.Trial, e.Key, e.Cand, search.Describe(e.Config))
		}
	}
	fmt.Fprintf(stdout, "%d trials to run next; %.4g of %.4g FLOPs spent\n", n, st.Spent, s.Set.BudgetFLOPs)
	return 0
}

func printGridCost(stdout, stderr io.Writer) int {
	rows, total, err := search.GridCost(search.MNISTShape)
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp search: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%-20s %-28s %6s %-8s %12s %12s\n", "row", "configuration", "epochs", "from", "FLOPs/epoch", "FLOPs")
	for _, r := range rows {
		fmt.Fprintf(stdout, "%-20s %-28s %6d %-8s %12.4g %12.4g\n", r.Row.ID(), search.Short(r.Config), r.Epochs, r.Source, r.EpochFLOPs, r.FLOPs)
	}
	fmt.Fprintf(stdout, "the report's whole grid (48 rows, MNIST, test evaluation not counted): %.4g training FLOPs\n", total)
	return 0
}

func globShards(dir, kind string) []string {
	p, _ := filepath.Glob(filepath.Join(dir, kind+"-shard-*-of-*.jsonl"))
	return p
}
