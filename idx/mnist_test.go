package idx_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/simdmlp/simdmlp/idx"
)

func TestReadImagesLabels(t *testing.T) {
	for _, f := range []string{"images.idx3-ubyte", "images-gzipped-no-suffix.idx3-ubyte"} {
		im, err := idx.ReadImages(fixture(f))
		if err != nil {
			t.Fatal(err)
		}
		if im.N != 4 || im.Rows != 3 || im.Cols != 2 || !bytes.Equal(im.Pix, fxPix) {
			t.Errorf("%s: got %+v", f, im)
		}
		if got := im.Image(2); !bytes.Equal(got, fxPix[12:18]) || cap(got) != 6 {
			t.Errorf("Image(2) = %v (cap %d), want %v", got, cap(got), fxPix[12:18])
		}
	}
	for _, f := range []string{"labels.idx1-ubyte", "labels.idx1-ubyte.gz"} {
		lb, err := idx.ReadLabels(fixture(f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(lb, fxLabels) {
			t.Errorf("%s: got %v, want %v", f, lb, fxLabels)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Image(4) of 4 images did not panic")
		}
	}()
	im, _ := idx.ReadImages(fixture("images.idx3-ubyte"))
	im.Image(4)
}

func TestWrongRole(t *testing.T) {
	labels := fixture("labels.idx1-ubyte.gz")
	_, err := idx.ReadImages(labels)
	wantErr(t, err, labels, "expected an images file (magic 0x00000803: u8, 3 dimensions)",
		"found magic 0x00000801: u8, dims [4]", "this is a labels file, not an images file")

	images := fixture("images.idx3-ubyte")
	_, err = idx.ReadLabels(images)
	wantErr(t, err, images, "expected a labels file (magic 0x00000801: u8, 1 dimension)",
		"found magic 0x00000803: u8, dims [4 3 2]", "this is an images file, not a labels file")

	f32 := fixture("f32.idx")
	_, err = idx.ReadImages(f32)
	wantErr(t, err, f32, "expected an images file (magic 0x00000803", "found magic 0x00000D02: f32, dims [2 2]")

	// Structural errors are still reported through the role readers.
	bad := fixture("images-truncated.idx3-ubyte")
	_, err = idx.ReadImages(bad)
	wantErr(t, err, bad, "declares 24 bytes of u8 data, found 19")

	// Images of zero rows or columns are refused.
	a, _ := idx.New(idx.U8, 2, 0, 28)
	p := filepath.Join(t.TempDir(), "flat")
	if err := idx.WriteFile(p, a, false); err != nil {
		t.Fatal(err)
	}
	_, err = idx.ReadImages(p)
	wantErr(t, err, p, "images are 0x28 pixels: expected at least 1x1")
}

func TestLoadSet(t *testing.T) {
	images, labels := fixture("images.idx3-ubyte"), fixture("labels.idx1-ubyte")
	s, err := idx.LoadSet(images, labels, 10)
	if err != nil {
		t.Fatal(err)
	}
	if s.Images.N != 4 || !bytes.Equal(s.Labels, fxLabels) || s.ImagesFile != images || s.LabelsFile != labels {
		t.Errorf("got %+v", s)
	}

	three := fixture("labels-3.idx1-ubyte")
	_, err = idx.LoadSet(images, three, 10)
	wantErr(t, err, "count mismatch", "images file "+images+" holds 4 images", "labels file "+three+" holds 3 labels")

	oor := fixture("labels-out-of-range.idx1-ubyte")
	_, err = idx.LoadSet(images, oor, 10)
	wantErr(t, err, oor, "label at index 2 is 10, outside [0, 10)")
	if _, err := idx.LoadSet(images, oor, 11); err != nil {
		t.Errorf("with 11 classes: %v", err)
	}
	_, err = idx.LoadSet(images, labels, 9)
	wantErr(t, err, labels, "label at index 2 is 9, outside [0, 9)")
	_, err = idx.LoadSet(images, labels, 0)
	wantErr(t, err, "classes is 0, expected at least 1")

	// Roles are checked in both positions.
	_, err = idx.LoadSet(labels, images, 10)
	wantErr(t, err, labels, "this is a labels file, not an images file")
}

func TestLoadDir(t *testing.T) {
	dir := fixture("mnist")
	ds, err := idx.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &idx.Dataset{
		Train: idx.Set{
			Images:     idx.Images{N: 4, Rows: 3, Cols: 2, Pix: fxPix},
			Labels:     fxLabels,
			ImagesFile: filepath.Join(dir, "train-images-idx3-ubyte"),
			LabelsFile: filepath.Join(dir, "train-labels-idx1-ubyte.gz"),
		},
		Test: idx.Set{
			Images:     idx.Images{N: 2, Rows: 3, Cols: 2, Pix: fxTestPix},
			Labels:     fxTestLabels,
			ImagesFile: filepath.Join(dir, "t10k-images.idx3-ubyte.gz"),
			LabelsFile: filepath.Join(dir, "t10k-labels-idx1-ubyte"),
		},
	}
	if !reflect.DeepEqual(ds, want) {
		t.Errorf("LoadDir = %+v\nwant %+v", ds, want)
	}
}

// copyFixtureDir copies the mnist fixture directory to a temporary one.
func copyFixtureDir(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(fixture("mnist"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(fixture("mnist"), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestFindFilesErrors(t *testing.T) {
	// Missing.
	dir := copyFixtureDir(t)
	if err := os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte")); err != nil {
		t.Fatal(err)
	}
	_, err := idx.LoadDir(dir)
	wantErr(t, err, "no t10k-labels-idx1-ubyte file in "+dir,
		"looked for t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte.gz, t10k-labels.idx1-ubyte, t10k-labels.idx1-ubyte.gz")

	// Ambiguous: plain and compressed side by side.
	dir = copyFixtureDir(t)
	b, _ := os.ReadFile(filepath.Join(dir, "train-images-idx3-ubyte"))
	if err := os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte.gz"), gz(t, b), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = idx.FindFiles(dir)
	wantErr(t, err, "ambiguous train-images-idx3-ubyte file in "+dir,
		filepath.Join(dir, "train-images-idx3-ubyte")+", "+filepath.Join(dir, "train-images-idx3-ubyte.gz"))

	// A directory where a file should be.
	dir = copyFixtureDir(t)
	os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte"))
	if err := os.Mkdir(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = idx.FindFiles(dir)
	wantErr(t, err, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")+" is not a regular file")

	// Training and test images of different sizes.
	dir = copyFixtureDir(t)
	a, _ := idx.New(idx.U8, 2, 2, 3)
	if err := idx.WriteFile(filepath.Join(dir, "t10k-images.idx3-ubyte.gz"), a, true); err != nil {
		t.Fatal(err)
	}
	_, err = idx.LoadDir(dir)
	wantErr(t, err, "image size mismatch", filepath.Join(dir, "train-images-idx3-ubyte")+" holds 3x2 images",
		filepath.Join(dir, "t10k-images.idx3-ubyte.gz")+" holds 2x3")

	// Errors inside a file name that file.
	dir = copyFixtureDir(t)
	bad, _ := os.ReadFile(fixture("labels-out-of-range.idx1-ubyte"))
	p := filepath.Join(dir, "train-labels-idx1-ubyte.gz") // plain content, .gz name
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = idx.LoadDir(dir)
	wantErr(t, err, p, "label at index 2 is 10, outside [0, 10)")
}
