package idx_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/idx"
)

// FuzzRead feeds arbitrary bytes to Read. It must never panic; an error
// must name the input; and whatever Read accepts must re-encode, through
// Write, to exactly the (decompressed) input.
func FuzzRead(f *testing.F) {
	err := filepath.WalkDir(fixtureDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	opts := idx.Options{MaxElements: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := opts.Read(bytes.NewReader(data), "fuzz.idx")
		if err != nil {
			if a != nil {
				t.Fatalf("array returned with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "idx: fuzz.idx: ") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("Read returned an invalid array: %v", err)
		}
		var out bytes.Buffer
		if err := idx.Write(&out, a); err != nil {
			t.Fatalf("Write of a decoded array: %v", err)
		}
		plain := data
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Read accepted a stream gzip rejects: %v", err)
			}
			if plain, err = io.ReadAll(zr); err != nil {
				t.Fatalf("Read accepted a stream gzip rejects: %v", err)
			}
		}
		if !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("re-encoding differs from the input:\n got % x\nwant % x", out.Bytes(), plain)
		}
	})
}
