package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/digit"
	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/idx/mnistdata"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

var (
	predictModel = flag.String("predict.model", "", "TestPredictRealMNIST: use this model instead of training a quick one")
	predictKeep  = flag.String("predict.keep", "", "TestPredictRealMNIST: write the rendered pictures into this folder (kept)")
	predictN     = flag.Int("predict.n", 100, "TestPredictRealMNIST: how many test images (the first ones) to render")
)

func runPredictArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = predict(args, &out, &errb)
	return code, out.String(), errb.String()
}

var fixtureModel = filepath.Join("..", "..", "testdata", "model", "mnist-100.safetensors")

// predictLineRE is one line of predict's output: "NAME: DIGIT   (D P%, D P%, D P%)".
var predictLineRE = regexp.MustCompile(`^(.+): (\d)   \((\d) (\d+\.\d\d)%, (\d) (\d+\.\d\d)%, (\d) (\d+\.\d\d)%\)$`)

// parsePredictions maps each name in predict's output to the digit it printed, and
// checks the top-3 part: three different digits, the first the one printed,
// probabilities falling.
func parsePredictions(t *testing.T, stdout string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		m := predictLineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("predict line %q is not NAME: DIGIT   (top 3)", line)
		}
		p1, _ := strconv.ParseFloat(m[4], 64)
		p2, _ := strconv.ParseFloat(m[6], 64)
		p3, _ := strconv.ParseFloat(m[8], 64)
		if m[3] != m[2] || m[3] == m[5] || m[5] == m[7] || m[3] == m[7] || p1 < p2 || p2 < p3 || p1+p2+p3 > 100.02 {
			t.Errorf("predict line %q: top 3 inconsistent", line)
		}
		got[m[1]], _ = strconv.Atoi(m[2])
	}
	return got
}

// labelOf reads the label from a fixture name: mnist-<index>-<label>-<variant>.<ext>.
func labelOf(t *testing.T, path string) int {
	t.Helper()
	parts := strings.Split(filepath.Base(path), "-")
	l, err := strconv.Atoi(parts[2])
	if err != nil {
		t.Fatalf("fixture name %s", path)
	}
	return l
}

func readGrayPNG(t *testing.T, path string) *image.Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok || g.Rect != image.Rect(0, 0, 28, 28) {
		t.Fatalf("%s: %T %v, want a 28x28 grey PNG", path, img, img.Bounds())
	}
	return g
}

// TestPredictFixtures: the committed model tells every committed picture (real MNIST
// test images: plain, dark on light moved and scaled up 4x, colour JPEG) as its label,
// with flags after the pictures too; -show writes what the model saw, which is the
// same for a plain picture and its dark, moved, scaled-up rendering.
func TestPredictFixtures(t *testing.T) {
	pics, err := filepath.Glob(filepath.Join("..", "..", "testdata", "digit", "mnist-*"))
	if err != nil || len(pics) != 30 {
		t.Fatalf("%d fixture pictures (%v)", len(pics), err)
	}
	show := filepath.Join(t.TempDir(), "seen.png")
	args := append([]string{"-model", fixtureModel}, pics...)
	args = append(args, "-show", show) // a flag after the pictures
	code, stdout, stderr := runPredictArgs(t, args...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	got := parsePredictions(t, stdout)
	if len(got) != len(pics) {
		t.Fatalf("%d predictions for %d pictures:\n%s", len(got), len(pics), stdout)
	}
	for i, p := range pics {
		if got[p] != labelOf(t, p) {
			t.Errorf("%s: predicted %d", p, got[p])
		}
		seen := readGrayPNG(t, filepath.Join(filepath.Dir(show), fmt.Sprintf("seen-%d.png", i+1)))
		img, err := digit.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := digit.Prepare(img, digit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(seen.Pix, want.Pix) {
			t.Errorf("%s: -show wrote something else than the prepared picture", p)
		}
		if strings.HasSuffix(p, "-dark-moved-4x.png") {
			plain := readGrayPNG(t, filepath.Join(filepath.Dir(show), fmt.Sprintf("seen-%d.png", i+2)))
			if !bytes.Equal(seen.Pix, plain.Pix) {
				t.Errorf("%s: the model saw something else than for the plain picture", p)
			}
		}
	}
	// One picture: -show writes exactly the file named.
	one := filepath.Join(t.TempDir(), "one.png")
	if code, _, stderr := runPredictArgs(t, "-show", one, "-model", fixtureModel, pics[0]); code != 0 {
		t.Fatalf("one picture: exit %d %s", code, stderr)
	}
	readGrayPNG(t, one)
}

// TestPredictIDX: -idx FILE -index N classifies image N of an IDX images file as is
// (IDX images are already prepared), and -show writes it unchanged.
func TestPredictIDX(t *testing.T) {
	pics, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "digit", "mnist-*-plain.png"))
	a, err := idx.New(idx.U8, len(pics), 28, 28)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pics {
		copy(a.U8[i*784:], readGrayPNG(t, p).Pix)
	}
	file := filepath.Join(t.TempDir(), "images-idx3-ubyte.gz")
	if err := idx.WriteFile(file, a, true); err != nil {
		t.Fatal(err)
	}
	for i, p := range pics {
		show := filepath.Join(t.TempDir(), "seen.png")
		code, stdout, stderr := runPredictArgs(t, "-model", fixtureModel, "-idx", file, "-index", strconv.Itoa(i), "-show", show)
		if code != 0 {
			t.Fatalf("index %d: exit %d %s", i, code, stderr)
		}
		got := parsePredictions(t, stdout)
		if d, ok := got[fmt.Sprintf("%s[%d]", file, i)]; !ok || d != labelOf(t, p) {
			t.Errorf("index %d (%s): %s", i, p, stdout)
		}
		if !bytes.Equal(readGrayPNG(t, show).Pix, a.U8[i*784:(i+1)*784]) {
			t.Errorf("index %d: -show differs from the IDX image", i)
		}
	}
}

