package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

func runEvaluateArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = evaluate(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestEvaluateMatchesTrain: train -save, then evaluate the file: the same test loss
// and accuracy as train printed (and, in the JSON records, the same bits), on each
// backend; the confusion matrix, precision and recall are consistent with them.
func TestEvaluateMatchesTrain(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, 300, 100)
	prev := kernels.Backend()
	t.Cleanup(func() { kernels.Use(prev) })
	for _, backend := range kernels.Backends() {
		model := filepath.Join(t.TempDir(), "m.safetensors")
		runJSON := filepath.Join(t.TempDir(), "run.json")
		code, stdout, stderr := runTrainArgs(t, "-data", dir, "-hidden", "32", "-epochs", "3", "-batch", "16", "-seed", "4", "-lr", "0.01",
			"-backend", backend, "-save", model, "-json", runJSON)
		if code != 0 {
			t.Fatalf("%s: train: exit %d: %s", backend, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		trainLine := lines[len(lines)-1]
		if !strings.Contains(stderr, "saved the model (epoch 3 weights) to "+model) {
			t.Errorf("%s: train's stderr does not report the save: %s", backend, stderr)
		}

		code, stdout, stderr = runEvaluateArgs(t, "-model", model, "-data", dir, "-backend", backend)
		if code != 0 {
			t.Fatalf("%s: evaluate: exit %d: %s", backend, code, stderr)
		}
		out := strings.Split(stdout, "\n")
		if len(out) < 17 || out[2] != trainLine {
			t.Fatalf("%s: evaluate printed %q as its third line, train printed %q\n%s", backend, out[2], trainLine, stdout)
		}
		if !strings.HasPrefix(out[0], "model "+model+": 64-32 relu-10 softmax, 2410 parameters; backend "+backend) ||
			out[1] != "test set: 100 images from "+dir || !strings.HasPrefix(out[4], "confusion matrix") {
			t.Errorf("%s: header lines:\n%s", backend, strings.Join(out[:5], "\n"))
		}

		code, stdout, stderr = runEvaluateArgs(t, "-model", model, "-data", dir, "-backend", backend, "-json")
		if code != 0 {
			t.Fatalf("%s: evaluate -json: exit %d: %s", backend, code, stderr)
		}
		var ev evaluation
		if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
			t.Fatalf("%s: evaluate -json: %v\n%s", backend, err, stdout)
		}
		var run struct {
			TestLoss float64 `json:"test_loss"`
			TestAcc  float64 `json:"test_accuracy"`
		}
		b, err := os.ReadFile(runJSON)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &run); err != nil {
			t.Fatal(err)
		}
		if ev.Loss != run.TestLoss || ev.Accuracy != run.TestAcc {
			t.Errorf("%s: evaluate loss %v accuracy %v; train recorded %v %v", backend, ev.Loss, ev.Accuracy, run.TestLoss, run.TestAcc)
		}
		checkConfusion(t, &ev)
	}
}

// checkConfusion checks that the JSON evaluation's matrix, accuracy, precision and
// recall agree with each other (computed here from the matrix).
func checkConfusion(t *testing.T, ev *evaluation) {
	t.Helper()
	if len(ev.Confusion) != 10 || len(ev.Precision) != 10 || len(ev.Recall) != 10 {
		t.Fatalf("confusion %dx?, %d precisions, %d recalls", len(ev.Confusion), len(ev.Precision), len(ev.Recall))
	}
	total, diag := 0, 0
	for c, row := range ev.Confusion {
		rowSum, colSum := 0, 0
		for k := range row {
			rowSum += row[k]
			colSum += ev.Confusion[k][c]
		}
		total += rowSum
		diag += row[c]
		for _, x := range []struct {
			name string
			got  *float64
			den  int
		}{{"recall", ev.Recall[c], rowSum}, {"precision", ev.Precision[c], colSum}} {
			if x.den == 0 {
				if x.got != nil {
					t.Errorf("class %d %s %v, want null (nothing to divide by)", c, x.name, *x.got)
				}
				continue
			}
			if want := float64(row[c]) / float64(x.den); x.got == nil || math.Abs(*x.got-want) > 1e-12 {
				t.Errorf("class %d %s %v, want %v", c, x.name, x.got, want)
			}
		}
	}
	if total != ev.N || float64(diag)/float64(total) != ev.Accuracy {
		t.Errorf("confusion holds %d samples (%d right), N %d accuracy %v", total, diag, ev.N, ev.Accuracy)
	}
}

