package digit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// ring draws an anti-aliased elliptic ring (a hand-drawn "0" with a tail, so that
// it is not symmetric) of ink colour ink on paper colour paper into a w x h image,
// centred at (cx, cy) with radii rx, ry and the given stroke width, all scaled by s.
func ring(w, h int, cx, cy, rx, ry, stroke, s float64, ink, paper color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	const ss = 4 // supersampling per side
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			cover := 0
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					px := (float64(x) + (float64(sx)+0.5)/ss) / s
					py := (float64(y) + (float64(sy)+0.5)/ss) / s
					d := math.Hypot((px-cx)/rx, (py-cy)/ry)
					inRing := math.Abs(d-1)*math.Min(rx, ry) < stroke/2
					inTail := px > cx && px < cx+rx*1.3 && math.Abs(py-(cy+ry)-(px-cx)*0.3) < stroke/2
					if inRing || inTail {
						cover++
					}
				}
			}
			a := float64(cover) / (ss * ss)
			mix := func(i, p uint8) uint8 { return uint8(math.Round(float64(i)*a + float64(p)*(1-a))) }
			img.SetRGBA(x, y, color.RGBA{mix(ink.R, paper.R), mix(ink.G, paper.G), mix(ink.B, paper.B), 255})
		}
	}
	return img
}

var (
	black = color.RGBA{0, 0, 0, 255}
	white = color.RGBA{255, 255, 255, 255}
)

func mustPrepare(t *testing.T, img image.Image, opt Options) *image.Gray {
	t.Helper()
	g, err := Prepare(img, opt)
	if err != nil {
		t.Fatal(err)
	}
	if g.Rect != image.Rect(0, 0, Size, Size) || g.Stride != Size {
		t.Fatalf("prepared image %v stride %d, want 28x28 stride 28", g.Rect, g.Stride)
	}
	return g
}

// stats returns the bounding box of the non-zero pixels, the centre of mass (pixel
// indices) and the largest value of a prepared image.
func stats(g *image.Gray) (box image.Rectangle, cx, cy float64, peak uint8) {
	x0, y0, x1, y1 := Size, Size, -1, -1
	var m float64
	for y := 0; y < Size; y++ {
		for x := 0; x < Size; x++ {
			v := g.Pix[y*Size+x]
			if v == 0 {
				continue
			}
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			m += float64(v)
			cx += float64(v) * float64(x)
			cy += float64(v) * float64(y)
			peak = max(peak, v)
		}
	}
	return image.Rect(x0, y0, x1+1, y1+1), cx / m, cy / m, peak
}

// meanAbsDiff is the mean absolute difference of two prepared images, in grey levels.
func meanAbsDiff(a, b *image.Gray) float64 {
	var s float64
	for i := range a.Pix {
		s += math.Abs(float64(a.Pix[i]) - float64(b.Pix[i]))
	}
	return s / float64(len(a.Pix))
}

// TestPrepareGeometry: the digit ends up fitting 20x20 with its larger side 20 pixels
// long (give or take the faint anti-aliased edge), its centre of mass within half a
// pixel (the rounding of an integer shift) of (14, 14), its ink at full strength.
func TestPrepareGeometry(t *testing.T) {
	for _, c := range []struct {
		name                   string
		w, h                   int
		cx, cy, rx, ry, stroke float64
		tall                   bool
	}{
		{"tall", 200, 150, 80, 70, 25, 45, 9, true},
		{"wide", 300, 120, 120, 60, 90, 30, 10, false},
		{"small", 40, 40, 15, 20, 5, 8, 2, true}, // 13x21-pixel digit: scaled up
	} {
		t.Run(c.name, func(t *testing.T) {
			g := mustPrepare(t, ring(c.w, c.h, c.cx, c.cy, c.rx, c.ry, c.stroke, 1, black, white), Options{})
			box, cx, cy, peak := stats(g)
			long, short := box.Dy(), box.Dx()
			if !c.tall {
				long, short = short, long
			}
			if long != Box || short > Box || short < 8 {
				t.Errorf("bounding box %v: want the longer side %d and the shorter one smaller", box, Box)
			}
			if math.Abs(cx-14) > 0.5 || math.Abs(cy-14) > 0.5 {
				t.Errorf("centre of mass (%.2f, %.2f), want (14, 14) within 0.5", cx, cy)
			}
			if peak < 250 {
				t.Errorf("strongest ink %d, want about 255", peak)
			}
		})
	}
}

