package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/search"
)

func runSearchArgs(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := searchMain(context.Background(), args, &out, &errb, func(k string) string { return env[k] }, false, nil)
	return code, out.String(), errb.String()
}

// Every bad command line exits with status 2 and names the flag, what it wants and
// what it got, before any data is loaded.
func TestSearchFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-strategy", "grid"}, nil, `-strategy: want halving or random, got "grid"`},
		{[]string{"-budget", "lots"}, nil, `-budget: expected FLOPs (2.5e15), a wall time (30m, 1h30m) or a multiple of the report's grid cost (grid, 0.5grid), found "lots"`},
		{[]string{"-budget", "-3"}, nil, `-budget: expected a positive number of FLOPs (e.g. 2.5e15), found "-3"`},
		{[]string{"-budget", "0s"}, nil, `-budget: expected a positive wall time (e.g. 30m), found "0s"`},
		{[]string{"-budget", "xgrid"}, nil, `-budget: expected a positive multiple before "grid" (e.g. 0.5grid), found "xgrid"`},
		{[]string{"-eta", "1"}, nil, "-eta: want >= 2, got 1"},
		{[]string{"-min-epochs", "0"}, nil, "-min-epochs: want >= 1, got 0"},
		{[]string{"-space", "nosuch"}, nil, `-space: search space "nosuch": neither a built-in space (report, report-grid) nor a readable file`},
		{[]string{"-space", "../../testdata/search/tiny-space.json", "-eval-seeds", "1,x"}, nil, `-eval-seeds: want a comma-separated list of seeds (1,2,3), got "1,x"`},
		{[]string{"-j", "-1"}, nil, "-j: want >= 0 (0 = CPUs / threads), got -1"},
		{[]string{"-threads", "0"}, nil, "-threads: want >= 1, got 0"},
		{[]string{"-j", "1000"}, nil, "-j/-threads: j 1000 x threads 1 = 1000 exceeds the"},
		{[]string{"-shard", "3/2"}, nil, `-shard: expected i/n with 0 <= i < n (e.g. 0/4), found "3/2"`},
		{nil, map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, "SLURM_ARRAY_TASK_ID=1 is set, but SLURM_ARRAY_TASK_COUNT"},
		{[]string{"-wait", "-1s"}, nil, "-wait: want a duration >= 0, got -1s"},
		{[]string{"-out", ""}, nil, `-out: want an output folder, got ""`},
		{[]string{"more"}, nil, `unexpected argument "more"`},
	} {
		code, _, errs := runSearchArgs(t, c.env, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("search %q (env %v): exit %d, stderr %q; want 2 and %q", c.args, c.env, code, errs, c.want)
		}
	}
}

// A space that varies the validation split cannot be searched: validation losses of
// different validation sets do not compare.
func TestSearchRejectsSplitDimension(t *testing.T) {
	dir := t.TempDir()
	writeSearchData(t, dir)
	code, _, errs := runSearchArgs(t, nil, "-space", "report-grid", "-data", dir, "-out", filepath.Join(dir, "out"), "-budget", "1e12")
	if code != 1 || !strings.Contains(errs, "split: expected a single value") {
		t.Fatalf("exit %d, %s", code, errs)
	}
}