// TestEvaluateErrors: a bad command line exits 2, a bad model file or data 1, each
// with one line naming the flag or the file.
func TestEvaluateErrors(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, 50, 20) // 8x8 images: 64 features
	junk := filepath.Join(t.TempDir(), "junk.safetensors")
	if err := os.WriteFile(junk, []byte("this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	fixture := filepath.Join("..", "..", "testdata", "model", "mnist-100.safetensors")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "-model: want the model file to evaluate, got nothing"},
		{[]string{"-model", fixture, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"-model", fixture, "-backend", "mmx"}, 2, "-backend: "},
		{[]string{"-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"-model", filepath.Join(dir, "none.safetensors"), "-data", dir}, 1, "none.safetensors: no such file"},
		{[]string{"-model", junk, "-data", dir}, 1, "model file " + junk + ": header length: "},
		{[]string{"-model", fixture, "-data", filepath.Join(dir, "missing")}, 1, "-data " + filepath.Join(dir, "missing")},
		{[]string{"-model", fixture, "-data", dir}, 1, "the model wants Features=784 Classes=10, got Features=64 Classes=10"},
	} {
		code, stdout, stderr := runEvaluateArgs(t, c.args...)
		if code != c.code || !strings.HasPrefix(stderr, "simdmlp evaluate: ") || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit %d and one line containing %q", c.args, code, stderr, stdout, c.code, c.want)
		}
	}
	if code, _, stderr := runEvaluateArgs(t, "-h"); code != 0 || !strings.Contains(stderr, "usage: simdmlp evaluate -model FILE") {
		t.Errorf("-h: exit %d, %s", code, stderr)
	}
}

// TestEvaluateFixtureModel evaluates the committed model on the real MNIST test set:
// the accuracy its README records (0.9701, from train). Skipped under -short.
func TestEvaluateFixtureModel(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the MNIST test set")
	}
	code, stdout, stderr := runEvaluateArgs(t, "-model", filepath.Join("..", "..", "testdata", "model", "mnist-100.safetensors"), "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var ev evaluation
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatal(err)
	}
	// Other backends may round a logit differently and flip an image or two.
	if ev.N != 10000 || math.Abs(ev.Accuracy-0.9701) > 0.0003 || ev.Architecture != "784-100 relu-10 softmax" {
		t.Errorf("%d images, accuracy %v (README: 0.9701), %s", ev.N, ev.Accuracy, ev.Architecture)
	}
	checkConfusion(t, &ev)
}

// TestTrainSaveFlag: train -save into a missing folder is a usage error (exit 2,
// before any data is read), and a canceled run saves nothing.
func TestTrainSaveFlag(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "m.safetensors")
	code, _, stderr := runTrainArgs(t, "-save", missing)
	if code != 2 || !strings.Contains(stderr, "-save: want a file in an existing folder") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	dir := t.TempDir()
	writeFixture(t, dir, 100, 20)
	model := filepath.Join(t.TempDir(), "m.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := train(ctx, []string{"-data", dir, "-hidden", "8", "-save", model}, &out, &errb); code != 1 {
		t.Errorf("canceled run: exit %d, want 1: %s", code, errb.String())
	}
	if _, err := os.Stat(model); !os.IsNotExist(err) {
		t.Errorf("canceled run left a model file (%v)", err)
	}
}
