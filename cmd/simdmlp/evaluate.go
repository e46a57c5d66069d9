package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"

	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/idx/mnistdata"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

func init() {
	commands["evaluate"] = command{summary: "measure a saved model on the test set: loss, accuracy, per-class precision/recall, confusion matrix", run: runEvaluate}
}

func runEvaluate(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return evaluate(ctx, args, os.Stdout, os.Stderr)
}

// evaluation is the -json output of evaluate.
type evaluation struct {
	Model        string  `json:"model"`
	Architecture string  `json:"architecture"`
	Params       int     `json:"params"`
	Backend      string  `json:"backend"`
	DataDir      string  `json:"data_dir"`
	N            int     `json:"n"`
	Loss         float64 `json:"loss"`
	Accuracy     float64 `json:"accuracy"`
	// Confusion[t][p] counts the test images of digit t predicted as p.
	Confusion [][]int `json:"confusion"`
	// Precision and Recall per class; null when undefined (nothing predicted as the
	// class, or no image of it).
	Precision []*float64 `json:"precision"`
	Recall    []*float64 `json:"recall"`
}

// evaluate is the evaluate command with its streams; it returns the exit status:
// 0 done, 1 failure (model file, data), 2 bad command line.
func evaluate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	model := fs.String("model", "", "the model `file` (safetensors, written by simdmlp train -save)")
	dataDir := fs.String("data", "", "`folder` with the four MNIST-style IDX files (default: fetch MNIST through the Go module proxy)")
	asJSON := fs.Bool("json", false, "print one JSON object (one line) instead of the text tables")
	backend := fs.String("backend", "", "kernels backend: "+strings.Join(kernels.Backends(), ", ")+" (default: the fastest, or $"+kernels.EnvBackend+"); train's numbers are reproduced bit for bit on the backend that trained")
	usageFail := func(msg string) int {
		fmt.Fprintf(stderr, "simdmlp evaluate: %s\n", msg)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "usage: simdmlp evaluate -model FILE [-data DIR] [-json]")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return 0
		}
		return usageFail(err.Error())
	}
	if fs.NArg() > 0 {
		return usageFail(fmt.Sprintf("unexpected argument %q (flags only; see simdmlp evaluate -h)", fs.Arg(0)))
	}
	if *model == "" {
		return usageFail("-model: want the model file to evaluate, got nothing")
	}
	if *backend != "" {
		if err := kernels.Use(*backend); err != nil {
			return usageFail("-backend: " + err.Error())
		}
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "simdmlp evaluate: %v\n", err)
		return 1
	}
	m, err := mlp.LoadModel(*model)
	if err != nil {
		return fail(err)
	}
	dir := *dataDir
	if dir == "" {
		if dir, err = mnistdata.Fetch(ctx); err != nil {
			return fail(err)
		}
	}
	ds, err := idx.LoadDir(dir)
	if err != nil {
		return fail(fmt.Errorf("-data %s: %w", dir, err))
	}
	test := toData(&ds.Test)
	e, err := m.Evaluate(test)
	if err != nil {
		return fail(fmt.Errorf("%s on %s: %w", *model, dir, err))
	}
	out := evaluation{Model: *model, Architecture: m.String(), Params: m.Params(), Backend: kernels.Backend(), DataDir: dir,
		N: e.N, Loss: e.Loss, Accuracy: e.Accuracy, Confusion: e.Confusion}
	for c := range e.Confusion {
		out.Precision = append(out.Precision, finite(e.Precision(c)))
		out.Recall = append(out.Recall, finite(e.Recall(c)))
	}
	if *asJSON {
		b, err := json.Marshal(out)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	printEvaluation(stdout, &out)
	return 0
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// printEvaluation writes the text report: the model, the metrics in train's format,
// and the confusion matrix with each class's recall (its row) and precision (its
// column).
func printEvaluation(w io.Writer, e *evaluation) {
	fmt.Fprintf(w, "model %s: %s, %d parameters; backend %s\n", e.Model, e.Architecture, e.Params, e.Backend)
	fmt.Fprintf(w, "test set: %d images from %s\n", e.N, e.DataDir)
	fmt.Fprintf(w, "test_loss: %s - test_accuracy: %s\n\n", kerasNum(e.Loss), kerasNum(e.Accuracy))
	fmt.Fprintln(w, "confusion matrix: rows = true digit, columns = predicted digit")
	fmt.Fprintf(w, "%5s", "")
	for c := range e.Confusion {
		fmt.Fprintf(w, " %5d", c)
	}
	fmt.Fprintf(w, "  %7s\n", "recall")
	for t, row := range e.Confusion {
		fmt.Fprintf(w, "%5d", t)
		for _, v := range row {
			fmt.Fprintf(w, " %5d", v)
		}
		fmt.Fprintf(w, "  %7s\n", ratio(e.Recall[t]))
	}
	fmt.Fprintf(w, "%5s", "prec.")
	for _, p := range e.Precision {
		fmt.Fprintf(w, " %5s", ratio2(p))
	}
	fmt.Fprintln(w)
}

// ratio formats a precision or recall with 4 decimals ("-" when undefined).
func ratio(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.4f", *p)
}

// ratio2 is ratio in 5 characters, for the precision row under the matrix's columns.
func ratio2(p *float64) string {
	if p == nil {
		return "-"
	}
	if *p >= 0.99995 {
		return "1.000"
	}
	return fmt.Sprintf(".%04.0f", *p*1e4)
}
