package idx

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// Write encodes a as an uncompressed IDX file to w. a is validated first
// (see Array.Validate); nothing is written if it is invalid.
func Write(w io.Writer, a *Array) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("idx: write: %w", err)
	}
	if err := encode(w, a); err != nil {
		return fmt.Errorf("idx: write: %w", err)
	}
	return nil
}

// encode writes a valid array to w.
func encode(w io.Writer, a *Array) error {
	var hdr [4 + 4*MaxDims]byte
	hdr[2] = byte(a.Type)
	hdr[3] = byte(len(a.Dims))
	for i, d := range a.Dims {
		binary.BigEndian.PutUint32(hdr[4+4*i:], uint32(d))
	}
	if _, err := w.Write(hdr[:4+4*len(a.Dims)]); err != nil {
		return err
	}
	if a.Type == U8 {
		_, err := w.Write(a.U8)
		return err
	}
	var scratch [bufSize]byte
	per := bufSize / a.Type.Size() // elements per chunk
	n := a.Len()
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		var b []byte
		switch a.Type {
		case I8:
			b = scratch[:hi-lo]
			for j, v := range a.I8[lo:hi] {
				b[j] = byte(v)
			}
		case I16:
			b = scratch[:2*(hi-lo)]
			for j, v := range a.I16[lo:hi] {
				binary.BigEndian.PutUint16(b[2*j:], uint16(v))
			}
		case I32:
			b = scratch[:4*(hi-lo)]
			for j, v := range a.I32[lo:hi] {
				binary.BigEndian.PutUint32(b[4*j:], uint32(v))
			}
		case F32:
			b = scratch[:4*(hi-lo)]
			for j, v := range a.F32[lo:hi] {
				binary.BigEndian.PutUint32(b[4*j:], math.Float32bits(v))
			}
		case F64:
			b = scratch[:8*(hi-lo)]
			for j, v := range a.F64[lo:hi] {
				binary.BigEndian.PutUint64(b[8*j:], math.Float64bits(v))
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes a as an IDX file at path, gzip-compressed if compress is
// true (whatever the name; by convention compressed files end in ".gz").
// The write is atomic: the data goes to a temporary file in the same
// directory, is flushed to stable storage, and is renamed over path, so
// readers see either the old file or the complete new one. The file gets
// permission 0644. The directory is synced after the rename where the
// platform allows it.
func WriteFile(path string, a *Array, compress bool) (err error) {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("idx: write %s: %w", path, err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("idx: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("idx: write %s: %w", path, err)
		}
	}()

	bw := bufio.NewWriterSize(f, bufSize)
	if compress {
		zw := gzip.NewWriter(bw)
		if err := encode(zw, a); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
	} else if err := encode(bw, a); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Persist the rename itself. Not every platform can open or sync a
	// directory (Windows cannot); the data is already durable, so failure
	// here is ignored.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