// The report's grid cost, row by row; the total is the sum of the rows.
func TestSearchGridCost(t *testing.T) {
	code, out, errs := runSearchArgs(t, nil, "-grid-cost")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, total, err := search.GridCost(search.MNISTShape)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(out, "\n"); lines != 50 {
		t.Errorf("%d lines, want a header, 48 rows and the total", lines)
	}
	if want := fmt.Sprintf("%.4g training FLOPs", total); !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

// writeSearchData writes a small MNIST-shaped data set (28x28, 10 classes) into dir:
// class c brightens its own 4x4 block, under noise strong enough that configurations
// differ in validation loss.
func writeSearchData(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 10))
	write := func(img, lbl string, n int) {
		im, _ := idx.New(idx.U8, n, 28, 28)
		lb, _ := idx.New(idx.U8, n)
		for i := range n {
			c := rng.IntN(10)
			lb.U8[i] = uint8(c)
			for p := range 784 {
				v := rng.IntN(140)
				if r, col := p/28, p%28; r/4 == c%7 && col/4 == c/7+1 {
					v += 90
				}
				im.U8[i*784+p] = uint8(v)
			}
		}
		if err := idx.WriteFile(filepath.Join(dir, img), im, false); err != nil {
			t.Fatal(err)
		}
		if err := idx.WriteFile(filepath.Join(dir, lbl), lb, false); err != nil {
			t.Fatal(err)
		}
	}
	write("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 250)
	write("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 100)
}

// tinySearchArgs is a small halving search over testdata/search/tiny-space.json: about
// 30 trials of a few milliseconds each, several brackets.
func tinySearchArgs(data, out string, extra ...string) []string {
	return append([]string{"-space", "../../testdata/search/tiny-space.json", "-data", data, "-out", out,
		"-budget", "4e9", "-seed", "3", "-j", "2", "-eval-seeds", "1,2"}, extra...)
}

const searchHelperEnv = "SIMDMLP_SEARCH_HELPER"

// TestSearchHelper is not a test: it is the body of TestSearchKillResume's subprocess,
// which runs the search given in the environment, sleeping after each epoch when asked
// so that the parent can kill it midway.
func TestSearchHelper(t *testing.T) {
	spec := os.Getenv(searchHelperEnv)
	if spec == "" {
		t.Skip("subprocess body of TestSearchKillResume")
	}
	var train harness.TrainFunc
	if os.Getenv(searchHelperEnv+"_SLOW") != "" {
		train = func(ctx context.Context, cfg mlp.Config, d *harness.Dataset, on func(mlp.EpochMetrics)) (*mlp.Result, error) {
			return search.TrainWithoutTest(ctx, cfg, d, func(e mlp.EpochMetrics) { on(e); time.Sleep(15 * time.Millisecond) })
		}
	}
	args := strings.Split(spec, "\x1f")
	code := searchMain(context.Background(), args, os.Stdout, os.Stderr, func(string) string { return "" }, false, train)
	os.Exit(code)
}

func searchHelper(args []string, slow bool) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSearchHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), searchHelperEnv+"="+strings.Join(args, "\x1f"))
	if slow {
		cmd.Env = append(cmd.Env, searchHelperEnv+"_SLOW=1")
	}
	return cmd
}

// comparableLines returns a results file's records without wall times and provenance,
// sorted; it fails on a duplicate trial.
func comparableLines(t *testing.T, path string) []string {
	t.Helper()
	recs, err := harness.ReadRecords(path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range recs {
		if seen[r.Key] {
			t.Fatalf("%s: trial %s twice", path, r.Key)
		}
		seen[r.Key] = true
		l, err := r.Comparable().Line()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(l))
	}
	slices.Sort(out)
	return out
}

// pickLine is the line of the search's standard output that names the pick.
func pickLine(t *testing.T, out string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "search: pick: ") {
			return l
		}
	}
	t.Fatalf("no pick in the output:\n%s", out)
	return ""
}

