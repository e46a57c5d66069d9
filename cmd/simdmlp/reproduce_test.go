package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/idx"
)

func runReproduceArgs(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := reproduce(context.Background(), args, &out, &errb, func(k string) string { return env[k] }, false)
	return code, out.String(), errb.String()
}

// Every bad command line exits with status 2 and a line naming the flag, what it wants
// and what it got, before any data is loaded (no -data: reaching the fetch would be a
// different failure).
func TestReproduceFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-seeds", "0"}, nil, "-seeds: want 1..1000, got 0"},
		{[]string{"-protocols", "clean,leaky"}, nil, `-protocols: want clean, report or clean,report, got "clean,leaky"`},
		{[]string{"-protocols", "clean,clean"}, nil, `-protocols: "clean" listed twice`},
		{[]string{"-stages", "depth_width,depth"}, nil, `-stages: unknown stage "depth": want all or a list of depth_width,activations`},
		{[]string{"-order", "random"}, nil, `-order: want report or adaptive, got "random"`},
		{[]string{"-order", "adaptive", "-protocols", "report"}, nil, "-order adaptive picks winners by validation accuracy under the clean protocol"},
		{[]string{"-j", "-1"}, nil, "-j: want >= 0 (0 = CPUs / threads), got -1"},
		{[]string{"-threads", "0"}, nil, "-threads: want >= 1, got 0"},
		{[]string{"-j", "1000", "-threads", "1"}, nil, "-j/-threads: j 1000 x threads 1 = 1000 exceeds the"},
		{[]string{"-shard", "2/2"}, nil, `-shard: expected i/n with 0 <= i < n (e.g. 0/4), found "2/2"`},
		{[]string{"-shard-count", "3"}, nil, "-shard-count: 3 given, but JOB_COMPLETION_INDEX is not set"},
		{nil, map[string]string{"JOB_COMPLETION_INDEX": "1"}, "JOB_COMPLETION_INDEX=1 is set, but -shard-count is not"},
		{nil, map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, "SLURM_ARRAY_TASK_ID=1 is set, but SLURM_ARRAY_TASK_COUNT"},
		{[]string{"-order", "adaptive", "-shard", "0/2"}, nil, "-order adaptive cannot be sharded"},
		{[]string{"-out", ""}, nil, `-out: want an output folder, got ""`},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{[]string{"-seeds", "x"}, nil, `invalid value "x" for flag -seeds`},
	} {
		code, _, errs := runReproduceArgs(t, c.env, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("reproduce %q (env %v): exit %d, stderr %q; want 2 and %q", c.args, c.env, code, errs, c.want)
		}
	}
}

// writeSynthMNIST writes a tiny MNIST-shaped data set (28x28 images, 10 classes) in the
// four standard files: class c brightens row band c.
func writeSynthMNIST(t *testing.T, dir string, nTrain, nTest int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	write := func(imgName, lblName string, n int) {
		im, _ := idx.New(idx.U8, n, 28, 28)
		lb, _ := idx.New(idx.U8, n)
		for i := range n {
			c := rng.IntN(10)
			lb.U8[i] = uint8(c)
			for p := range 784 {
				v := rng.IntN(60)
				if (p/28)/3 == c {
					v += 150
				}
				im.U8[i*784+p] = uint8(v)
			}
		}
		if err := idx.WriteFile(filepath.Join(dir, imgName), im, true); err != nil {
			t.Fatal(err)
		}
		if err := idx.WriteFile(filepath.Join(dir, lblName), lb, false); err != nil {
			t.Fatal(err)
		}
	}
	write(idx.TrainImagesName+".gz", idx.TrainLabelsName, nTrain)
	write(idx.TestImagesName+".gz", idx.TestLabelsName, nTest)
}

