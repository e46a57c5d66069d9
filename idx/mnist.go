package idx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Magic numbers of the two MNIST file roles.
const (
	MagicImages = 0x00000803 // u8, 3 dimensions: count x rows x cols
	MagicLabels = 0x00000801 // u8, 1 dimension: count
)

// Classes is the number of classes of MNIST and Fashion-MNIST; LoadDir
// rejects labels outside [0, Classes).
const Classes = 10

// Images is a stack of N greyscale images of Rows x Cols pixels.
type Images struct {
	N, Rows, Cols int
	// Pix holds N*Rows*Cols pixels: image by image, each row-major.
	Pix []uint8
}

// Image returns the pixels of image i (Rows*Cols bytes, row-major), sharing
// memory with im.Pix. It panics if i is out of range.
func (im *Images) Image(i int) []uint8 {
	if i < 0 || i >= im.N {
		panic(fmt.Sprintf("idx: image index %d out of range [0, %d)", i, im.N))
	}
	sz := im.Rows * im.Cols
	return im.Pix[i*sz : (i+1)*sz : (i+1)*sz]
}

// role describes what an MNIST file must be, for checks and messages.
type role struct {
	name  string // "images" or "labels"
	a     string // its article
	magic uint32
	desc  string
}

var (
	imagesRole = role{"images", "an", MagicImages, "u8, 3 dimensions"}
	labelsRole = role{"labels", "a", MagicLabels, "u8, 1 dimension"}
)

// checker returns a header check that accepts only files of role want.
func (want role) checker(name string) func(*header) error {
	return func(h *header) error {
		if h.magic() == want.magic {
			return nil
		}
		msg := fmt.Sprintf("expected %s %s file (magic 0x%08X: %s), found %s", want.a, want.name, want.magic, want.desc, h.desc())
		for _, other := range []role{imagesRole, labelsRole} {
			if other != want && h.magic() == other.magic {
				msg += fmt.Sprintf(": this is %s %s file, not %s %s file", other.a, other.name, want.a, want.name)
			}
		}
		return formatErr(name, "%s", msg)
	}
}

// ReadImages reads an MNIST-style images file (plain or gzip-compressed):
// an IDX u8 array of 3 dimensions, magic 0x00000803. Any other kind of IDX
// file, a labels file included, is an error that says so.
func ReadImages(path string) (*Images, error) {
	a, err := Options{}.decodeFile(path, imagesRole.checker(path))
	if err != nil {
		return nil, err
	}
	im := &Images{N: a.Dims[0], Rows: a.Dims[1], Cols: a.Dims[2], Pix: a.U8}
	if im.Rows == 0 || im.Cols == 0 {
		return nil, formatErr(path, "images are %dx%d pixels: expected at least 1x1", im.Rows, im.Cols)
	}
	return im, nil
}

// ReadLabels reads an MNIST-style labels file (plain or gzip-compressed): an
// IDX u8 array of 1 dimension, magic 0x00000801. Any other kind of IDX file,
// an images file included, is an error that says so.
func ReadLabels(path string) ([]uint8, error) {
	a, err := Options{}.decodeFile(path, labelsRole.checker(path))
	if err != nil {
		return nil, err
	}
	return a.U8, nil
}

// Set is a set of labelled images: Labels[i] is the class of image i.
type Set struct {
	Images Images
	Labels []uint8
	// ImagesFile and LabelsFile are the paths the set was read from.
	ImagesFile, LabelsFile string
}

// LoadSet reads an images file and its labels file and checks that they
// hold the same number of items and that every label is in [0, classes).
func LoadSet(imagesPath, labelsPath string, classes int) (*Set, error) {
	if classes < 1 {
		return nil, fmt.Errorf("idx: LoadSet: classes is %d, expected at least 1", classes)
	}
	im, err := ReadImages(imagesPath)
	if err != nil {
		return nil, err
	}
	lb, err := ReadLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	if im.N != len(lb) {
		return nil, fmt.Errorf("idx: count mismatch: images file %s holds %d images, labels file %s holds %d labels",
			imagesPath, im.N, labelsPath, len(lb))
	}
	for i, l := range lb {
		if int(l) >= classes {
			return nil, formatErr(labelsPath, "label at index %d is %d, outside [0, %d)", i, l, classes)
		}
	}
	return &Set{Images: *im, Labels: lb, ImagesFile: imagesPath, LabelsFile: labelsPath}, nil
}