// A search killed with SIGKILL midway, with a torn half record appended as a crash
// mid-write would leave it, and restarted with the same command, picks the same
// configuration as an uninterrupted search with the same seed, with the same trial
// records (no duplicate) and the same test evaluation.
func TestSearchKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o755)
	writeSearchData(t, data)
	ref, got := filepath.Join(dir, "ref"), filepath.Join(dir, "got")

	refOut, err := searchHelper(tinySearchArgs(data, ref), false).Output()
	if err != nil {
		t.Fatalf("uninterrupted search: %v\n%s", err, refOut)
	}
	refLines := comparableLines(t, filepath.Join(ref, "results.jsonl"))
	if len(refLines) < 20 {
		t.Fatalf("the uninterrupted search ran %d trials; the test wants a search of 20 or more", len(refLines))
	}

	cmd := searchHelper(tinySearchArgs(data, got), true)
	var killedOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &killedOut, &killedOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	half := len(refLines) / 2
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(filepath.Join(got, "results.jsonl"))
		if bytes.Count(b, []byte("\n")) >= half {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the slow search wrote no %d records in 2 minutes:\n%s", half, killedOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the slow search was not killed by SIGKILL; it finished before?\n%s", killedOut.String())
	}
	killed := comparableLines(t, filepath.Join(got, "results.jsonl"))
	if len(killed) >= len(refLines) {
		t.Fatalf("killed after all %d trials", len(killed))
	}
	if _, err := os.Stat(filepath.Join(got, "final.jsonl")); err == nil {
		t.Fatal("the killed search had reached the final evaluation")
	}
	// A crash mid-write: half of a record, no newline.
	f, err := os.OpenFile(filepath.Join(got, "results.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(refLines[len(refLines)-1][:100])
	f.Close()

	var out, errb bytes.Buffer
	cmd = searchHelper(tinySearchArgs(data, got), false)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("restarted search: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "torn last line") {
		t.Errorf("the restart did not report the torn line:\n%s", errb.String())
	}
	if a, b := pickLine(t, string(refOut)), pickLine(t, out.String()); a != b {
		t.Errorf("picks differ:\n uninterrupted: %s\n killed+resumed: %s", a, b)
	}
	if gotLines := comparableLines(t, filepath.Join(got, "results.jsonl")); !slices.Equal(gotLines, refLines) {
		t.Errorf("killed+resumed search records differ from the uninterrupted search's (%d vs %d)", len(gotLines), len(refLines))
	}
	if a, b := comparableLines(t, filepath.Join(ref, "final.jsonl")), comparableLines(t, filepath.Join(got, "final.jsonl")); !slices.Equal(a, b) {
		t.Errorf("final evaluations differ")
	}
	// Search trials never saw the test set; the final evaluation did, once per trial.
	recs, _ := harness.ReadRecords(filepath.Join(got, "results.jsonl"), io.Discard)
	for _, r := range recs {
		if r.NTest != 0 || r.TestAcc != 0 {
			t.Fatalf("search trial %s was tested (n_test %d)", r.Key, r.NTest)
		}
	}
	fin, _ := harness.ReadRecords(filepath.Join(got, "final.jsonl"), io.Discard)
	if len(fin) != 4 {
		t.Fatalf("%d final records, want pick and baseline x 2 seeds", len(fin))
	}
	for _, r := range fin {
		if r.NTest != 100 {
			t.Errorf("final record %s: n_test %d", r.Key, r.NTest)
		}
	}
	// Running it again trains nothing and says the same.
	var again bytes.Buffer
	cmd = searchHelper(tinySearchArgs(data, got), false)
	cmd.Stdout, cmd.Stderr = &again, io.Discard
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if a, b := pickLine(t, again.String()), pickLine(t, out.String()); a != b {
		t.Errorf("a third run picks otherwise: %s", a)
	}
	for _, p := range []string{"search.md", "accuracy-vs-budget.svg", "trials.csv", "final.csv", "search.json"} {
		if _, err := os.Stat(filepath.Join(got, p)); err != nil {
			t.Error(err)
		}
	}
	// The same folder with other settings is refused.
	code, _, errs := runSearchArgs(t, nil, tinySearchArgs(data, got, "-seed", "4")...)
	if code != 1 || !strings.Contains(errs, "holds another search (seed: the stored search has 3, this command 4)") {
		t.Errorf("other seed: exit %d, %s", code, errs)
	}
}

// Shards: each runs its share of every round, reading the others' files; alternating
// them to the end, merging, and rendering gives the records and the pick of one
// unsharded run.
func TestSearchShards(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a few dozen tiny models")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o755)
	writeSearchData(t, data)
	one, sh := filepath.Join(dir, "one"), filepath.Join(dir, "sharded")
	code, oneOut, errs := runSearchArgs(t, nil, tinySearchArgs(data, one)...)
	if code != 0 {
		t.Fatalf("unsharded: exit %d\n%s", code, errs)
	}
	finished := map[int]bool{}
	for round := 0; len(finished) < 2; round++ {
		if round > 200 {
			t.Fatal("the shards do not finish")
		}
		i := round % 2
		code, out, errs := runSearchArgs(t, nil, tinySearchArgs(data, sh, "-shard", fmt.Sprintf("%d/2", i), "-j", "1")...)
		if code != 0 {
			t.Fatalf("shard %d/2: exit %d\n%s", i, code, errs)
		}
		if strings.Contains(out, "search: shard") && strings.Contains(out, "done;") {
			finished[i] = true
		}
	}
	for _, kind := range []string{"results", "final"} {
		ins, _ := filepath.Glob(filepath.Join(sh, kind+"-shard-*-of-2.jsonl"))
		if len(ins) != 2 {
			t.Fatalf("%s shard files: %v", kind, ins)
		}
		if _, err := harness.Merge(filepath.Join(sh, kind+".jsonl"), ins, io.Discard); err != nil {
			t.Fatal(err)
		}
		if a, b := comparableLines(t, filepath.Join(one, kind+".jsonl")), comparableLines(t, filepath.Join(sh, kind+".jsonl")); !slices.Equal(a, b) {
			t.Errorf("%s: merged shards hold %d records, the unsharded run %d, or they differ", kind, len(b), len(a))
		}
	}
	code, out, errs := runSearchArgs(t, nil, tinySearchArgs(data, sh)...)
	if code != 0 {
		t.Fatalf("render after merge: exit %d\n%s", code, errs)
	}
	if strings.Contains(errs, "epoch 1/") {
		t.Errorf("the run after merging trained again:\n%s", errs)
	}
	if a, b := pickLine(t, oneOut), pickLine(t, out); a != b {
		t.Errorf("picks differ: %s vs %s", a, b)
	}
}

// -plan shows the first round of a fresh search without writing anything; a wall-time
// budget is converted once into FLOPs, stored, and reused by the restarted search.
func TestSearchPlanAndWallBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("trains tiny models")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o755)
	writeSearchData(t, data)
	out := filepath.Join(dir, "plan")
	code, stdout, errs := runSearchArgs(t, nil, tinySearchArgs(data, out, "-plan")...)
	if code != 0 || !strings.Contains(stdout, "bracket 0 rung 0 (1 epochs)") || !strings.Contains(stdout, "trials to run next; 0 of 4e+09 FLOPs spent") {
		t.Fatalf("-plan: exit %d\n%s%s", code, stdout, errs)
	}
	if _, err := os.Stat(filepath.Join(out, "search.json")); err == nil {
		t.Error("-plan wrote search.json")
	}

	wall := filepath.Join(dir, "wall")
	args := []string{"-space", "../../testdata/search/tiny-space.json", "-data", data, "-out", wall, "-budget", "1s", "-seed", "3", "-j", "1", "-eval-seeds", "1"}
	code, stdout, errs = runSearchArgs(t, nil, args...)
	if code != 0 || !strings.Contains(errs, "search: 1s wall time at ") {
		t.Fatalf("wall budget: exit %d\n%s%s", code, stdout, errs)
	}
	set, err := search.ReadSettings(filepath.Join(wall, "search.json"))
	if err != nil {
		t.Fatal(err)
	}
	if set.Rate <= 0 || set.BudgetFLOPs != set.Rate*1 || set.Budget.Wall != time.Second {
		t.Fatalf("stored settings: rate %g, budget %g FLOPs, %v", set.Rate, set.BudgetFLOPs, set.Budget)
	}
	code, again, errs := runSearchArgs(t, nil, args...)
	if code != 0 || strings.Contains(errs, "wall time at") || pickLine(t, again) != pickLine(t, stdout) {
		t.Fatalf("restart with a wall budget: exit %d, re-measured or picked otherwise:\n%s%s", code, again, errs)
	}
}