// A -quick run on a tiny data set: trials recorded, report labelled a smoke test at the
// top, a second run reuses everything, `report` re-renders, shards via Slurm variables
// plus `merge` give the same records.
func TestReproduceQuickEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 600-200 networks")
	}
	data, out := t.TempDir(), t.TempDir()
	writeSynthMNIST(t, data, 300, 100)
	args := []string{"-quick", "-data", data, "-out", out, "-stages", "final", "-seeds", "2", "-j", "1"}
	code, stdout, stderr := runReproduceArgs(t, nil, args...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "4 trials planned, 0 reused, 4 run now, 0 failed") {
		t.Errorf("stdout: %s", stdout)
	}
	if !strings.Contains(stderr, "SMOKE TEST") {
		t.Errorf("stderr does not say smoke test: %s", stderr)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.SplitN(string(md), "\n", 4)[2], "SMOKE TEST, NOT A REPRODUCTION") {
		t.Errorf("report.md does not lead with the smoke-test warning:\n%s", md[:300])
	}
	if !strings.Contains(string(md), "first 300 training and 100 test images only, at most 2 epochs") {
		t.Error("report.md does not say how the smoke test departs")
	}
	for _, f := range []string{"results.jsonl", "run.json", "tables.csv", "leak.csv", "timing.csv", "provenance.csv", "curves-final.svg", "accuracy-final.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	recs, err := harness.ReadRecords(filepath.Join(out, "results.jsonl"), &bytes.Buffer{})
	if err != nil || len(recs) != 4 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for _, r := range recs {
		if r.Config.Epochs != 2 || len(r.Epochs) != 2 || r.NTrain != 270 || r.NVal != 30 || r.NTest != 100 || len(r.Provenance.DataFiles) != 4 {
			t.Errorf("record %s: epochs %d/%d, n %d/%d/%d, %d data files", r.Key, r.Config.Epochs, len(r.Epochs), r.NTrain, r.NVal, r.NTest, len(r.Provenance.DataFiles))
		}
	}

	// Again: nothing to run.
	code, stdout, _ = runReproduceArgs(t, nil, args...)
	if code != 0 || !strings.Contains(stdout, "4 trials planned, 4 reused, 0 run now") {
		t.Errorf("second run: exit %d, %s", code, stdout)
	}
	var o, e bytes.Buffer
	if code := report([]string{"-out", out}, &o, &e); code != 0 || !strings.Contains(o.String(), "4 of 4 planned trials recorded") {
		t.Errorf("report: exit %d, %s %s", code, o.String(), e.String())
	}

	// Two shards from Slurm's variables into one shared folder, then merge.
	shards := t.TempDir()
	for i := range 2 {
		env := map[string]string{"SLURM_ARRAY_TASK_ID": string(rune('0' + i)), "SLURM_ARRAY_TASK_COUNT": "2"}
		sargs := append(slices.Clone(args[:len(args)-4]), "-out", shards, "-seeds", "2")
		code, stdout, stderr := runReproduceArgs(t, env, sargs...)
		if code != 0 || !strings.Contains(stdout, "2 run now") || !strings.Contains(stderr, "shard "+string(rune('0'+i))+"/2 (from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)") {
			t.Fatalf("shard %d: exit %d\n%s\n%s", i, code, stdout, stderr)
		}
	}
	merged := filepath.Join(shards, "results.jsonl")
	o.Reset()
	e.Reset()
	if code := merge([]string{"-out", merged, filepath.Join(shards, "results-shard-0-of-2.jsonl"), filepath.Join(shards, "results-shard-1-of-2.jsonl")}, &o, &e); code != 0 {
		t.Fatalf("merge: %d %s", code, e.String())
	}
	comparable := func(path string) []string {
		rs, err := harness.ReadRecords(path, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		var ls []string
		for _, r := range rs {
			l, _ := r.Comparable().Line()
			ls = append(ls, string(l))
		}
		slices.Sort(ls)
		return ls
	}
	if !slices.Equal(comparable(merged), comparable(filepath.Join(out, "results.jsonl"))) {
		t.Error("shards + merge differ from one run")
	}
}

func TestMergeReportFlagErrors(t *testing.T) {
	var o, e bytes.Buffer
	if code := merge([]string{"a.jsonl"}, &o, &e); code != 2 || !strings.Contains(e.String(), `-out: want the merged results file, got ""`) {
		t.Errorf("merge without -out: %d %q", code, e.String())
	}
	e.Reset()
	if code := merge([]string{"-out", "x.jsonl"}, &o, &e); code != 2 || !strings.Contains(e.String(), "want at least one input") {
		t.Errorf("merge without inputs: %d %q", code, e.String())
	}
	e.Reset()
	dir := t.TempDir()
	if code := report([]string{"-out", dir}, &o, &e); code != 1 || !strings.Contains(e.String(), "run.json") {
		t.Errorf("report without run.json: %d %q", code, e.String())
	}
}
