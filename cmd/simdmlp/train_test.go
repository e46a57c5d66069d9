package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

func runTrainArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = train(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestTrainFlagErrors: every bad command line exits with status 2 and one line naming
// the flag, what it wants and what it got, before any data is touched (no -data is
// given, so reaching the fetch would be a failure of a different kind).
func TestTrainFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-batch", "0"}, "-batch: want >= 1, got 0"},
		{[]string{"-batch", "x"}, `-batch: cannot parse "x": parse error`},
		{[]string{"-epochs", "0"}, "-epochs: want >= 1, got 0"},
		{[]string{"-split", "1"}, "-split: want 0 < split < 1, got 1"},
		{[]string{"-split", "1.5"}, "-split: want 0 < split < 1, got 1.5"},
		{[]string{"-split", "0"}, "-split: want 0 < split < 1, got 0"},
		{[]string{"-hidden", "600,0"}, "-hidden: layer 2: want >= 1, got 0"},
		{[]string{"-hidden", "600,abc"}, `-hidden: layer 2: want a width (an integer >= 1), got "abc"`},
		{[]string{"-hidden", ""}, `-hidden: want comma-separated layer widths like 600,200, got ""`},
		{[]string{"-act", "relu"}, `-act: want 2 activations (one per -hidden layer), got 1 ("relu")`},
		{[]string{"-act", "relu,softplus"}, `-act: layer 2: want relu, sigmoid or tanh, got "softplus"`},
		{[]string{"-act", "relu,identity"}, `-act: layer 2: want relu, sigmoid or tanh, got "identity"`},
		{[]string{"-hidden", "100,100,100", "-act", "relu,relu"}, `-act: want 3 activations (one per -hidden layer), got 2 ("relu,relu")`},
		{[]string{"-init", "he_normal"}, `-init: want 2 initializers (one per -hidden layer), default or he_normal-glorot_uniform, got 1 ("he_normal")`},
		{[]string{"-init", "he_normal,zeros"}, `-init: layer 2: want he_normal or glorot_uniform, got "zeros"`},
		{[]string{"-out-init", "zeros"}, `-out-init: want glorot_uniform or he_normal, got "zeros"`},
		{[]string{"-lr", "-1"}, "-lr: want a finite number > 0, got -1"},
		{[]string{"-opt", "adamw"}, `-opt: want adam, sgd, adagrad or rmsprop, got "adamw"`},
		{[]string{"-opt", "sgd", "-beta1", "0.9"}, "-beta1: want unset (0): sgd has no beta1, got 0.9"},
		{[]string{"-opt", "rmsprop", "-rho", "1"}, "-rho: want 0 < rho < 1, got 1"},
		{[]string{"-protocol", "leaky"}, `-protocol: want clean or report, got "leaky"`},
		{[]string{"-shuffle-buffer", "-5"}, "-shuffle-buffer: want >= 0 (0 = full shuffle) and <= 1073741824, got -5"},
		{[]string{"-stop", "never"}, `-stop: want rise, patience or none, got "never"`},
		{[]string{"-patience", "3"}, "-patience: want unset (0): only stop patience uses it, stop is none, got 3"},
		{[]string{"-restore-best"}, "-restore-best: want false: only stop patience restores, stop is none, got true"},
		{[]string{"-stop", "rise", "-min-delta", "-0.1"}, "-min-delta: want a finite number >= 0, got -0.1"},
		{[]string{"-loss-floor", "-1"}, "-loss-floor: want a finite number >= 0 (0 = off), got -1"},
		{[]string{"-threads", "-1"}, "-threads: want >= 0 (0 = all available), got -1"},
		{[]string{"-seed", "-1"}, `-seed: cannot parse "-1": parse error`},
		{[]string{"-frobnicate"}, "flag provided but not defined: -frobnicate"},
		{[]string{"extra"}, `unexpected argument "extra" (flags only; see simdmlp train -h)`},
		{[]string{"-json", "/nonexistent-dir/run.json"}, `-json: want a file in an existing folder, got "/nonexistent-dir/run.json" (no folder "/nonexistent-dir")`},
		{[]string{"-backend", "sse9"}, "-backend: unknown backend \"sse9\""},
	} {
		code, stdout, stderr := runTrainArgs(t, c.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", c.args, code, stderr)
		}
		if stdout != "" {
			t.Errorf("%q: wrote to stdout: %q", c.args, stdout)
		}
		if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "simdmlp train: "+c.want) {
			t.Errorf("%q: stderr %q\n                  want \"simdmlp train: %s\" on one line", c.args, stderr, c.want)
		}
	}
}

