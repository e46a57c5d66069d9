// Package digit turns a picture of a handwritten digit into the 28x28 image an MNIST
// model expects, by the steps that made the MNIST digits: grey levels; a light digit on
// a black background (a dark digit on light paper is inverted); the background level
// removed and the contrast stretched; the image cropped to the ink's bounding box,
// scaled to fit a 20x20 box keeping its aspect ratio (anti-aliased), and pasted into a
// 28x28 frame so that its centre of mass falls on the frame's centre.
//
// The result's pixels, row by row, are the 784 values a model trained on MNIST reads
// (after scaling by 1/255, as in training).
package digit

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register the decoders Decode accepts
	_ "image/png"
	"io"
	"math"
	"os"
	"slices"
)

// Size is the side of the prepared image; Box the side of the box the digit is
// scaled to fit, as in MNIST.
const (
	Size = 28
	Box  = 20
)

// Limits on the input, so that a huge or hostile file cannot exhaust memory: a file
// of at most MaxFileBytes, decoding to at most MaxPixels pixels.
const (
	MaxFileBytes = 64 << 20
	MaxPixels    = 50_000_000
)

// Polarity says whether the picture is inverted before the other steps.
type Polarity int

const (
	// Auto inverts when the picture's border is lighter than mid-grey: a dark digit on
	// light paper, the usual photo or scan.
	Auto Polarity = iota
	// LightOnDark never inverts: the picture is already like MNIST's.
	LightOnDark
	// DarkOnLight always inverts.
	DarkOnLight
)

// Options tune Prepare; the zero value is what a user's picture usually needs.
type Options struct {
	Polarity Polarity
}

// Load decodes the PNG or JPEG file at path; see Decode.
func Load(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("digit: %w", err)
	}
	defer f.Close()
	return Decode(f, path)
}

// Decode decodes a PNG or JPEG image (any size up to MaxPixels, colour or grey, with
// or without alpha) from r; name identifies it in errors. Anything else (another
// format, a truncated or corrupt file) is an error that says what was found.
func Decode(r io.Reader, name string) (image.Image, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("digit: %s: %w", name, err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("digit: %s: larger than %d bytes; want a PNG or JPEG picture of a digit", name, MaxFileBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, fmt.Errorf("digit: %s: not a PNG or JPEG image (it starts with %q)", name, b[:min(len(b), 8)])
		}
		return nil, fmt.Errorf("digit: %s: corrupt %s header: %v", name, sniff(b), err)
	}
	if format != "png" && format != "jpeg" {
		return nil, fmt.Errorf("digit: %s: a %s image; want PNG or JPEG", name, format)
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("digit: %s: %dx%d pixels; want 1 to %d pixels", name, cfg.Width, cfg.Height, MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("digit: %s: corrupt %s image: %v", name, format, err)
	}
	return img, nil
}

// sniff names the format b looks like, for an error message.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG")):
		return "PNG"
	case bytes.HasPrefix(b, []byte("\xff\xd8")):
		return "JPEG"
	}
	return "image"
}

// ErrBlank is returned (wrapped) by Prepare for a picture with no ink: no pixel stands
// out from the background.
var ErrBlank = errors.New("no digit found: the picture has no ink that stands out from its background")

// minContrast is the least difference, in grey levels of 255, between the background
// and the darkest ink for a picture to hold a digit.
const minContrast = 32

// Prepare returns the 28x28 greyscale image (light digit on black) a model trained on
// MNIST should see for the digit in img. See the package documentation for the steps.
func Prepare(img image.Image, opt Options) (*image.Gray, error) {
	g, w, h := grey(img)
	if w == 0 || h == 0 {
		return nil, fmt.Errorf("digit: an empty (%dx%d) image", w, h)
	}
	border := borderValues(g, w, h)
	invert := opt.Polarity == DarkOnLight
	if opt.Polarity == Auto {
		var sum float64
		for _, v := range border {
			sum += v
		}
		invert = sum/float64(len(border)) > 127.5
	}
	if invert {
		for i, v := range g {
			g[i] = 255 - v
		}
		for i, v := range border {
			border[i] = 255 - v
		}
	}
	// The background is the border's median; the ink's strongest value is mapped to
	// 255 and the background to 0.
	slices.Sort(border)
	bg := border[len(border)/2]
	peak := slices.Max(g)
	if peak-bg < minContrast {
		return nil, fmt.Errorf("digit: %w (contrast %.0f of 255, want >= %d)", ErrBlank, peak-bg, minContrast)
	}
	scale := 255 / (peak - bg)
	for i, v := range g {
		g[i] = min(max((v-bg)*scale, 0), 255)
	}
	// Noise floor: what the border holds beyond the background (paper texture, sensor
	// noise, JPEG ringing) is not ink. Three times the border's 95th percentile (about
	// five standard deviations of Gaussian noise, so that even a large picture has no
	// noise pixel above it), capped so that strokes crossing the border cannot erase
	// the digit; zero for a clean picture, whose every faint pixel then counts.
	p95 := border[min(len(border)-1, len(border)*95/100)]
	floor := min(max(3*(p95-bg)*scale, 0), 0.25*255)
	if lossy(img) {
		// JPEG's ringing sits along the strokes, not on the border: faint halos that
		// would widen the bounding box and blur the digit. Nothing below a tenth of
		// full ink counts in a JPEG.
		floor = max(floor, 0.1*255)
	}
	x0, y0, x1, y1 := w, h, -1, -1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if g[i] <= floor {
				g[i] = 0
				continue
			}
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
		}
	}
	if x1 < 0 {
		return nil, fmt.Errorf("digit: %w", ErrBlank)
	}
	cw, ch := x1-x0+1, y1-y0+1
	crop := make([]float64, cw*ch)
	for y := 0; y < ch; y++ {
		copy(crop[y*cw:(y+1)*cw], g[(y0+y)*w+x0:(y0+y)*w+x0+cw])
	}
	s := float64(Box) / float64(max(cw, ch))
	nw := min(Box, max(1, int(math.Round(float64(cw)*s))))
	nh := min(Box, max(1, int(math.Round(float64(ch)*s))))
	fit := resample(crop, cw, ch, nw, nh)

	// Centre of mass, in pixel indices, placed on index Size/2 (MNIST's digits have
	// their mean centre of mass at (14.0, 14.0) measured this way).
	var mass, mx, my float64
	for y := 0; y < nh; y++ {
		for x := 0; x < nw; x++ {
			v := fit[y*nw+x]
			mass += v
			mx += v * float64(x)
			my += v * float64(y)
		}
	}
	ox := min(max(int(math.Round(Size/2-mx/mass)), 0), Size-nw)
	oy := min(max(int(math.Round(Size/2-my/mass)), 0), Size-nh)
	out := image.NewGray(image.Rect(0, 0, Size, Size))
	for y := 0; y < nh; y++ {
		for x := 0; x < nw; x++ {
			out.Pix[(oy+y)*Size+ox+x] = uint8(math.Round(fit[y*nw+x]))
		}
	}
	return out, nil
}

