package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/idx/mnistdata"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

func init() {
	commands["train"] = command{summary: "train one model (no flags: the report's final configuration) and print Keras-style epoch lines", run: runTrain}
}

func runTrain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return train(ctx, args, os.Stdout, os.Stderr)
}

// trainOptions is everything the train flags set: the run's configuration and what
// surrounds it.
type trainOptions struct {
	cfg      mlp.Config
	dataDir  string // "" = fetch MNIST through the module proxy
	jsonPath string
	savePath string // "" = do not save the model
	backend  string // "" = the default backend (or $SIMDMLP_BACKEND)
}

// usageError is a bad command line: exit status 2, one line naming the flag.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func badFlag(flag, format string, a ...any) error {
	return &usageError{msg: "-" + flag + ": " + fmt.Sprintf(format, a...)}
}

// newTrainFlags defines every train flag on a new FlagSet writing into o, with the
// defaults of mlp.DefaultConfig. The layer flags are strings parsed afterwards by
// parseTrainArgs; they are returned so it can read them.
func newTrainFlags(o *trainOptions) (fs *flag.FlagSet, hidden, act, initS, outInit *string) {
	o.cfg = mlp.DefaultConfig()
	c := &o.cfg
	fs = flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported as one line by the caller
	hidden = fs.String("hidden", "600,200", "hidden layer `widths`, comma-separated")
	act = fs.String("act", "", "hidden `activations`, one per -hidden layer: relu, sigmoid, tanh (default relu for every layer)")
	initS = fs.String("init", "", "hidden `initializers`, one per -hidden layer: he_normal, glorot_uniform; or default (glorot_uniform everywhere, softmax layer included) or he_normal-glorot_uniform (the report's name for the default: he_normal hidden, glorot_uniform softmax)")
	outInit = fs.String("out-init", "", "softmax layer initializer: glorot_uniform or he_normal (default glorot_uniform)")
	fs.StringVar(&c.Optimizer.Name, "opt", c.Optimizer.Name, "optimizer: adam, sgd, adagrad, rmsprop")
	fs.Float64Var(&c.Optimizer.LR, "lr", 0, "learning rate (0 = the optimizer's Keras default: adam 0.001, sgd 0.01, adagrad 0.001, rmsprop 0.001)")
	fs.Float64Var(&c.Optimizer.Beta1, "beta1", 0, "adam beta1 (0 = 0.9)")
	fs.Float64Var(&c.Optimizer.Beta2, "beta2", 0, "adam beta2 (0 = 0.999)")
	fs.Float64Var(&c.Optimizer.Eps, "eps", 0, "adam, adagrad, rmsprop epsilon (0 = 1e-7)")
	fs.Float64Var(&c.Optimizer.Rho, "rho", 0, "rmsprop rho (0 = 0.9)")
	fs.Float64Var(&c.Optimizer.InitialAccumulator, "initial-accumulator", 0, "adagrad initial accumulator (0 = 0.1)")
	fs.BoolVar(&c.Optimizer.EpsOutside, "eps-outside", false, "adagrad, rmsprop: older Keras form g/(sqrt(a)+eps) instead of g/sqrt(a+eps)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "batch size (the last batch of an epoch may be partial)")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "epochs (the most, under an early-stopping rule)")
	fs.Float64Var(&c.Split, "split", c.Split, "validation fraction of the training images, 0 < split < 1")
	fs.Var(stringValue{(*string)(&c.Protocol)}, "protocol", "split `protocol`: clean (validation never trained on) or report (the report's leaky tf.data pipeline)")
	fs.IntVar(&c.ShuffleBuffer, "shuffle-buffer", c.ShuffleBuffer, "tf.data shuffle buffer size (0 = full shuffle)")
	fs.Var(stringValue{(*string)(&c.Stop.Kind)}, "stop", "early stopping `rule`: none, rise (stop when val_loss rises by more than -min-delta) or patience")
	fs.Float64Var(&c.Stop.MinDelta, "min-delta", 0, "rise: val_loss increase that stops (0 = 0.003); patience: least improvement (Keras min_delta)")
	fs.IntVar(&c.Stop.Patience, "patience", 0, "patience: epochs without improvement before stopping")
	fs.BoolVar(&c.Stop.RestoreBest, "restore-best", false, "patience: keep the best epoch's weights when stopping")
	fs.Float64Var(&c.Stop.LossFloor, "loss-floor", 0, "also stop when the epoch's training loss falls below this (0 = off)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of initialization, split and shuffles")
	fs.IntVar(&c.Threads, "threads", 0, "threads the kernels compute with (0 = every CPU this process may use); the results are the same bits for any count")
	fs.BoolVar(&c.TestEachEpoch, "test-each-epoch", false, "also evaluate the test set after every epoch (printed to stderr, stored in -json)")
	fs.StringVar(&o.dataDir, "data", "", "`folder` with the four MNIST-style IDX files, gzipped or not (default: fetch MNIST through the Go module proxy)")
	fs.StringVar(&o.jsonPath, "json", "", "also write the whole run as one JSON object to this `file`")
	fs.StringVar(&o.savePath, "save", "", "save the trained model (the kept weights) to this safetensors `file`, for simdmlp evaluate and predict")
	fs.StringVar(&o.backend, "backend", "", "kernels backend: "+strings.Join(kernels.Backends(), ", ")+" on this machine (default: the fastest, or $"+kernels.EnvBackend+")")
	return fs, hidden, act, initS, outInit
}

// stringValue is a flag.Value over a string-typed field such as mlp.Protocol.
type stringValue struct{ p *string }

func (v stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}
func (v stringValue) Set(s string) error { *v.p = s; return nil }

// flagErrorRE extracts the flag name from the flag package's parse errors.
var flagErrorRE = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for flag -([a-z0-9-]+): (.*)$`)

// parseTrainArgs turns the command line into options, or a usageError (or
// flag.ErrHelp). Every value is checked here, before any data is read.
func parseTrainArgs(args []string) (*trainOptions, error) {
	o := &trainOptions{}
	fs, hidden, act, initS, outInit := newTrainFlags(o)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		if m := flagErrorRE.FindStringSubmatch(err.Error()); m != nil {
			return nil, badFlag(m[2], "cannot parse %q: %s", m[1], m[3])
		}
		return nil, &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, &usageError{msg: fmt.Sprintf("unexpected argument %q (flags only; see simdmlp train -h)", fs.Arg(0))}
	}
	layers, err := parseLayers(*hidden, *act, *initS, *outInit, &o.cfg)
	if err != nil {
		return nil, err
	}
	o.cfg.Hidden = layers
	if o.jsonPath != "" {
		if st, err := os.Stat(filepath.Dir(o.jsonPath)); err != nil || !st.IsDir() {
			return nil, badFlag("json", "want a file in an existing folder, got %q (no folder %q)", o.jsonPath, filepath.Dir(o.jsonPath))
		}
	}
	if o.savePath != "" {
		if st, err := os.Stat(filepath.Dir(o.savePath)); err != nil || !st.IsDir() {
			return nil, badFlag("save", "want a file in an existing folder, got %q (no folder %q)", o.savePath, filepath.Dir(o.savePath))
		}
	}
	if err := o.cfg.Normalize(); err != nil {
		var fe *mlp.FieldError
		if errors.As(err, &fe) {
			return nil, fieldToFlag(fe)
		}
		return nil, &usageError{msg: err.Error()}
	}
	return o, nil
}

// parseLayers builds the hidden layers from -hidden, -act and -init, and sets the
// softmax layer's initializer from -out-init (or from -init's whole-network names).
func parseLayers(hidden, act, init, outInit string, c *mlp.Config) ([]mlp.Layer, error) {
	if strings.TrimSpace(hidden) == "" {
		return nil, badFlag("hidden", "want comma-separated layer widths like 600,200, got %q", hidden)
	}
	ws := strings.Split(hidden, ",")
	layers := make([]mlp.Layer, len(ws))
	for i, w := range ws {
		v, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil {
			return nil, badFlag("hidden", "layer %d: want a width (an integer >= 1), got %q", i+1, w)
		}
		layers[i] = mlp.Layer{Width: v, Act: kernels.ReLU, Init: mlp.HeNormal}
	}
	if act != "" {
		as := strings.Split(act, ",")
		if len(as) != len(layers) {
			return nil, badFlag("act", "want %d activations (one per -hidden layer), got %d (%q)", len(layers), len(as), act)
		}
		for i, a := range as {
			v, err := kernels.ParseActivation(strings.TrimSpace(a))
			if err != nil || v == kernels.Identity {
				return nil, badFlag("act", "layer %d: want relu, sigmoid or tanh, got %q", i+1, a)
			}
			layers[i].Act = v
		}
	}
	c.OutputInit = mlp.GlorotUniform
	switch init {
	case "":
	case "default":
		for i := range layers {
			layers[i].Init = mlp.GlorotUniform
		}
	case "he_normal-glorot_uniform":
		// The report's name: he_normal on the hidden (ReLU) layers, glorot_uniform on
		// the softmax layer; that is also the default.
	default:
		is := strings.Split(init, ",")
		if len(is) != len(layers) {
			return nil, badFlag("init", "want %d initializers (one per -hidden layer), default or he_normal-glorot_uniform, got %d (%q)", len(layers), len(is), init)
		}
		for i, s := range is {
			switch v := mlp.Init(strings.TrimSpace(s)); v {
			case mlp.HeNormal, mlp.GlorotUniform:
				layers[i].Init = v
			default:
				return nil, badFlag("init", "layer %d: want he_normal or glorot_uniform, got %q", i+1, s)
			}
		}
	}
	if outInit != "" {
		switch v := mlp.Init(outInit); v {
		case mlp.HeNormal, mlp.GlorotUniform:
			c.OutputInit = v
		default:
			return nil, badFlag("out-init", "want glorot_uniform or he_normal, got %q", outInit)
		}
	}
	return layers, nil
}

// fieldFlags maps configuration fields (mlp.FieldError.Field) to flag names.
var fieldFlags = map[string]string{
	"hidden": "hidden", "output_init": "out-init",
	"optimizer.name": "opt", "optimizer.lr": "lr", "optimizer.beta1": "beta1", "optimizer.beta2": "beta2",
	"optimizer.eps": "eps", "optimizer.rho": "rho", "optimizer.initial_accumulator": "initial-accumulator",
	"optimizer.eps_outside": "eps-outside",
	"batch":                 "batch", "epochs": "epochs", "split": "split", "protocol": "protocol", "shuffle_buffer": "shuffle-buffer",
	"stop.kind": "stop", "stop.min_delta": "min-delta", "stop.patience": "patience", "stop.restore_best": "restore-best",
	"stop.loss_floor": "loss-floor", "threads": "threads",
}

var layerFieldRE = regexp.MustCompile(`^hidden\[(\d+)\]\.(width|act|init)$`)

// fieldToFlag rewrites a configuration error in terms of the flag that set the field.
func fieldToFlag(fe *mlp.FieldError) error {
	if m := layerFieldRE.FindStringSubmatch(fe.Field); m != nil {
		i, _ := strconv.Atoi(m[1])
		name := map[string]string{"width": "hidden", "act": "act", "init": "init"}[m[2]]
		return badFlag(name, "layer %d: want %s, got %s", i+1, fe.Want, fe.Got)
	}
	if name, ok := fieldFlags[fe.Field]; ok {
		return badFlag(name, "want %s, got %s", fe.Want, fe.Got)
	}
	return &usageError{msg: fe.Error()}
}

// train is the train command with its streams; it returns the exit status: 0 done,
// 1 failure (data, I/O, interrupted), 2 bad command line.
func train(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseTrainArgs(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "usage: simdmlp train [flags]   (no flags: the report's final model on MNIST)")
			fs, _, _, _, _ := newTrainFlags(&trainOptions{})
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "simdmlp train: %v\n", err)
		return 2
	}
	if o.backend != "" {
		if err := kernels.Use(o.backend); err != nil {
			fmt.Fprintf(stderr, "simdmlp train: -backend: %v\n", err)
			return 2
		}
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "simdmlp train: %v\n", err)
		return 1
	}

	dir, fetched := o.dataDir, false
	if dir == "" {
		if dir, err = mnistdata.Fetch(ctx); err != nil {
			return fail(err)
		}
		fetched = true
	}
	ds, err := idx.LoadDir(dir)
	if err != nil {
		if !fetched {
			err = fmt.Errorf("-data %s: %w", dir, err)
		}
		return fail(err)
	}
	trainSet, testSet := toData(&ds.Train), toData(&ds.Test)
	tr, err := mlp.NewTrainer(o.cfg, trainSet, testSet)
	if err != nil {
		var fe *mlp.FieldError
		if errors.As(err, &fe) {
			fmt.Fprintf(stderr, "simdmlp train: %v\n", fieldToFlag(fe))
			return 2
		}
		return fail(err)
	}
	cfg := tr.Config()
	fmt.Fprintf(stderr, "simdmlp train: backend %s, threads %d, data %s (train %d = %d training + %d validation, test %d), %s\n",
		kernels.Backend(), tr.Threads(), dir, trainSet.N, trainSet.N-tr.NVal(), tr.NVal(), testSet.N, describe(cfg, trainSet))

	started := time.Now()
	res, runErr := tr.Run(ctx, func(m mlp.EpochMetrics) {
		fmt.Fprintf(stdout, "Epoch %d/%d\n%s\n", m.Epoch, cfg.Epochs, kerasLine(m))
		if m.HasTest {
			fmt.Fprintf(stderr, "epoch %d: test_loss: %s - test_accuracy: %s\n", m.Epoch, kerasNum(m.TestLoss), kerasNum(m.TestAcc))
		}
	})
	if runErr == nil {
		if res.StopReason != mlp.ReasonEpochs {
			fmt.Fprintf(stderr, "simdmlp train: stopped after epoch %d (%s); kept the weights of epoch %d: val_loss: %s - val_accuracy: %s\n",
				len(res.Epochs), res.StopReason, res.StopEpoch, kerasNum(res.ValLoss), kerasNum(res.ValAcc))
		}
		fmt.Fprintf(stdout, "test_loss: %s - test_accuracy: %s\n", kerasNum(res.TestLoss), kerasNum(res.TestAcc))
		if o.savePath != "" {
			// Atomic (temporary file + rename): an interrupted save leaves no partial model.
			if err := tr.Model().Save(o.savePath); err != nil {
				return fail(err)
			}
			fmt.Fprintf(stderr, "simdmlp train: saved the model (epoch %d weights) to %s\n", res.StopEpoch, o.savePath)
		}
	}
	if o.jsonPath != "" && res != nil {
		rec := runRecord{Args: args, Result: res, Started: started.UTC().Format(time.RFC3339),
			GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
			Data: dataInfo{Dir: dir, Fetched: fetched}}
		if fetched {
			rec.Data.Source = mnistdata.Module + "@" + mnistdata.Version
		}
		sums, err := mnistdata.Checksums(dir)
		if err != nil {
			return fail(err)
		}
		for _, s := range sums {
			rec.Data.Files = append(rec.Data.Files, fileSum{Path: s.Path, Size: s.Size, MD5: s.MD5, SHA256: s.SHA256})
		}
		if err := writeJSONAtomic(o.jsonPath, &rec); err != nil {
			return fail(err)
		}
	}
	if runErr != nil {
		return fail(runErr)
	}
	return 0
}

// toData views an idx set as trainer data (no copy): Rows*Cols features per image.
func toData(s *idx.Set) *mlp.Data {
	return &mlp.Data{N: s.Images.N, Features: s.Images.Rows * s.Images.Cols, Classes: idx.Classes, X: s.Images.Pix, Y: s.Labels}
}

// describe is the configuration in one line for the header.
func describe(c mlp.Config, d *mlp.Data) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", d.Features)
	for _, l := range c.Hidden {
		fmt.Fprintf(&b, "-%d %s %s", l.Width, l.Act, l.Init)
	}
	fmt.Fprintf(&b, "-%d softmax %s", d.Classes, c.OutputInit)
	o := c.Optimizer
	fmt.Fprintf(&b, ", %s lr %g", o.Name, o.LR)
	switch o.Name {
	case "adam":
		fmt.Fprintf(&b, " beta1 %g beta2 %g eps %g", o.Beta1, o.Beta2, o.Eps)
	case "adagrad":
		fmt.Fprintf(&b, " initial_accumulator %g eps %g", o.InitialAccumulator, o.Eps)
	case "rmsprop":
		fmt.Fprintf(&b, " rho %g eps %g", o.Rho, o.Eps)
	}
	if o.EpsOutside {
		b.WriteString(" eps_outside")
	}
	fmt.Fprintf(&b, ", batch %d, epochs %d, split %g, protocol %s, shuffle buffer %d, stop %s", c.Batch, c.Epochs, c.Split, c.Protocol, c.ShuffleBuffer, c.Stop.Kind)
	switch c.Stop.Kind {
	case mlp.StopRise:
		fmt.Fprintf(&b, " (min_delta %g)", c.Stop.MinDelta)
	case mlp.StopPatience:
		fmt.Fprintf(&b, " (patience %d, min_delta %g, restore_best %t)", c.Stop.Patience, c.Stop.MinDelta, c.Stop.RestoreBest)
	}
	if c.Stop.LossFloor > 0 {
		fmt.Fprintf(&b, ", loss floor %g", c.Stop.LossFloor)
	}
	fmt.Fprintf(&b, ", seed %d", c.Seed)
	return b.String()
}

// kerasLine is Keras's verbose=2 epoch line:
// "844/844 - 11s - loss: 0.0533 - accuracy: 0.9834 - val_loss: 0.0675 - val_accuracy: 0.9788 - 11s/epoch - 13ms/step".
func kerasLine(m mlp.EpochMetrics) string {
	return fmt.Sprintf("%d/%d - %.0fs - loss: %s - accuracy: %s - val_loss: %s - val_accuracy: %s - %s/epoch - %s/step",
		m.Steps, m.Steps, m.Seconds, kerasNum(m.Loss), kerasNum(m.Accuracy), kerasNum(m.ValLoss), kerasNum(m.ValAcc),
		kerasTime(m.Seconds), kerasTime(m.Seconds/float64(m.Steps)))
}

// kerasNum formats a metric as Keras's progress bar does: %.4f, or %.4e when its
// magnitude is at most 1e-3.
func kerasNum(v float64) string {
	if v > 1e-3 || v < -1e-3 {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.4e", v)
}

// kerasTime formats a duration per unit as Keras does: whole seconds from 1 s (and
// for 0), else whole milliseconds from 1 ms, else whole microseconds.
func kerasTime(sec float64) string {
	switch {
	case sec >= 1 || sec == 0:
		return fmt.Sprintf("%.0fs", sec)
	case sec >= 1e-3:
		return fmt.Sprintf("%.0fms", sec*1e3)
	default:
		return fmt.Sprintf("%.0fus", sec*1e6)
	}
}

// runRecord is the -json output: the whole run and where it ran.
type runRecord struct {
	Args []string `json:"args"`
	*mlp.Result
	Data      dataInfo `json:"data"`
	Started   string   `json:"started"`
	GoVersion string   `json:"go_version"`
	GOOS      string   `json:"goos"`
	GOARCH    string   `json:"goarch"`
}

type dataInfo struct {
	Dir     string    `json:"dir"`
	Fetched bool      `json:"fetched"`          // obtained through the Go module proxy
	Source  string    `json:"source,omitempty"` // module@version when fetched
	Files   []fileSum `json:"files"`
}

type fileSum struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	MD5    string `json:"md5"`
	SHA256 string `json:"sha256"`
}

// writeJSONAtomic writes v as indented JSON to path through a temporary file in the
// same directory, synced and renamed over path, so readers never see half a file.
func writeJSONAtomic(path string, v any) (err error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("-json %s: %v", path, err)
	}
	b = append(b, '\n')
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("-json %s: %v", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("-json %s: %v", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("-json %s: %v", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("-json %s: %v", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("-json %s: %v", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("-json %s: %v", path, err)
	}
	return nil
}