func TestTrainHelp(t *testing.T) {
	code, stdout, stderr := runTrainArgs(t, "-h")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "-shuffle-buffer") || !strings.Contains(stderr, "-restore-best") {
		t.Fatalf("-h: exit %d, stderr %q", code, stderr)
	}
}

// writeFixture writes an MNIST-style folder of 8x8 images: ten classes, each a random
// prototype plus noise, so a small network can learn them. The test images file is
// gzip-compressed, the others are not.
func writeFixture(t *testing.T, dir string, nTrain, nTest int) {
	t.Helper()
	protos := rand.New(rand.NewPCG(5, 5))
	proto := make([]int, 10*64)
	for i := range proto {
		proto[i] = protos.IntN(256)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	set := func(imgName, lblName string, n int, gz bool) {
		im, err := idx.New(idx.U8, n, 8, 8)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := idx.New(idx.U8, n)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			y := rng.IntN(10)
			lb.U8[i] = uint8(y)
			for j := 0; j < 64; j++ {
				v := proto[y*64+j] + rng.IntN(81) - 40
				im.U8[i*64+j] = uint8(min(max(v, 0), 255))
			}
		}
		suffix := ""
		if gz {
			suffix = ".gz"
		}
		if err := idx.WriteFile(filepath.Join(dir, imgName+suffix), im, gz); err != nil {
			t.Fatal(err)
		}
		if err := idx.WriteFile(filepath.Join(dir, lblName), lb, false); err != nil {
			t.Fatal(err)
		}
	}
	set(idx.TrainImagesName, idx.TrainLabelsName, nTrain, false)
	set(idx.TestImagesName, idx.TestLabelsName, nTest, true)
}

var (
	epochRE = regexp.MustCompile(`^Epoch (\d+)/(\d+)$`)
	kerasRE = regexp.MustCompile(`^(\d+)/(\d+) - \d+s - loss: (\S+) - accuracy: (\S+) - val_loss: (\S+) - val_accuracy: (\S+) - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step$`)
	testRE  = regexp.MustCompile(`^test_loss: (\S+) - test_accuracy: (\S+)$`)
)