// lossy reports whether img comes from a lossy decoder (JPEG decodes to YCbCr or
// CMYK).
func lossy(img image.Image) bool {
	switch img.(type) {
	case *image.YCbCr, *image.CMYK:
		return true
	}
	return false
}

// grey returns img's luminance in 0..255, row-major, composited over white paper
// (a transparent pixel is paper).
func grey(img image.Image) ([]float64, int, int) {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	g := make([]float64, w*h)
	if gi, ok := img.(*image.Gray); ok {
		for y := 0; y < h; y++ {
			row := gi.Pix[y*gi.Stride : y*gi.Stride+w]
			for x, v := range row {
				g[y*w+x] = float64(v)
			}
		}
		return g, w, h
	}
	if yc, ok := img.(*image.YCbCr); ok {
		// A JPEG: its Y channel is the luma itself, at full resolution; converting
		// through RGB would mix in the subsampled chroma and clip.
		for y := 0; y < h; y++ {
			row := yc.Y[y*yc.YStride : y*yc.YStride+w]
			for x, v := range row {
				g[y*w+x] = float64(v)
			}
		}
		return g, w, h
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			cr, cg, cb, ca := img.At(r.Min.X+x, r.Min.Y+y).RGBA() // premultiplied, 16-bit
			// Rec. 601 luma (as color.GrayModel), then over white: + (1 - alpha).
			lum := (19595*float64(cr) + 38470*float64(cg) + 7471*float64(cb)) / 65536
			g[y*w+x] = (lum + float64(0xffff-ca)) / 257
		}
	}
	return g, w, h
}

// borderValues returns the pixels of the outer frame of the image, a band about 3% of
// the smaller side wide (at least one pixel).
func borderValues(g []float64, w, h int) []float64 {
	band := max(1, min(w, h)*3/100)
	var out []float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x < band || y < band || x >= w-band || y >= h-band {
				out = append(out, g[y*w+x])
			}
		}
	}
	return out
}

// resample scales a w x h image to nw x nh, separably: by area averaging where a
// side shrinks (each output pixel the exact mean of the input area it covers, which
// anti-aliases), by linear interpolation where it grows.
func resample(src []float64, w, h, nw, nh int) []float64 {
	tmp := make([]float64, nw*h)
	wx := weights(w, nw)
	for y := 0; y < h; y++ {
		for x, t := range wx {
			var s float64
			for k, c := range t.c {
				s += c * src[y*w+t.at+k]
			}
			tmp[y*nw+x] = s
		}
	}
	out := make([]float64, nw*nh)
	wy := weights(h, nh)
	for y, t := range wy {
		for x := 0; x < nw; x++ {
			var s float64
			for k, c := range t.c {
				s += c * tmp[(t.at+k)*nw+x]
			}
			out[y*nw+x] = s
		}
	}
	return out
}

// taps are the input pixels at, at+1, ... one output pixel reads, with their weights.
type taps struct {
	at int
	c  []float64
}

// weights returns, for each of m output pixels along a side of n input pixels, the
// input pixels it reads and their weights (summing to 1).
func weights(n, m int) []taps {
	out := make([]taps, m)
	r := float64(n) / float64(m)
	for i := range out {
		if m <= n { // shrink: the exact overlap of [i*r, (i+1)*r) with each input pixel
			lo, hi := float64(i)*r, float64(i+1)*r
			j0 := int(lo)
			j1 := min(n-1, int(math.Ceil(hi))-1)
			t := taps{at: j0}
			for j := j0; j <= j1; j++ {
				t.c = append(t.c, (min(hi, float64(j+1))-max(lo, float64(j)))/r)
			}
			out[i] = t
			continue
		}
		// grow: linear interpolation between the two nearest pixel centres
		c := (float64(i)+0.5)*r - 0.5
		j := int(math.Floor(c))
		f := c - float64(j)
		switch {
		case j < 0:
			out[i] = taps{at: 0, c: []float64{1}}
		case j >= n-1:
			out[i] = taps{at: n - 1, c: []float64{1}}
		default:
			out[i] = taps{at: j, c: []float64{1 - f, f}}
		}
	}
	return out
}
