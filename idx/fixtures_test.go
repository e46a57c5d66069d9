package idx_test

// The committed fixtures in ../testdata/idx are made by fixtureFiles below.
// Regenerate them (only when the list changes) with
//
//	go test ./idx -run TestFixtures -update-fixtures
//
// Normal runs check that the committed bytes still match this definition.

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/simdmlp/simdmlp/idx"
)

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite the committed fixtures in testdata/idx")

const fixtureDir = "../testdata/idx"

func fixture(name string) string { return filepath.Join(fixtureDir, filepath.FromSlash(name)) }

// Fixture content, shared with the tests that check decoded values.
var (
	// 4 images of 3 rows x 2 cols (non-square so rows/cols swaps show).
	fxPix = func() []uint8 {
		p := make([]uint8, 4*3*2)
		for i := range p {
			p[i] = uint8(i*37 + 11)
		}
		return p
	}()
	fxLabels = []uint8{3, 0, 9, 7}
	// The mnist/ directory: 4 training and 2 test images.
	fxTestPix    = []uint8{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}
	fxTestLabels = []uint8{1, 8}
)

func mustEncode(t testing.TB, typ idx.Type, dims []int, fill func(a *idx.Array)) []byte {
	t.Helper()
	a, err := idx.New(typ, dims...)
	if err != nil {
		t.Fatal(err)
	}
	if fill != nil {
		fill(a)
	}
	var b bytes.Buffer
	if err := idx.Write(&b, a); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// fixtureFiles returns every fixture: relative path -> content.
func fixtureFiles(t testing.TB) map[string][]byte {
	images := mustEncode(t, idx.U8, []int{4, 3, 2}, func(a *idx.Array) { copy(a.U8, fxPix) })
	labels := mustEncode(t, idx.U8, []int{4}, func(a *idx.Array) { copy(a.U8, fxLabels) })
	testImages := mustEncode(t, idx.U8, []int{2, 3, 2}, func(a *idx.Array) { copy(a.U8, fxTestPix) })
	testLabels := mustEncode(t, idx.U8, []int{2}, func(a *idx.Array) { copy(a.U8, fxTestLabels) })
	imagesGz := gz(t, images)

	badCRC := bytes.Clone(imagesGz)
	badCRC[len(badCRC)-8] ^= 0xFF // first byte of the CRC-32 in the gzip trailer

	badMagic := bytes.Clone(images)
	badMagic[0] = 0x01
	badType := bytes.Clone(images)
	badType[2] = 0x0A

	return map[string][]byte{
		"images.idx3-ubyte":                   images,
		"labels.idx1-ubyte":                   labels,
		"images-gzipped-no-suffix.idx3-ubyte": imagesGz,
		"labels.idx1-ubyte.gz":                gz(t, labels),
		"images-truncated.idx3-ubyte":         images[:len(images)-5],
		"images-extra.idx3-ubyte":             cat(images, []byte{1, 2, 3}),
		"images-bad-magic.idx3-ubyte":         badMagic,
		"images-bad-type.idx3-ubyte":          badType,
		"zero-dims.idx":                       {0, 0, 0x08, 0},
		"header-truncated.idx":                images[:9],
		"hostile-dims.idx3-ubyte":             {0, 0, 0x08, 3, 0, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF},
		"labels-3.idx1-ubyte":                 mustEncode(t, idx.U8, []int{3}, func(a *idx.Array) { copy(a.U8, fxLabels) }),
		"labels-out-of-range.idx1-ubyte":      mustEncode(t, idx.U8, []int{4}, func(a *idx.Array) { copy(a.U8, []uint8{3, 0, 10, 7}) }),
		"gz-truncated.idx3-ubyte.gz":          imagesGz[:len(imagesGz)/2],
		"gz-no-trailer.idx3-ubyte.gz":         imagesGz[:len(imagesGz)-8],
		"gz-bad-crc.idx3-ubyte.gz":            badCRC,
		"gz-trailing-garbage.idx3-ubyte.gz":   cat(imagesGz, []byte("this is not a gzip member")),
		"gz-extra-payload.idx3-ubyte.gz":      gz(t, cat(images, []byte{9, 9})),
		// One small array of every other type, several ranks.
		"i8.idx":  mustEncode(t, idx.I8, []int{5}, func(a *idx.Array) { copy(a.I8, []int8{-128, -1, 0, 1, 127}) }),
		"i16.idx": mustEncode(t, idx.I16, []int{2, 3}, func(a *idx.Array) { copy(a.I16, []int16{-32768, -2, 0, 1, 258, 32767}) }),
		"i32.idx": mustEncode(t, idx.I32, []int{3}, func(a *idx.Array) { copy(a.I32, []int32{-2147483648, -2, 16909060}) }),
		"f32.idx": mustEncode(t, idx.F32, []int{2, 2}, func(a *idx.Array) { copy(a.F32, []float32{1.5, -2, 0, 3.25}) }),
		"f64.idx": mustEncode(t, idx.F64, []int{1, 2, 1, 2}, func(a *idx.Array) { copy(a.F64, []float64{1.5, -2, 0.1, 1e300}) }),
		// A complete MNIST-style directory using every naming variant.
		"mnist/train-images-idx3-ubyte":    images,
		"mnist/train-labels-idx1-ubyte.gz": gz(t, labels),
		"mnist/t10k-images.idx3-ubyte.gz":  gz(t, testImages),
		"mnist/t10k-labels-idx1-ubyte":     testLabels,
	}
}

// gunzip returns the decompressed content of b and whether b is a gzip
// stream that decodes cleanly to its end.
func gunzip(b []byte) ([]byte, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, false
	}
	out, err := io.ReadAll(zr)
	return out, err == nil
}

func TestFixtures(t *testing.T) {
	files := fixtureFiles(t)
	if *updateFixtures {
		for name, b := range files {
			p := fixture(name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatalf("%v (regenerate with -update-fixtures)", err)
		}
		want := files[name]
		// gzip output may differ between Go versions: compare what the
		// streams decode to (for deliberately broken streams: that they
		// fail), and require the committed file to be gzip too.
		if bytes.HasPrefix(want, []byte{0x1f, 0x8b}) {
			if !bytes.HasPrefix(got, []byte{0x1f, 0x8b}) {
				t.Errorf("%s: committed file is not gzip", name)
				continue
			}
			g, okG := gunzip(got)
			w, okW := gunzip(want)
			if okG != okW {
				t.Errorf("%s: committed stream decodes cleanly: %v, definition: %v", name, okG, okW)
			}
			got, want = g, w
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: committed bytes differ from the fixture definition (regenerate with -update-fixtures)", name)
		}
	}
}
