package harness

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/idx/mnistdata"
	"github.com/simdmlp/simdmlp/mlp"
)

// Dataset is the training and test data a run uses, with what identifies it.
type Dataset struct {
	Train, Test *mlp.Data
	// Files are the digests of the files it was read from (empty for synthetic data).
	Files []FileHash
	// Source says where it came from (a directory, "synthetic", ...), for the report.
	Source      string
	fingerprint string
}

// NewDataset wraps in-memory data. The fingerprint is computed from the data itself.
func NewDataset(train, test *mlp.Data, files []FileHash, source string) (*Dataset, error) {
	for _, d := range []struct {
		name string
		d    *mlp.Data
	}{{"training", train}, {"test", test}} {
		if d.d == nil {
			return nil, fmt.Errorf("%s data: missing", d.name)
		}
		if d.d.N < 1 || d.d.Features < 1 || d.d.Classes < 2 || len(d.d.X) != d.d.N*d.d.Features || len(d.d.Y) != d.d.N {
			return nil, fmt.Errorf("%s data: inconsistent shape: N=%d Features=%d Classes=%d len(X)=%d len(Y)=%d", d.name, d.d.N, d.d.Features, d.d.Classes, len(d.d.X), len(d.d.Y))
		}
	}
	ds := &Dataset{Train: train, Test: test, Files: files, Source: source}
	ds.fingerprint = fingerprint(train, test)
	return ds, nil
}

// Fingerprint identifies the data's content: the first 16 hex digits of a sha256 over
// the shapes, pixels and labels of the training and test sets. It is part of every trial
// key, so results on different data never mix.
func (d *Dataset) Fingerprint() string { return d.fingerprint }

func fingerprint(sets ...*mlp.Data) string {
	h := sha256.New()
	var hdr [24]byte
	for _, s := range sets {
		binary.LittleEndian.PutUint64(hdr[0:], uint64(s.N))
		binary.LittleEndian.PutUint64(hdr[8:], uint64(s.Features))
		binary.LittleEndian.PutUint64(hdr[16:], uint64(s.Classes))
		h.Write(hdr[:])
		h.Write(s.X)
		h.Write(s.Y)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Subset returns the first nTrain training and nTest test samples (for smoke tests: the
// result is a different data set, with its own fingerprint).
func (d *Dataset) Subset(nTrain, nTest int) (*Dataset, error) {
	if nTrain < 1 || nTrain > d.Train.N || nTest < 1 || nTest > d.Test.N {
		return nil, fmt.Errorf("subset %d/%d of a data set of %d/%d samples", nTrain, nTest, d.Train.N, d.Test.N)
	}
	cut := func(s *mlp.Data, n int) *mlp.Data {
		return &mlp.Data{N: n, Features: s.Features, Classes: s.Classes, X: s.X[:n*s.Features], Y: s.Y[:n]}
	}
	src := fmt.Sprintf("%s (first %d training and %d test samples)", d.Source, nTrain, nTest)
	return NewDataset(cut(d.Train, nTrain), cut(d.Test, nTest), d.Files, src)
}

// LoadDataset loads an MNIST-style data set from dir (any folder with the four standard
// files, gzipped or not), or, when dir is "", the canonical MNIST files fetched and
// verified through the Go module proxy.
func LoadDataset(ctx context.Context, dir string) (*Dataset, error) {
	source := dir
	if dir == "" {
		var err error
		if dir, err = mnistdata.Fetch(ctx); err != nil {
			return nil, err
		}
		source = fmt.Sprintf("MNIST from the Go module proxy (%s@%s, md5-verified)", mnistdata.Module, mnistdata.Version)
	}
	ds, err := idx.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	sums, err := mnistdata.Checksums(dir)
	if err != nil {
		return nil, err
	}
	var files []FileHash
	for _, c := range sums {
		files = append(files, FileHash{Name: filepath.Base(c.Path), Size: c.Size, MD5: c.MD5})
	}
	conv := func(s *idx.Set) *mlp.Data {
		return &mlp.Data{N: s.Images.N, Features: s.Images.Rows * s.Images.Cols, Classes: idx.Classes, X: s.Images.Pix, Y: s.Labels}
	}
	return NewDataset(conv(&ds.Train), conv(&ds.Test), files, source)
}
