package idx_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/idx"
)

// mnistLike returns a gzip-compressed images file shaped like the MNIST
// training set: 60000 x 28 x 28, mostly zero pixels.
func mnistLike(b *testing.B) []byte {
	r := rand.New(rand.NewPCG(1, 1))
	a, _ := idx.New(idx.U8, 60000, 28, 28)
	for i := range a.U8 {
		if r.IntN(5) == 0 {
			a.U8[i] = uint8(r.Uint32())
		}
	}
	var buf bytes.Buffer
	if err := idx.Write(&buf, a); err != nil {
		b.Fatal(err)
	}
	return gz(b, buf.Bytes())
}

func BenchmarkReadImagesGzip(b *testing.B) {
	data := mnistLike(b)
	b.SetBytes(60000 * 28 * 28)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := idx.Read(bytes.NewReader(data), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadF32(b *testing.B) {
	a, _ := idx.New(idx.F32, 1000, 784)
	var buf bytes.Buffer
	if err := idx.Write(&buf, a); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := idx.Read(bytes.NewReader(buf.Bytes()), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteF32(b *testing.B) {
	a, _ := idx.New(idx.F32, 1000, 784)
	var buf bytes.Buffer
	b.SetBytes(4 * 1000 * 784)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := idx.Write(&buf, a); err != nil {
			b.Fatal(err)
		}
	}
}