// TestPrepareInvariance: moving the digit, inverting the picture, writing it in
// colour on coloured paper, on a transparent background, or on noisy paper gives the
// same (or all but the same) prepared image; scaling the picture up 4x changes it
// only by resampling.
func TestPrepareInvariance(t *testing.T) {
	base := mustPrepare(t, ring(200, 150, 80, 70, 25, 45, 9, 1, black, white), Options{})
	same := func(name string, img image.Image, opt Options, tol float64) {
		t.Helper()
		g, err := Prepare(img, opt)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		if d := meanAbsDiff(g, base); d > tol {
			t.Errorf("%s: differs from the plain picture by %.3f grey levels per pixel, want <= %g", name, d, tol)
		}
	}
	same("moved", ring(260, 190, 150, 100, 25, 45, 9, 1, black, white), Options{}, 0)
	// (The ring's anti-aliased edge rounds differently inverted: a few pixels may move by one level.)
	same("light on dark", ring(200, 150, 80, 70, 25, 45, 9, 1, white, black), Options{}, 0.01)
	same("light on dark, told", ring(200, 150, 80, 70, 25, 45, 9, 1, white, black), Options{Polarity: LightOnDark}, 0.01)
	same("dark on light, told", ring(200, 150, 80, 70, 25, 45, 9, 1, black, white), Options{Polarity: DarkOnLight}, 0)
	same("blue on yellow", ring(200, 150, 80, 70, 25, 45, 9, 1, color.RGBA{20, 30, 140, 255}, color.RGBA{250, 240, 190, 255}), Options{}, 1)
	same("scaled up 4x", ring(800, 600, 80, 70, 25, 45, 9, 4, black, white), Options{}, 3)

	// A colour JPEG: lossy, with ringing along the strokes.
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, ring(200, 150, 80, 70, 25, 45, 9, 1, color.RGBA{20, 30, 140, 255}, color.RGBA{250, 240, 190, 255}), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	jimg, err := Decode(&jb, "ring.jpg")
	if err != nil {
		t.Fatal(err)
	}
	same("colour JPEG", jimg, Options{}, 4)

	// Black ink on a transparent background: transparent is paper.
	tr := image.NewNRGBA(image.Rect(0, 0, 200, 150))
	src := ring(200, 150, 80, 70, 25, 45, 9, 1, black, white)
	for i := 0; i < len(src.Pix); i += 4 {
		tr.Pix[i+3] = 255 - src.Pix[i] // ink coverage as alpha, colour black
	}
	same("transparent", tr, Options{}, 1)

	// Grey paper with noise (a phone photo): the background level and the noise floor
	// are estimated from the border.
	noisy := ring(200, 150, 80, 70, 25, 45, 9, 1, color.RGBA{40, 40, 40, 255}, color.RGBA{200, 200, 200, 255})
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < len(noisy.Pix); i += 4 {
		v := min(max(float64(noisy.Pix[i])+rng.NormFloat64()*6, 0), 255)
		noisy.Pix[i], noisy.Pix[i+1], noisy.Pix[i+2] = uint8(v), uint8(v), uint8(v)
	}
	same("noisy grey paper", noisy, Options{}, 12)
	if _, err := Prepare(noisy, Options{}); err == nil {
		g := mustPrepare(t, noisy, Options{})
		if box, _, _, _ := stats(g); box.Dy() != Box {
			t.Errorf("noisy paper: digit bounding box %v, want 20 high (noise taken for ink?)", box)
		}
	}
}

// TestPrepareBlank: a picture with no ink, or told the wrong polarity, is ErrBlank.
func TestPrepareBlank(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 50, 40))
	for i := range blank.Pix {
		blank.Pix[i] = 230
	}
	blank.Pix[500] = 215 // a speck fainter than minContrast
	_, err := Prepare(blank, Options{})
	if !errors.Is(err, ErrBlank) || !strings.Contains(err.Error(), "contrast 15 of 255") {
		t.Errorf("blank paper: %v, want ErrBlank with the contrast", err)
	}
	_, err = Prepare(ring(200, 150, 80, 70, 25, 45, 9, 1, black, white), Options{Polarity: LightOnDark})
	if !errors.Is(err, ErrBlank) {
		t.Errorf("dark on light told light on dark: %v, want ErrBlank", err)
	}
	if _, err := Prepare(image.NewGray(image.Rectangle{}), Options{}); err == nil || !strings.Contains(err.Error(), "empty (0x0)") {
		t.Errorf("empty image: %v", err)
	}
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeader is a PNG signature and an IHDR chunk (with a valid CRC) declaring a
// w x h 8-bit grey image, and nothing else.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	data := binary.BigEndian.AppendUint32(nil, w)
	data = binary.BigEndian.AppendUint32(data, h)
	data = append(data, 8, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	chunk := append([]byte("IHDR"), data...)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

// TestDecode: PNG and JPEG decode; anything else is an error naming the file and
// saying what was found.
func TestDecode(t *testing.T) {
	img := ring(60, 50, 30, 25, 10, 15, 4, 1, black, white)
	p := encodePNG(t, img)
	if got, err := Decode(bytes.NewReader(p), "a.png"); err != nil || got.Bounds() != img.Bounds() {
		t.Errorf("PNG: %v %v", got, err)
	}
	var j bytes.Buffer
	if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if got, err := Decode(bytes.NewReader(j.Bytes()), "a.jpg"); err != nil || got.Bounds() != img.Bounds() {
		t.Errorf("JPEG: %v %v", got, err)
	}
	var gb bytes.Buffer
	if err := gif.Encode(&gb, img, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"notes.txt", []byte("hello world, no picture here"), `notes.txt: not a PNG or JPEG image (it starts with "hello wo")`},
		{"empty.png", nil, `empty.png: not a PNG or JPEG image`},
		{"cut.png", p[:len(p)/2], "cut.png: corrupt png image"},
		{"cut-header.png", p[:20], "cut-header.png: corrupt PNG header"},
		{"huge.png", pngHeader(100000, 100000), "huge.png: 100000x100000 pixels; want 1 to 50000000 pixels"},
		{"a.gif", gb.Bytes(), "a.gif: a gif image; want PNG or JPEG"},
	} {
		_, err := Decode(bytes.NewReader(c.b), c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