// Dataset is a data set split into training and test sets, such as MNIST.
type Dataset struct {
	Train, Test Set
}

// Files holds the paths of the four files of an MNIST-style data set.
type Files struct {
	TrainImages, TrainLabels, TestImages, TestLabels string
}

// List returns the four paths in the order train images, train labels,
// test images, test labels.
func (f Files) List() []string {
	return []string{f.TrainImages, f.TrainLabels, f.TestImages, f.TestLabels}
}

// The standard file names of MNIST and Fashion-MNIST.
const (
	TrainImagesName = "train-images-idx3-ubyte"
	TrainLabelsName = "train-labels-idx1-ubyte"
	TestImagesName  = "t10k-images-idx3-ubyte"
	TestLabelsName  = "t10k-labels-idx1-ubyte"
)

// FindFiles locates the four standard files in dir. Each may be named
// exactly as TrainImagesName etc., or with a ".gz" suffix, or with the '-'
// before "idx" replaced by '.' (train-images.idx3-ubyte, a common variant), again
// optionally with ".gz". Exactly one candidate must exist for each file:
// none or several is an error naming the candidates. The name decides
// nothing about compression; that is recognised from content when reading.
func FindFiles(dir string) (Files, error) {
	var f Files
	dst := []*string{&f.TrainImages, &f.TrainLabels, &f.TestImages, &f.TestLabels}
	for i, base := range []string{TrainImagesName, TrainLabelsName, TestImagesName, TestLabelsName} {
		dotted := strings.Replace(base, "-idx", ".idx", 1)
		cands := []string{base, base + ".gz", dotted, dotted + ".gz"}
		var found []string
		for _, c := range cands {
			p := filepath.Join(dir, c)
			st, err := os.Stat(p)
			switch {
			case err == nil && st.Mode().IsRegular():
				found = append(found, p)
			case err == nil:
				return Files{}, fmt.Errorf("idx: %s is not a regular file", p)
			case !errors.Is(err, fs.ErrNotExist):
				return Files{}, fmt.Errorf("idx: %w", err)
			}
		}
		switch len(found) {
		case 0:
			return Files{}, fmt.Errorf("idx: no %s file in %s: looked for %s", base, dir, strings.Join(cands, ", "))
		case 1:
			*dst[i] = found[0]
		default:
			return Files{}, fmt.Errorf("idx: ambiguous %s file in %s: found %s; keep exactly one", base, dir, strings.Join(found, ", "))
		}
	}
	return f, nil
}

// LoadDir loads an MNIST-style data set (MNIST, Fashion-MNIST) from the
// four standard files in dir, located by FindFiles, with labels checked
// against Classes and training and test images of the same size.
func LoadDir(dir string) (*Dataset, error) {
	f, err := FindFiles(dir)
	if err != nil {
		return nil, err
	}
	train, err := LoadSet(f.TrainImages, f.TrainLabels, Classes)
	if err != nil {
		return nil, err
	}
	test, err := LoadSet(f.TestImages, f.TestLabels, Classes)
	if err != nil {
		return nil, err
	}
	if tr, te := train.Images, test.Images; tr.Rows != te.Rows || tr.Cols != te.Cols {
		return nil, fmt.Errorf("idx: image size mismatch: %s holds %dx%d images, %s holds %dx%d",
			f.TrainImages, tr.Rows, tr.Cols, f.TestImages, te.Rows, te.Cols)
	}
	return &Dataset{Train: *train, Test: *test}, nil
}
