package digit

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/idx/mnistdata"
)

var update = flag.Bool("update", false, "rewrite the fixtures in testdata/digit from the MNIST test set")

// testImages loads the MNIST test images (fetched through the module proxy, or from
// the module cache); it skips under -short.
func testImages(t *testing.T) *idx.Set {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs the MNIST test set")
	}
	ds, err := mnistdata.Load(context.Background(), "")
	if err != nil {
		t.Fatalf("loading MNIST: %v", err)
	}
	return &ds.Test
}

// mnistGray is MNIST test image i as an image.
func mnistGray(s *idx.Set, i int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, 28, 28))
	copy(g.Pix, s.Images.Image(i))
	return g
}

// variant renders MNIST image src as a user's picture would look: scaled up by an
// integer factor (each pixel a block), placed at (dx, dy) on a w x h canvas, and, if
// dark, inverted to a dark digit on white paper.
func variant(src *image.Gray, scale, dx, dy, w, h int, dark bool) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < 28*scale; y++ {
		for x := 0; x < 28*scale; x++ {
			g.Pix[(dy+y)*w+dx+x] = src.Pix[(y/scale)*28+x/scale]
		}
	}
	if dark {
		for i, v := range g.Pix {
			g.Pix[i] = 255 - v
		}
	}
	return g
}

// TestPrepareMNIST: preparing an MNIST test image, which MNIST already prepared, gives
// it back nearly unchanged; its inverted, moved, and moved-and-scaled-up-4x renderings
// give the same result as the plain one (exactly, or within resampling).
func TestPrepareMNIST(t *testing.T) {
	s := testImages(t)
	const n = 1000
	var diffPlain, diffScaled, diffJPEG float64
	exact, inexact, worst := 0, 0, 0.0
	for i := 0; i < n; i++ {
		src := mnistGray(s, i)
		plain, err := Prepare(src, Options{})
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		d := meanAbsDiff(plain, src)
		diffPlain += d
		worst = max(worst, d)
		if d == 0 {
			exact++
		}
		for _, v := range []struct {
			name string
			img  *image.Gray
		}{
			{"inverted", variant(src, 1, 0, 0, 28, 28, true)},
			{"moved", variant(src, 1, 9, 3, 50, 40, false)},
			{"moved and inverted", variant(src, 1, 17, 2, 50, 40, true)},
		} {
			g, err := Prepare(v.img, Options{})
			if err != nil {
				t.Fatalf("image %d %s: %v", i, v.name, err)
			}
			// Exactly the same, unless the digit touches the 28x28 frame: the plain
			// image's border then holds ink, which raises its noise floor a little.
			if dv := meanAbsDiff(g, plain); dv != 0 {
				inexact++
				if dv > 1 {
					t.Errorf("image %d %s: differs from the plain one by %.3f grey levels per pixel", i, v.name, dv)
				}
			}
		}
		g, err := Prepare(variant(src, 4, 30, 10, 160, 130, true), Options{})
		if err != nil {
			t.Fatalf("image %d scaled: %v", i, err)
		}
		diffScaled += meanAbsDiff(g, plain)
		var jb bytes.Buffer
		if err := jpeg.Encode(&jb, colour(variant(src, 3, 20, 6, 120, 100, false)), &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		jimg, err := Decode(&jb, "colour.jpg")
		if err != nil {
			t.Fatal(err)
		}
		if g, err = Prepare(jimg, Options{}); err != nil {
			t.Fatalf("image %d colour JPEG: %v", i, err)
		}
		diffJPEG += meanAbsDiff(g, plain)
	}
	t.Logf("%d MNIST test images: %d prepared back exactly; mean |difference| %.3f grey levels per pixel (worst image %.2f); "+
		"inverted/moved not exactly the plain result: %d of %d; scaled up 4x, moved, inverted vs plain: %.3f; colour JPEG vs plain: %.3f",
		n, exact, diffPlain/n, worst, inexact, 3*n, diffScaled/n, diffJPEG/n)
	if inexact > 3*n/100 {
		t.Errorf("%d of %d inverted or moved renderings differ from the plain one", inexact, 3*n)
	}
	// MNIST already is what Prepare makes: most images come back exactly, the others
	// shift by a pixel (a centre of mass that rounds the other way) or rescale slightly.
	if exact < n/2 || diffPlain/n > 3 || diffScaled/n > 3 || diffJPEG/n > 5 {
		t.Errorf("preparation of MNIST images strays: %d of %d exact, mean difference %.3f, scaled %.3f, JPEG %.3f", exact, n, diffPlain/n, diffScaled/n, diffJPEG/n)
	}
}

// TestWriteFixtures rewrites testdata/digit (with -update): for the first test image
// of each digit, the plain 28x28 PNG, a dark-on-light picture moved on a larger canvas
// and scaled up 4x, and a colour JPEG (blue ink on cream paper). The label is in each
// name: mnist-<index>-<label>-<variant>.<ext>.
func TestWriteFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/digit")
	}
	s := testImages(t)
	dir := filepath.Join("..", "testdata", "digit")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	done := map[uint8]bool{}
	for i := 0; len(done) < 10; i++ {
		lab := s.Labels[i]
		if done[lab] {
			continue
		}
		done[lab] = true
		src := mnistGray(s, i)
		base := filepath.Join(dir, fmt.Sprintf("mnist-%04d-%d", i, lab))
		writePNG(t, base+"-plain.png", src)
		writePNG(t, base+"-dark-moved-4x.png", variant(src, 4, 40, 12, 170, 140, true))
		c := colour(variant(src, 3, 20, 6, 120, 100, false))
		f, err := os.Create(base + "-colour.jpg")
		if err != nil {
			t.Fatal(err)
		}
		if err := jpeg.Encode(f, c, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// colour paints a light-on-black grey picture as blue ink (20, 40, 150) on cream
// paper (250, 240, 210), the grey level giving the ink's coverage.
func colour(g *image.Gray) *image.RGBA {
	b := g.Bounds()
	c := image.NewRGBA(b)
	for p, a := range g.Pix {
		f := float64(a) / 255
		mix := func(ink, paper float64) uint8 { return uint8(ink*f + paper*(1-f) + 0.5) }
		c.SetRGBA(p%b.Dx(), p/b.Dx(), color.RGBA{mix(20, 250), mix(40, 240), mix(150, 210), 255})
	}
	return c
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