// TestPredictErrors: bad command lines exit 2; a bad model, picture or IDX file exits 1
// with a line naming it, and the other pictures are still classified.
func TestPredictErrors(t *testing.T) {
	tmp := t.TempDir()
	text := filepath.Join(tmp, "notes.txt")
	os.WriteFile(text, []byte("a shopping list, not a picture"), 0o644)
	blank := filepath.Join(tmp, "blank.png")
	var bb bytes.Buffer
	bi := image.NewGray(image.Rect(0, 0, 40, 40))
	for i := range bi.Pix {
		bi.Pix[i] = 250
	}
	png.Encode(&bb, bi)
	os.WriteFile(blank, bb.Bytes(), 0o644)
	cut := filepath.Join(tmp, "cut.png")
	good, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "digit", "mnist-0000-7-plain.png"))
	os.WriteFile(cut, good[:len(good)/2], 0o644)
	truncModel := filepath.Join(tmp, "trunc.safetensors")
	mb, _ := os.ReadFile(fixtureModel)
	os.WriteFile(truncModel, mb[:len(mb)-100], 0o644)
	small, _ := mlp.NewModel(64, 10, []mlp.Layer{{Width: 4, Act: kernels.ReLU}})
	smallModel := filepath.Join(tmp, "small.safetensors")
	if err := small.Save(smallModel); err != nil {
		t.Fatal(err)
	}
	idxFile := filepath.Join(tmp, "one-idx3-ubyte")
	a, _ := idx.New(idx.U8, 1, 28, 28)
	idx.WriteFile(idxFile, a, false)
	pic := filepath.Join("..", "..", "testdata", "digit", "mnist-0002-1-plain.png")

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{pic}, 2, "-model: want the model file"},
		{[]string{"-model", fixtureModel}, 2, "want picture files (PNG or JPEG) to predict, or -idx FILE -index N"},
		{[]string{"-model", fixtureModel, "-idx", idxFile, pic}, 2, "-idx: want either picture files or -idx"},
		{[]string{"-model", fixtureModel, "-index", "3", pic}, 2, "-index: want it with -idx FILE"},
		{[]string{"-model", fixtureModel, "-idx", idxFile, "-index", "-1"}, 2, "-index: want a position >= 0, got -1"},
		{[]string{"-model", fixtureModel, "-index", "x"}, 2, `-index: cannot parse "x"`},
		{[]string{"-model", fixtureModel, "-invert", "maybe", pic}, 2, `-invert: want auto, yes or no, got "maybe"`},
		{[]string{"-model", fixtureModel, "-show", filepath.Join(tmp, "no", "x.png"), pic}, 2, "-show: want a file in an existing folder"},
		{[]string{"-model", filepath.Join(tmp, "none.safetensors"), pic}, 1, "none.safetensors: no such file"},
		{[]string{"-model", truncModel, pic}, 1, "model file " + truncModel + ": data: the tensors need"},
		{[]string{"-model", smallModel, pic}, 1, "the model reads 64 inputs; pictures give 28x28 = 784"},
		{[]string{"-model", fixtureModel, "-idx", idxFile, "-index", "1"}, 1, "-index: want a position in 0..0"},
		{[]string{"-model", fixtureModel, "-idx", text}, 1, "notes.txt"},
	} {
		code, stdout, stderr := runPredictArgs(t, c.args...)
		if code != c.code || !strings.HasPrefix(stderr, "simdmlp predict: ") || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit %d and one line containing %q", c.args, code, stderr, stdout, c.code, c.want)
		}
	}

	// Bad pictures among good ones: one error line each, the good ones classified, exit 1.
	code, stdout, stderr := runPredictArgs(t, "-model", fixtureModel, text, pic, blank, cut)
	if code != 1 {
		t.Errorf("bad pictures: exit %d, want 1", code)
	}
	if got := parsePredictions(t, stdout); len(got) != 1 || got[pic] != 1 {
		t.Errorf("the good picture: %q", stdout)
	}
	for _, want := range []string{
		text + `: not a PNG or JPEG image (it starts with "a shoppi")`,
		blank + ": no digit found",
		cut + ": corrupt png image",
	} {
		if !strings.Contains(stderr, "simdmlp predict: "+want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Count(stderr, "\n") != 3 {
		t.Errorf("want 3 error lines:\n%s", stderr)
	}
	if code, _, stderr := runPredictArgs(t, "-h"); code != 0 || !strings.Contains(stderr, "usage: simdmlp predict -model FILE") {
		t.Errorf("-h: exit %d, %s", code, stderr)
	}
}

// render draws MNIST image pix (28x28, light on black) as a user's picture: scaled by
// f with bilinear interpolation, placed at (dx, dy) on a w x h canvas, inverted to
// dark on white paper when dark.
func render(pix []uint8, f float64, dx, dy, w, h int, dark bool) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	n := int(math.Round(28 * f))
	at := func(x, y int) float64 {
		return float64(pix[min(max(y, 0), 27)*28+min(max(x, 0), 27)])
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			sx, sy := (float64(x)+0.5)/f-0.5, (float64(y)+0.5)/f-0.5
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			v := (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
			g.Pix[(dy+y)*w+dx+x] = uint8(math.Round(v))
		}
	}
	if dark {
		for i, v := range g.Pix {
			g.Pix[i] = 255 - v
		}
	}
	return g
}