// TestTrainEndToEnd trains on an IDX fixture folder and checks the Keras lines, the
// header and the JSON record.
func TestTrainEndToEnd(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, 300, 100)
	prev := kernels.Backend()
	t.Cleanup(func() { kernels.Use(prev) })
	for _, backend := range []string{"generic", prev} {
		jsonPath := filepath.Join(t.TempDir(), "run.json")
		code, stdout, stderr := runTrainArgs(t, "-data", dir, "-hidden", "32,16", "-act", "relu,tanh", "-epochs", "3", "-batch", "16",
			"-seed", "3", "-lr", "0.01", "-test-each-epoch", "-backend", backend, "-json", jsonPath)
		if code != 0 {
			t.Fatalf("%s: exit %d, stderr:\n%s", backend, code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != 7 {
			t.Fatalf("%s: %d stdout lines, want 7:\n%s", backend, len(lines), stdout)
		}
		for e := 1; e <= 3; e++ {
			if m := epochRE.FindStringSubmatch(lines[2*e-2]); m == nil || m[1] != fmt.Sprint(e) || m[2] != "3" {
				t.Errorf("%s: line %q, want Epoch %d/3", backend, lines[2*e-2], e)
			}
			// n = 300, split 0.1: 30 validation, 270 training: ceil(270/16) = 17 steps.
			if m := kerasRE.FindStringSubmatch(lines[2*e-1]); m == nil || m[1] != "17" || m[2] != "17" {
				t.Errorf("%s: line %q is not a Keras verbose=2 line with 17/17 steps", backend, lines[2*e-1])
			}
		}
		tm := testRE.FindStringSubmatch(lines[6])
		if tm == nil {
			t.Fatalf("%s: last line %q", backend, lines[6])
		}
		if !strings.HasPrefix(stderr, "simdmlp train: backend "+backend+", threads "+fmt.Sprint(kernels.DefaultThreads())+", data "+dir+" (train 300 = 270 training + 30 validation, test 100), 64-32 relu he_normal-16 tanh he_normal-10 softmax glorot_uniform, adam lr 0.01 beta1 0.9 beta2 0.999 eps 1e-07, batch 16, epochs 3, split 0.1, protocol clean, shuffle buffer 10000, stop none, seed 3\n") {
			t.Errorf("%s: header %q", backend, strings.SplitN(stderr, "\n", 2)[0])
		}
		if strings.Count(stderr, "test_accuracy") != 3 {
			t.Errorf("%s: -test-each-epoch printed %d test lines on stderr", backend, strings.Count(stderr, "test_accuracy"))
		}

		var rec struct {
			Args   []string `json:"args"`
			Config struct {
				Batch  int `json:"batch"`
				Hidden []struct {
					Width int    `json:"width"`
					Act   string `json:"act"`
				} `json:"hidden"`
				Optimizer struct {
					Name string  `json:"name"`
					LR   float64 `json:"lr"`
				} `json:"optimizer"`
			} `json:"config"`
			Epochs []struct {
				Epoch   int     `json:"epoch"`
				HasTest bool    `json:"has_test"`
				TestAcc float64 `json:"test_accuracy"`
			} `json:"epochs"`
			TestAcc    float64 `json:"test_accuracy"`
			StopEpoch  int     `json:"stop_epoch"`
			StopReason string  `json:"stop_reason"`
			Backend    string  `json:"backend"`
			NTrain     int     `json:"n_train"`
			NVal       int     `json:"n_val"`
			NTest      int     `json:"n_test"`
			Wall       float64 `json:"wall_seconds"`
			Data       struct {
				Dir   string `json:"dir"`
				Files []struct {
					Path string `json:"path"`
					MD5  string `json:"md5"`
				} `json:"files"`
			} `json:"data"`
		}
		b, err := os.ReadFile(jsonPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("%s: JSON: %v", backend, err)
		}
		if rec.Config.Batch != 16 || len(rec.Config.Hidden) != 2 || rec.Config.Hidden[1].Act != "tanh" || rec.Config.Optimizer.LR != 0.01 ||
			len(rec.Epochs) != 3 || !rec.Epochs[2].HasTest || rec.StopEpoch != 3 || rec.StopReason != "epochs" || rec.Backend != backend ||
			rec.NTrain != 270 || rec.NVal != 30 || rec.NTest != 100 || rec.Wall <= 0 || rec.Data.Dir != dir || len(rec.Args) != 19 {
			t.Errorf("%s: JSON record %s", backend, b)
		}
		if got := kerasNum(rec.TestAcc); got != tm[2] {
			t.Errorf("%s: JSON test accuracy %s, printed %s", backend, got, tm[2])
		}
		if rec.TestAcc < 0.9 {
			t.Errorf("%s: test accuracy %.4f on an easy fixture", backend, rec.TestAcc)
		}
		if len(rec.Data.Files) != 4 {
			t.Fatalf("%s: %d data files in JSON", backend, len(rec.Data.Files))
		}
		for _, f := range rec.Data.Files {
			raw, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			sum := md5.Sum(raw)
			if hex.EncodeToString(sum[:]) != f.MD5 {
				t.Errorf("%s: md5 of %s recorded as %s", backend, f.Path, f.MD5)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(jsonPath), ".*tmp*")); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
}

// TestTrainEarlyStopAndDataErrors: an early stop is reported on stderr; a folder
// without the files fails with status 1 and names -data. Patience 0 with a min_delta
// of 10 stops after epoch 2 (only epoch 1 improves) and restores epoch 1.
func TestTrainEarlyStopAndDataErrors(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, 200, 50)
	code, stdout, stderr := runTrainArgs(t, "-data", dir, "-hidden", "16", "-act", "relu", "-init", "default", "-epochs", "40", "-batch", "8",
		"-opt", "sgd", "-lr", "0.5", "-stop", "patience", "-min-delta", "10", "-restore-best")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "simdmlp train: stopped after epoch 2 (patience); kept the weights of epoch 1: val_loss: ") || strings.Count(stdout, "Epoch ") != 2 {
		t.Errorf("no early stop reported:\n%s\n%s", stdout, stderr)
	}
	if !strings.Contains(stderr, "16 relu glorot_uniform-10 softmax glorot_uniform, sgd lr 0.5") {
		t.Errorf("header: %s", stderr)
	}
	empty := t.TempDir()
	code, _, stderr = runTrainArgs(t, "-data", empty, "-epochs", "1")
	if code != 1 || !strings.HasPrefix(stderr, "simdmlp train: -data "+empty+": ") {
		t.Errorf("empty folder: exit %d, %q", code, stderr)
	}
	// A split that leaves nothing to validate on is a flag error found once the data
	// size is known.
	code, _, stderr = runTrainArgs(t, "-data", dir, "-split", "0.001")
	if code != 2 || !strings.HasPrefix(stderr, "simdmlp train: -split: want a split of the 200 training samples") {
		t.Errorf("split 0.001 of 200: exit %d, %q", code, stderr)
	}
}

