package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/simdmlp/simdmlp/digit"
	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/mlp"
)

func init() {
	commands["predict"] = command{summary: "tell the digit in pictures (PNG, JPEG) or in an IDX images file with a saved model", run: runPredict}
}

func runPredict(args []string) int { return predict(args, os.Stdout, os.Stderr) }

// predictOptions is what the predict command line asks for.
type predictOptions struct {
	model    string
	show     string
	invert   string
	idxFile  string
	index    int
	images   []string
	indexSet bool
}

// newPredictFlags defines the predict flags on a new FlagSet writing into o.
func newPredictFlags(o *predictOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported as one line by the caller
	fs.StringVar(&o.model, "model", "", "the model `file` (safetensors, written by simdmlp train -save)")
	fs.StringVar(&o.show, "show", "", "also write the 28x28 image the model saw to this PNG `file` (with several images: FILE-1.png, FILE-2.png, ... in the order given)")
	fs.StringVar(&o.invert, "invert", "auto", "`polarity` of the pictures: auto (invert a dark digit on light paper), yes (always invert), no (never: already light on black)")
	fs.StringVar(&o.idxFile, "idx", "", "read the image from this IDX images `file` (MNIST format, gzipped or not) instead of picture files")
	fs.IntVar(&o.index, "index", 0, "with -idx: the image's `position` in the file, from 0")
	return fs
}

// parsePredictArgs parses the command line; the flags may come before, between or
// after the picture files.
func parsePredictArgs(args []string) (*predictOptions, error) {
	o := &predictOptions{}
	fs := newPredictFlags(o)
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			if m := flagErrorRE.FindStringSubmatch(err.Error()); m != nil {
				return nil, badFlag(m[2], "cannot parse %q: %s", m[1], m[3])
			}
			return nil, &usageError{msg: err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		o.images = append(o.images, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	fs.Visit(func(f *flag.Flag) { o.indexSet = o.indexSet || f.Name == "index" })
	switch {
	case o.model == "":
		return nil, badFlag("model", "want the model file to predict with, got nothing")
	case o.idxFile == "" && len(o.images) == 0:
		return nil, &usageError{msg: "want picture files (PNG or JPEG) to predict, or -idx FILE -index N"}
	case o.idxFile != "" && len(o.images) > 0:
		return nil, badFlag("idx", "want either picture files or -idx, got both (-idx %s and %q)", o.idxFile, o.images[0])
	case o.indexSet && o.idxFile == "":
		return nil, badFlag("index", "want it with -idx FILE, got no -idx")
	case o.index < 0:
		return nil, badFlag("index", "want a position >= 0, got %d", o.index)
	case !slices.Contains([]string{"auto", "yes", "no"}, o.invert):
		return nil, badFlag("invert", "want auto, yes or no, got %q", o.invert)
	}
	if o.show != "" {
		if st, err := os.Stat(filepath.Dir(o.show)); err != nil || !st.IsDir() {
			return nil, badFlag("show", "want a file in an existing folder, got %q (no folder %q)", o.show, filepath.Dir(o.show))
		}
	}
	return o, nil
}

// predict is the predict command with its streams; it returns the exit status: 0 every
// image classified, 1 a failure (model, an image; the other images are still
// classified), 2 bad command line.
func predict(args []string, stdout, stderr io.Writer) int {
	o, err := parsePredictArgs(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "usage: simdmlp predict -model FILE [-show OUT.png] [-invert auto|yes|no] IMAGE...\n       simdmlp predict -model FILE -idx IMAGES-FILE -index N [-show OUT.png]")
			fmt.Fprintln(stderr, "Pictures are prepared as MNIST's digits were: grey, light digit on black, cropped, scaled to fit 20x20, centred by mass in 28x28.")
			fs := newPredictFlags(&predictOptions{})
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "simdmlp predict: %v\n", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "simdmlp predict: %v\n", err)
		return 1
	}
	m, err := mlp.LoadModel(o.model)
	if err != nil {
		return fail(err)
	}
	if m.Features() != digit.Size*digit.Size {
		return fail(fmt.Errorf("%s: the model reads %d inputs; pictures give %dx%d = %d", o.model, m.Features(), digit.Size, digit.Size, digit.Size*digit.Size))
	}
	x := make([]float32, m.Features())
	probs := make([]float32, m.Classes())
	classify := func(name string, g *image.Gray, show string) error {
		mlp.ScalePixels(x, g.Pix)
		class, err := m.Predict(x, probs)
		if err != nil {
			return err
		}
		if show != "" {
			if err := writeShow(show, g); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "%s: %d   (%s)\n", name, class, topK(probs, 3))
		return nil
	}

	if o.idxFile != "" {
		ims, err := idx.ReadImages(o.idxFile)
		if err != nil {
			return fail(err)
		}
		if ims.Rows != digit.Size || ims.Cols != digit.Size {
			return fail(fmt.Errorf("-idx %s: images of %dx%d pixels; the model reads 28x28", o.idxFile, ims.Rows, ims.Cols))
		}
		if o.index >= ims.N {
			return fail(badFlag("index", "want a position in 0..%d (%s holds %d images), got %d", ims.N-1, o.idxFile, ims.N, o.index))
		}
		// IDX images are MNIST's own: already prepared, so the model sees them as they are.
		g := image.NewGray(image.Rect(0, 0, digit.Size, digit.Size))
		copy(g.Pix, ims.Image(o.index))
		if err := classify(fmt.Sprintf("%s[%d]", o.idxFile, o.index), g, o.show); err != nil {
			return fail(err)
		}
		return 0
	}

	opt := digit.Options{Polarity: map[string]digit.Polarity{"auto": digit.Auto, "yes": digit.DarkOnLight, "no": digit.LightOnDark}[o.invert]}
	status := 0
	for i, path := range o.images {
		show := o.show
		if show != "" && len(o.images) > 1 {
			ext := filepath.Ext(show)
			show = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(show, ext), i+1, ext)
		}
		err := func() error {
			img, err := digit.Load(path)
			if err != nil {
				return err
			}
			g, err := digit.Prepare(img, opt)
			if err != nil {
				return err
			}
			return classify(path, g, show)
		}()
		if err != nil {
			// One form for every picture error: "PATH: what is wrong".
			msg := strings.TrimPrefix(err.Error(), "digit: ")
			if !strings.HasPrefix(msg, path+": ") {
				msg = path + ": " + msg
			}
			fmt.Fprintf(stderr, "simdmlp predict: %s\n", msg)
			status = 1
		}
	}
	return status
}

// topK formats the k most probable classes, most probable first: "7 99.87%, 3 0.08%, 2 0.03%".
func topK(probs []float32, k int) string {
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	parts := make([]string, 0, k)
	for _, c := range order[:min(k, len(order))] {
		parts = append(parts, fmt.Sprintf("%d %.2f%%", c, 100*probs[c]))
	}
	return strings.Join(parts, ", ")
}

// writeShow writes the prepared 28x28 image as a PNG, atomically.
func writeShow(path string, g *image.Gray) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("-show %s: %v", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = png.Encode(f, g); err != nil {
		return fmt.Errorf("-show %s: %v", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("-show %s: %v", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("-show %s: %v", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("-show %s: %v", path, err)
	}
	return nil
}
