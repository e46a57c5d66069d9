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
	"strings"
	"syscall"
	"time"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/mlp"
)

func init() {
	commands["reproduce"] = command{summary: "run the report's whole study (stages x seeds x protocols), resumable and shardable, then render the report", run: runReproduce}
}

// The -quick smoke test: a subset of the data and a cap on epochs, so the whole pipeline
// runs in minutes. Its report says so at the top.
const (
	quickTrain  = 2000
	quickTest   = 1000
	quickEpochs = 2
)

func runReproduce(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return reproduce(ctx, args, os.Stdout, os.Stderr, os.Getenv, isTerminal(os.Stderr))
}

// isTerminal reports whether f is a character device (a terminal), where progress is a
// line rewritten in place.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// reproduceFlags are the parsed and checked command line of reproduce.
type reproduceFlags struct {
	out      string
	opts     harness.PlanOptions
	jobs     int
	threads  int
	shard    harness.Shard
	shardSrc string
	data     string
	quick    bool
	plan     bool
}

func parseReproduce(args []string, stderr io.Writer, getenv func(string) string) (*reproduceFlags, error) {
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "out/reproduce", "output `folder`: results.jsonl, run.json, report.md, CSV tables, SVG plots")
	seeds := fs.Int("seeds", 1, "run seeds 1..`N` of every configuration (3 or more to judge noise)")
	protocols := fs.String("protocols", "clean,report", "split `protocols` to run: clean, report or both")
	stages := fs.String("stages", "all", "`stages` to run: all, or a comma-separated list of "+strings.Join(harness.Stages, ","))
	order := fs.String("order", "report", "stage `order`: report (each stage starts from the report's picks) or adaptive (from our measured winner by clean validation accuracy)")
	jobs := fs.Int("j", 0, "trials run at once (`N`); 0 = CPUs / threads")
	threads := fs.Int("threads", 1, "threads per trial (`N`); -j x -threads may not exceed the CPUs")
	shard := fs.String("shard", "", "run only share `i/n` of the trials (also read from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)")
	shardCount := fs.Int("shard-count", 0, "number of shards `n` when the shard index comes from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job's completions)")
	data := fs.String("data", "", "`folder` with the four MNIST-style IDX files (gzipped or not); default: fetch MNIST through the Go module proxy")
	quick := fs.Bool("quick", false, fmt.Sprintf("SMOKE TEST ONLY, not a reproduction: first %d training and %d test images, at most %d epochs per trial; the report says so at the top", quickTrain, quickTest, quickEpochs))
	plan := fs.Bool("plan", false, "print the trials this run (or shard) would run, and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags come before nothing else)", fs.Arg(0))
	}
	f := &reproduceFlags{out: *out, jobs: *jobs, threads: *threads, data: *data, quick: *quick, plan: *plan}
	if f.out == "" {
		return nil, errors.New(`-out: want an output folder, got ""`)
	}
	if *seeds < 1 || *seeds > 1000 {
		return nil, fmt.Errorf("-seeds: want 1..1000, got %d", *seeds)
	}
	for s := 1; s <= *seeds; s++ {
		f.opts.Seeds = append(f.opts.Seeds, uint64(s))
	}
	for _, p := range strings.Split(*protocols, ",") {
		p = strings.TrimSpace(p)
		if p != string(mlp.Clean) && p != string(mlp.Report) {
			return nil, fmt.Errorf("-protocols: want clean, report or clean,report, got %q", *protocols)
		}
		for _, q := range f.opts.Protocols {
			if string(q) == p {
				return nil, fmt.Errorf("-protocols: %q listed twice in %q", p, *protocols)
			}
		}
		f.opts.Protocols = append(f.opts.Protocols, mlp.Protocol(p))
	}
	if *stages != "all" {
		for _, s := range strings.Split(*stages, ",") {
			f.opts.Stages = append(f.opts.Stages, strings.TrimSpace(s))
		}
	}
	switch *order {
	case "report", "adaptive":
		f.opts.Order = harness.Order(*order)
	default:
		return nil, fmt.Errorf("-order: want report or adaptive, got %q", *order)
	}
	if f.quick {
		f.opts.EpochsCap = quickEpochs
	}
	if err := f.opts.Validate(); err != nil {
		return nil, fmt.Errorf("-%v", err)
	}
	if err := checkRunFlags(f.jobs, f.threads, *shardCount); err != nil {
		return nil, err
	}
	var err error
	if f.shard, f.shardSrc, err = harness.ResolveShard(*shard, *shardCount, getenv); err != nil {
		if strings.HasPrefix(err.Error(), "shard") {
			return nil, fmt.Errorf("-%v", err)
		}
		return nil, err
	}
	if f.opts.Order == harness.OrderAdaptive && !f.shard.Whole() {
		return nil, fmt.Errorf("-order adaptive cannot be sharded (shard %s from %s): each stage needs the previous stage's winner from every shard", f.shard, f.shardSrc)
	}
	return f, nil
}

// resultsName is the results file of a shard: shards may share one output folder (a
// shared file system), each appending to its own file; merge combines them.
func resultsName(s harness.Shard) string {
	if s.Whole() {
		return "results.jsonl"
	}
	return fmt.Sprintf("results-shard-%d-of-%d.jsonl", s.Index, s.Count)
}