func TestKerasFormatting(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{0.0533, "0.0533"}, {0.98345, "0.9835"}, {1, "1.0000"}, {0.00077161, "7.7161e-04"}, {0.001, "1.0000e-03"}, {0, "0.0000e+00"}} {
		if got := kerasNum(c.v); got != c.want {
			t.Errorf("kerasNum(%g) = %q, want %q", c.v, got, c.want)
		}
	}
	for _, c := range []struct {
		v    float64
		want string
	}{{11.4, "11s"}, {1, "1s"}, {0, "0s"}, {0.013, "13ms"}, {0.0004, "400us"}} {
		if got := kerasTime(c.v); got != c.want {
			t.Errorf("kerasTime(%g) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestTrainParse: no flags is DefaultConfig; the layer flags and the whole-network
// initializer names build the layers they say.
func TestTrainParse(t *testing.T) {
	o, err := parseTrainArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := mlp.DefaultConfig()
	if err := want.Normalize(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.cfg, want) || o.dataDir != "" || o.jsonPath != "" || o.backend != "" {
		t.Errorf("no flags: %+v\nwant %+v", o.cfg, want)
	}
	for _, c := range []struct {
		args   []string
		hidden []mlp.Layer
		out    mlp.Init
	}{
		{[]string{"-init", "he_normal-glorot_uniform"}, []mlp.Layer{lay(600, kernels.ReLU, mlp.HeNormal), lay(200, kernels.ReLU, mlp.HeNormal)}, mlp.GlorotUniform},
		{[]string{"-init", "default"}, []mlp.Layer{lay(600, kernels.ReLU, mlp.GlorotUniform), lay(200, kernels.ReLU, mlp.GlorotUniform)}, mlp.GlorotUniform},
		{[]string{"-init", "default", "-out-init", "he_normal"}, []mlp.Layer{lay(600, kernels.ReLU, mlp.GlorotUniform), lay(200, kernels.ReLU, mlp.GlorotUniform)}, mlp.HeNormal},
		{[]string{"-hidden", "50, 60,70", "-act", "tanh,sigmoid,relu", "-init", "glorot_uniform,he_normal,glorot_uniform"},
			[]mlp.Layer{lay(50, kernels.Tanh, mlp.GlorotUniform), lay(60, kernels.Sigmoid, mlp.HeNormal), lay(70, kernels.ReLU, mlp.GlorotUniform)}, mlp.GlorotUniform},
		{[]string{"-hidden", "400,400,400"}, []mlp.Layer{lay(400, kernels.ReLU, mlp.HeNormal), lay(400, kernels.ReLU, mlp.HeNormal), lay(400, kernels.ReLU, mlp.HeNormal)}, mlp.GlorotUniform},
	} {
		o, err := parseTrainArgs(c.args)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if !reflect.DeepEqual(o.cfg.Hidden, c.hidden) || o.cfg.OutputInit != c.out {
			t.Errorf("%q: layers %+v out %s, want %+v %s", c.args, o.cfg.Hidden, o.cfg.OutputInit, c.hidden, c.out)
		}
	}
	o, err = parseTrainArgs([]string{"-opt", "rmsprop", "-eps-outside", "-stop", "patience", "-patience", "2", "-restore-best", "-protocol", "report", "-shuffle-buffer", "0", "-seed", "9"})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Optimizer != (mlp.Optimizer{Name: "rmsprop", LR: 0.001, Rho: 0.9, Eps: 1e-7, EpsOutside: true}) ||
		c.Stop != (mlp.Stop{Kind: mlp.StopPatience, Patience: 2, RestoreBest: true}) || c.Protocol != mlp.Report || c.ShuffleBuffer != 0 || c.Seed != 9 {
		t.Errorf("parsed %+v", c)
	}
}

func lay(width int, act kernels.Activation, init mlp.Init) mlp.Layer {
	return mlp.Layer{Width: width, Act: act, Init: init}
}