// TestPredictRealMNIST trains a quick model on 20,000 real MNIST training images (2
// epochs; or takes -predict.model), writes the first 100 test images as pictures in
// four ways (plain PNG; inverted PNG; inverted, moved off-centre on a larger canvas and
// scaled up 2.5-4.5x PNG; the same as a colour JPEG), runs predict on each set and
// checks the rates against the label: >= 95% plain, >= 90% for the others. Skipped
// under -short.
func TestPredictRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs MNIST")
	}
	ds, err := mnistdata.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	model := *predictModel
	if model == "" {
		c := mlp.DefaultConfig()
		c.Hidden = []mlp.Layer{{Width: 128, Act: kernels.ReLU, Init: mlp.HeNormal}}
		c.Epochs = 2
		const n = 20000
		train := &mlp.Data{N: n, Features: 784, Classes: 10, X: ds.Train.Images.Pix[:n*784], Y: ds.Train.Labels[:n]}
		tr, err := mlp.NewTrainer(c, train, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		model = filepath.Join(t.TempDir(), "quick.safetensors")
		if err := tr.Model().Save(model); err != nil {
			t.Fatal(err)
		}
	}
	dir := *predictKeep
	if dir == "" {
		dir = t.TempDir()
	}
	rng := rand.New(rand.NewPCG(8, 8))
	sets := map[string][]string{}
	labels := map[string]int{}
	for i := 0; i < *predictN; i++ {
		pix := ds.Test.Images.Image(i)
		f := 2.5 + 2*rng.Float64()
		n := int(math.Round(28 * f))
		w, h := n+20+rng.IntN(3*n/2), n+20+rng.IntN(n)
		dx, dy := 10+rng.IntN(w-n-19), 10+rng.IntN(h-n-19)
		for _, v := range []struct {
			set string
			img image.Image
		}{
			{"plain", render(pix, 1, 0, 0, 28, 28, false)},
			{"inverted", render(pix, 1, 0, 0, 28, 28, true)},
			{"moved-scaled", render(pix, f, dx, dy, w, h, true)},
			{"colour-jpeg", tint(render(pix, f, dx, dy, w, h, true))},
		} {
			ext := ".png"
			if v.set == "colour-jpeg" {
				ext = ".jpg"
			}
			p := filepath.Join(dir, fmt.Sprintf("test-%04d-%d-%s%s", i, ds.Test.Labels[i], v.set, ext))
			var b bytes.Buffer
			if ext == ".png" {
				err = png.Encode(&b, v.img)
			} else {
				err = jpeg.Encode(&b, v.img, &jpeg.Options{Quality: 85})
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			sets[v.set] = append(sets[v.set], p)
			labels[p] = int(ds.Test.Labels[i])
		}
	}
	rates := map[string]float64{}
	for _, set := range []string{"plain", "inverted", "moved-scaled", "colour-jpeg"} {
		code, stdout, stderr := runPredictArgs(t, append([]string{"-model", model}, sets[set]...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", set, code, stderr)
		}
		got := parsePredictions(t, stdout)
		right := 0
		for _, p := range sets[set] {
			if d, ok := got[p]; ok && d == labels[p] {
				right++
			}
		}
		rates[set] = float64(right) / float64(len(sets[set]))
	}
	// The model on the same images as MNIST stores them, without any picture in between.
	m, err := mlp.LoadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, *predictN*784)
	mlp.ScalePixels(x, ds.Test.Images.Pix[:*predictN*784])
	classes := make([]int, *predictN)
	if err := m.PredictBatch(*predictN, x, classes, nil); err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, c := range classes {
		if c == int(ds.Test.Labels[i]) {
			right++
		}
	}
	t.Logf("model %s: right on the first %d MNIST test images as stored (IDX) %.1f%%; as plain PNG %.1f%%, inverted PNG %.1f%%, inverted+moved+scaled PNG %.1f%%, the same as colour JPEG %.1f%%",
		model, *predictN, 100*float64(right)/float64(*predictN), 100*rates["plain"], 100*rates["inverted"], 100*rates["moved-scaled"], 100*rates["colour-jpeg"])
	if rates["plain"] < 0.95 || rates["inverted"] < 0.90 || rates["moved-scaled"] < 0.90 || rates["colour-jpeg"] < 0.90 {
		t.Errorf("rates below 95%% (plain) / 90%% (others): %v", rates)
	}
}

// tint paints a dark-on-white grey picture as blue ink on cream paper.
func tint(g *image.Gray) *image.RGBA {
	b := g.Bounds()
	c := image.NewRGBA(b)
	for p, v := range g.Pix {
		f := 1 - float64(v)/255 // ink coverage
		mix := func(ink, paper float64) uint8 { return uint8(ink*f + paper*(1-f) + 0.5) }
		c.SetRGBA(p%b.Dx(), p/b.Dx(), color.RGBA{mix(20, 250), mix(40, 240), mix(150, 210), 255})
	}
	return c
}

// TestTopK: the most probable first, ties in class order, k capped by the classes.
func TestTopK(t *testing.T) {
	if got := topK([]float32{0.1, 0.5, 0.1, 0.3}, 3); got != "1 50.00%, 3 30.00%, 0 10.00%" {
		t.Errorf("topK = %q", got)
	}
	if got := topK([]float32{0.25, 0.75}, 3); got != "1 75.00%, 0 25.00%" {
		t.Errorf("topK of 2 classes = %q", got)
	}
}