func reproduce(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, tty bool) int {
	f, err := parseReproduce(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp reproduce: %v\n", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "simdmlp reproduce: %v\n", err)
		return 1
	}
	sweep, err := harness.NewSweep()
	if err != nil {
		return fail(err)
	}
	ds, err := harness.LoadDataset(ctx, f.data)
	if err != nil {
		return fail(err)
	}
	ri := harness.RunInfo{Order: f.opts.Order, Stages: f.opts.Stages, Seeds: f.opts.Seeds, EpochsCap: f.opts.EpochsCap}
	for _, p := range f.opts.Protocols {
		ri.Protocols = append(ri.Protocols, string(p))
	}
	if f.quick {
		if ds, err = ds.Subset(min(quickTrain, ds.Train.N), min(quickTest, ds.Test.N)); err != nil {
			return fail(err)
		}
		ri.Quick = fmt.Sprintf("`-quick`: trained on the first %d training and %d test images only, at most %d epochs per trial", ds.Train.N, ds.Test.N, quickEpochs)
	}
	ri.Data, ri.DataSource, ri.DataFiles, ri.NTrain, ri.NTest = ds.Fingerprint(), ds.Source, ds.Files, ds.Train.N, ds.Test.N

	if f.plan {
		return printPlan(sweep, f, ri, stdout, stderr)
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fail(err)
	}
	runPath := filepath.Join(f.out, "run.json")
	if prev, err := harness.ReadRunInfo(runPath); err == nil && prev.Data != ri.Data {
		fmt.Fprintf(stderr, "simdmlp reproduce: note: %s described other data (fingerprint %s, %s); results on both stay in the results file under their own keys, the report will show this run's (%s)\n", runPath, prev.Data, prev.DataSource, ri.Data)
	}
	if err := harness.WriteRunInfo(runPath, ri); err != nil {
		return fail(err)
	}
	resPath := filepath.Join(f.out, resultsName(f.shard))
	store, err := harness.OpenStore(resPath, stderr)
	if err != nil {
		return fail(err)
	}
	defer store.Close()
	prov := harness.BuildProvenance(ds.Files)
	jobs, threads, _ := (&harness.Runner{Jobs: f.jobs, Threads: f.threads}).Resources()
	shardNote := ""
	if !f.shard.Whole() {
		shardNote = fmt.Sprintf(", shard %s (from %s)", f.shard, f.shardSrc)
	}
	fmt.Fprintf(stderr, "reproduce: %s order, seeds %d, protocols %s, stages %s%s; %d trials at once x %d thread(s); data %s (%d/%d images); results -> %s\n",
		f.opts.Order, len(f.opts.Seeds), strings.Join(ri.Protocols, ","), strings.Join(f.opts.Stages, ","), shardNote, jobs, threads, ri.DataSource, ds.Train.N, ds.Test.N, resPath)
	if f.quick {
		fmt.Fprintf(stderr, "reproduce: -quick: SMOKE TEST, not a reproduction (%s)\n", ri.Quick)
	}
	runner := &harness.Runner{
		Plan: harness.SweepPlanner(sweep, f.opts, ri.Data), Data: ds, Store: store,
		Jobs: f.jobs, Threads: f.threads, Shard: f.shard, Provenance: prov,
		Log: stderr, Terminal: tty,
	}
	start := time.Now()
	sum, runErr := runner.Run(ctx)
	fmt.Fprintf(stdout, "reproduce: %d trials planned, %d reused, %d run now, %d failed, in %s; %d records in %s\n",
		sum.Planned, sum.Reused, sum.Ran, sum.Failed, time.Since(start).Round(time.Second), store.Len(), resPath)
	if runErr != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "simdmlp reproduce: interrupted; the %d finished trials are recorded: run the same command again to continue\n", store.Len())
			return 130
		}
		return fail(runErr)
	}
	if !f.shard.Whole() {
		fmt.Fprintf(stdout, "reproduce: shard %s done. When every shard is: simdmlp merge -out %s %s && simdmlp report -out %s\n",
			f.shard, filepath.Join(f.out, "results.jsonl"), filepath.Join(f.out, "results-shard-*.jsonl"), f.out)
		return 0
	}
	return renderReport(sweep, f.out, ri, store.Records(), stdout, stderr)
}

func printPlan(sweep *harness.Sweep, f *reproduceFlags, ri harness.RunInfo, stdout, stderr io.Writer) int {
	plan, err := sweep.Plan(f.opts, ri.Data, nil)
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp reproduce: %v\n", err)
		return 1
	}
	n := 0
	for _, t := range plan.Trials {
		if !f.shard.Has(t) {
			continue
		}
		n++
		fmt.Fprintf(stdout, "%4d %s %-40s %s\n", t.Index, t.Key, t.Label(), strings.Join(t.Rows, ","))
	}
	if !plan.Complete {
		fmt.Fprintf(stdout, "(adaptive order: the stages after %s are planned once its winner is measured)\n", plan.Waiting)
	}
	fmt.Fprintf(stdout, "%d trials\n", n)
	return 0
}

func renderReport(sweep *harness.Sweep, dir string, ri harness.RunInfo, recs []harness.Record, stdout, stderr io.Writer) int {
	rep, files, err := harness.Render(dir, sweep, ri, recs)
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp report: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "report: %s (%d files: tables, CSV, plots); %d of %d planned trials recorded\n",
		files[len(files)-1], len(files), rep.Planned-len(rep.Missing), rep.Planned)
	fmt.Fprintf(stdout, "leak: %s\n", rep.LeakSentence())
	return 0
}
