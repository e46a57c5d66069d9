package idx_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/simdmlp/simdmlp/idx"
)

var allTypes = []idx.Type{idx.U8, idx.I8, idx.I16, idx.I32, idx.F32, idx.F64}

// wantErr fails unless err is non-nil and its text contains every part.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestType(t *testing.T) {
	want := map[idx.Type]struct {
		s    string
		size int
	}{
		idx.U8: {"u8", 1}, idx.I8: {"i8", 1}, idx.I16: {"i16", 2},
		idx.I32: {"i32", 4}, idx.F32: {"f32", 4}, idx.F64: {"f64", 8},
	}
	for c := 0; c < 256; c++ {
		typ := idx.Type(c)
		w, ok := want[typ]
		if !ok {
			w.s = fmt.Sprintf("Type(0x%x)", c)
		}
		if typ.String() != w.s || typ.Size() != w.size || typ.Valid() != ok {
			t.Errorf("Type(0x%02X): String %q Size %d Valid %v, want %q %d %v",
				c, typ.String(), typ.Size(), typ.Valid(), w.s, w.size, ok)
		}
	}
}

// randomArray returns an array of type typ and dims with pseudo-random
// values covering each type's range (finite floats only).
func randomArray(t testing.TB, r *rand.Rand, typ idx.Type, dims ...int) *idx.Array {
	t.Helper()
	a, err := idx.New(typ, dims...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Len() {
		switch typ {
		case idx.U8:
			a.U8[i] = uint8(r.Uint32())
		case idx.I8:
			a.I8[i] = int8(r.Uint32())
		case idx.I16:
			a.I16[i] = int16(r.Uint32())
		case idx.I32:
			a.I32[i] = int32(r.Uint32())
		case idx.F32:
			a.F32[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30)))
		case idx.F64:
			a.F64[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(600)-300))
		}
	}
	return a
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := [][]int{{7}, {3, 4}, {2, 3, 5}, {2, 1, 3, 2}, {0}, {4, 0, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3}}
	dir := t.TempDir()
	for _, typ := range allTypes {
		for _, dims := range shapes {
			a := randomArray(t, r, typ, dims...)
			for _, compress := range []bool{false, true} {
				name := fmt.Sprintf("%s_%v_gz=%v", typ, dims, compress)
				t.Run(name, func(t *testing.T) {
					// In memory, through Write/Read.
					var buf bytes.Buffer
					if err := idx.Write(&buf, a); err != nil {
						t.Fatal(err)
					}
					if want := 4 + 4*len(dims) + a.Len()*typ.Size(); buf.Len() != want {
						t.Fatalf("Write produced %d bytes, want %d", buf.Len(), want)
					}
					data := buf.Bytes()
					if compress {
						data = gz(t, data)
					}
					got, err := idx.Read(bytes.NewReader(data), name)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, a) {
						t.Fatalf("Read(Write(a)) = %+v, want %+v", got, a)
					}
					// On disk, through WriteFile/ReadFile.
					p := filepath.Join(dir, name)
					if err := idx.WriteFile(p, a, compress); err != nil {
						t.Fatal(err)
					}
					raw, err := os.ReadFile(p)
					if err != nil {
						t.Fatal(err)
					}
					if isGz := bytes.HasPrefix(raw, []byte{0x1f, 0x8b}); isGz != compress {
						t.Errorf("WriteFile(compress=%v) wrote gzip: %v", compress, isGz)
					}
					got, err = idx.ReadFile(p)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, a) {
						t.Fatalf("ReadFile(WriteFile(a)) = %+v, want %+v", got, a)
					}
				})
			}
		}
	}
}

// TestLargeRoundTrip crosses the internal chunk boundaries with sizes that
// are not multiples of them.
func TestLargeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, typ := range allTypes {
		a := randomArray(t, r, typ, 3, 100_003)
		var buf bytes.Buffer
		if err := idx.Write(&buf, a); err != nil {
			t.Fatal(err)
		}
		for _, data := range [][]byte{buf.Bytes(), gz(t, buf.Bytes())} {
			got, err := idx.Read(iotest.HalfReader(bytes.NewReader(data)), "large")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, a) {
				t.Fatalf("%s: large round trip differs", typ)
			}
		}
	}
}

func TestSpecialFloatBits(t *testing.T) {
	f32 := []uint32{0x7FC00000, 0x7F800001, 0xFF800000, 0x7F800000, 0x80000000, 0x00000001, 0xFFFFFFFF}
	f64 := []uint64{0x7FF8000000000000, 0x7FF0000000000001, 0xFFF0000000000000, 0x8000000000000000, 1, 0xFFFFFFFFFFFFFFFF}
	a32, _ := idx.New(idx.F32, len(f32))
	for i, b := range f32 {
		a32.F32[i] = math.Float32frombits(b)
	}
	a64, _ := idx.New(idx.F64, len(f64))
	for i, b := range f64 {
		a64.F64[i] = math.Float64frombits(b)
	}
	for _, a := range []*idx.Array{a32, a64} {
		var buf bytes.Buffer
		if err := idx.Write(&buf, a); err != nil {
			t.Fatal(err)
		}
		got, err := idx.Read(&buf, "special")
		if err != nil {
			t.Fatal(err)
		}
		for i := range f32 {
			if a == a32 && math.Float32bits(got.F32[i]) != f32[i] {
				t.Errorf("f32 bits %08X came back as %08X", f32[i], math.Float32bits(got.F32[i]))
			}
		}
		for i := range f64 {
			if a == a64 && math.Float64bits(got.F64[i]) != f64[i] {
				t.Errorf("f64 bits %016X came back as %016X", f64[i], math.Float64bits(got.F64[i]))
			}
		}
	}
}

// TestGoldenBytes checks the committed fixtures against bytes written out
// by hand from the format description, and their decoded values.
func TestGoldenBytes(t *testing.T) {
	cases := []struct {
		file string
		hex  string
		want *idx.Array
	}{
		{"i8.idx", "00000901 00000005 80ff0001 7f",
			&idx.Array{Type: idx.I8, Dims: []int{5}, I8: []int8{-128, -1, 0, 1, 127}}},
		{"i16.idx", "00000b02 00000002 00000003 8000 fffe 0000 0001 0102 7fff",
			&idx.Array{Type: idx.I16, Dims: []int{2, 3}, I16: []int16{-32768, -2, 0, 1, 258, 32767}}},
		{"i32.idx", "00000c01 00000003 80000000 fffffffe 01020304",
			&idx.Array{Type: idx.I32, Dims: []int{3}, I32: []int32{-2147483648, -2, 16909060}}},
		{"f32.idx", "00000d02 00000002 00000002 3fc00000 c0000000 00000000 40500000",
			&idx.Array{Type: idx.F32, Dims: []int{2, 2}, F32: []float32{1.5, -2, 0, 3.25}}},
		{"f64.idx", "00000e04 00000001 00000002 00000001 00000002 3ff8000000000000 c000000000000000 3fb999999999999a 7e37e43c8800759c",
			&idx.Array{Type: idx.F64, Dims: []int{1, 2, 1, 2}, F64: []float64{1.5, -2, 0.1, 1e300}}},
		{"labels.idx1-ubyte", "00000801 00000004 03 00 09 07",
			&idx.Array{Type: idx.U8, Dims: []int{4}, U8: fxLabels}},
		{"images.idx3-ubyte", "00000803 00000004 00000003 00000002" + hex.EncodeToString(fxPix),
			&idx.Array{Type: idx.U8, Dims: []int{4, 3, 2}, U8: fxPix}},
	}
	for _, c := range cases {
		want, err := hex.DecodeString(strings.ReplaceAll(c.hex, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(fixture(c.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, want) {
			t.Errorf("%s = % x, want % x", c.file, raw, want)
		}
		a, err := idx.ReadFile(fixture(c.file))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, c.want) {
			t.Errorf("%s decoded to %+v, want %+v", c.file, a, c.want)
		}
	}
}

func TestReadGzipByContent(t *testing.T) {
	plain, err := idx.ReadFile(fixture("images.idx3-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"images-gzipped-no-suffix.idx3-ubyte"} {
		a, err := idx.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, plain) {
			t.Errorf("%s decoded to %+v, want %+v", name, a, plain)
		}
	}
	// A plain file named .gz is read as plain.
	dir := t.TempDir()
	p := filepath.Join(dir, "plain.idx.gz")
	raw, _ := os.ReadFile(fixture("images.idx3-ubyte"))
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := idx.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, plain) {
		t.Errorf("plain file named .gz decoded to %+v", a)
	}
	// Concatenated gzip members are one valid gzip stream.
	half := len(raw) / 2
	multi := cat(gz(t, raw[:half]), gz(t, raw[half:]))
	a, err = idx.Read(bytes.NewReader(multi), "multi")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, plain) {
		t.Errorf("multi-member gzip decoded to %+v", a)
	}
}

func TestReadErrors(t *testing.T) {
	cases := []struct {
		file   string
		format bool // a *FormatError
		parts  []string
	}{
		{"images-truncated.idx3-ubyte", true, []string{"short payload", "magic 0x00000803: u8, dims [4 3 2]", "declares 24 bytes of u8 data, found 19", "input ends early"}},
		{"images-extra.idx3-ubyte", true, []string{"trailing data", "declares a 24-byte payload, found 3 extra bytes"}},
		{"images-bad-magic.idx3-ubyte", true, []string{"bad magic 0x01000803", "expected the first two bytes to be 0x00 0x00, found 0x01 0x00"}},
		{"images-bad-type.idx3-ubyte", true, []string{"bad magic 0x00000A03", "unknown element type code 0x0A", "expected 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32 or 0x0E f64"}},
		{"zero-dims.idx", true, []string{"header declares 0 dimensions (expected 1..255)"}},
		{"header-truncated.idx", true, []string{"truncated header: 3 dimensions need 12 bytes of sizes, found 5"}},
		{"hostile-dims.idx3-ubyte", true, []string{"dims [65535 65535 65535]", "declares 281462092005375 elements, more than the limit of " + limitFor(1)}},
		{"gz-truncated.idx3-ubyte.gz", true, []string{"short payload", "declares 24 bytes of u8 data, found", "gzip stream ends early"}},
		{"gz-no-trailer.idx3-ubyte.gz", true, []string{"truncated gzip stream after the 24-byte payload", "unexpected EOF"}},
		{"gz-bad-crc.idx3-ubyte.gz", true, []string{"corrupt gzip stream", "checksum"}},
		{"gz-trailing-garbage.idx3-ubyte.gz", true, []string{"corrupt gzip stream after the 24-byte payload", "invalid header"}},
		{"gz-extra-payload.idx3-ubyte.gz", true, []string{"trailing decompressed data", "declares a 24-byte payload, found 2 extra bytes"}},
		{"does-not-exist.idx", false, []string{"no such file"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p := fixture(c.file)
			a, err := idx.ReadFile(p)
			if a != nil {
				t.Errorf("got an array with the error")
			}
			wantErr(t, err, append([]string{p}, c.parts...)...)
			var fe *idx.FormatError
			if errors.As(err, &fe) != c.format {
				t.Errorf("error %q (%T): is FormatError = %v, want %v", err, err, !c.format, c.format)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		_, err := idx.Read(bytes.NewReader(nil), "empty.idx")
		wantErr(t, err, "empty.idx", "too short for an IDX header: expected at least 4 bytes, found 0")
		_, err = idx.Read(bytes.NewReader([]byte{0x1f}), "one.idx")
		wantErr(t, err, "one.idx", "expected at least 4 bytes, found 1")
	})
	t.Run("gzip-header", func(t *testing.T) {
		_, err := idx.Read(bytes.NewReader([]byte{0x1f, 0x8b, 8}), "gzhead.gz")
		wantErr(t, err, "gzhead.gz", "invalid gzip stream header", "unexpected EOF")
		_, err = idx.Read(bytes.NewReader([]byte{0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 0, 0}), "gzmethod.gz")
		wantErr(t, err, "gzmethod.gz", "invalid gzip stream header")
	})
	t.Run("limit", func(t *testing.T) {
		_, err := idx.Options{MaxElements: 23}.ReadFile(fixture("images.idx3-ubyte"))
		wantErr(t, err, "images.idx3-ubyte", "declares 24 elements, more than the limit of 23")
		if _, err := (idx.Options{MaxElements: 24}).ReadFile(fixture("images.idx3-ubyte")); err != nil {
			t.Errorf("at the limit: %v", err)
		}
	})
}

// TestShortReads proves that readers returning little data per call, data
// together with EOF, or errors mid-stream are handled.
func TestShortReads(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	big := randomArray(t, r, idx.F32, 70_001) // more than one internal chunk
	var bigBuf bytes.Buffer
	if err := idx.Write(&bigBuf, big); err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{"big.idx": bigBuf.Bytes(), "big.idx.gz": gz(t, bigBuf.Bytes())}
	for _, f := range []string{"images.idx3-ubyte", "images-gzipped-no-suffix.idx3-ubyte", "f64.idx", "i16.idx", "labels.idx1-ubyte.gz"} {
		raw, err := os.ReadFile(fixture(f))
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = raw
	}
	wrappers := map[string]func(io.Reader) io.Reader{
		"OneByteReader": iotest.OneByteReader,
		"HalfReader":    iotest.HalfReader,
		"DataErrReader": iotest.DataErrReader,
		"OneByte+DataErr": func(r io.Reader) io.Reader {
			return iotest.DataErrReader(iotest.OneByteReader(r))
		},
	}
	for name, data := range inputs {
		want, err := idx.Read(bytes.NewReader(data), name)
		if err != nil {
			t.Fatal(err)
		}
		for wn, wrap := range wrappers {
			got, err := idx.Read(wrap(bytes.NewReader(data)), name)
			if err != nil {
				t.Errorf("%s via %s: %v", name, wn, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s via %s: decoded differently", name, wn)
			}
		}
	}

	// Errors from the reader surface, wrapped, with the name and position.
	images, _ := os.ReadFile(fixture("images.idx3-ubyte"))
	_, err := idx.Read(iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(images))), "timeout.idx")
	wantErr(t, err, "timeout.idx", "reading header", "timeout")
	if !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("error %v does not wrap iotest.ErrTimeout", err)
	}
	boom := errors.New("boom")
	_, err = idx.Read(iotest.ErrReader(boom), "err.idx")
	wantErr(t, err, "err.idx", "boom")
	if !errors.Is(err, boom) {
		t.Errorf("error %v does not wrap the reader's error", err)
	}
	_, err = idx.Read(io.MultiReader(bytes.NewReader(images[:30]), iotest.ErrReader(boom)), "mid.idx")
	wantErr(t, err, "mid.idx", "reading payload at payload byte 14 of 24", "boom")
	if !errors.Is(err, boom) {
		t.Errorf("error %v does not wrap the reader's error", err)
	}
	var fe *idx.FormatError
	if errors.As(err, &fe) {
		t.Errorf("an I/O error was reported as a FormatError: %v", err)
	}
	// Truncation is detected the same way whatever the read sizes.
	trunc, _ := os.ReadFile(fixture("images-truncated.idx3-ubyte"))
	for wn, wrap := range wrappers {
		_, err := idx.Read(wrap(bytes.NewReader(trunc)), "trunc.idx")
		t.Run(wn, func(t *testing.T) { wantErr(t, err, "trunc.idx", "declares 24 bytes of u8 data, found 19") })
	}
}

// limitFor is the default element limit for elements of size bytes, as
// error messages print it (lower on 32-bit platforms).
func limitFor(size int) string {
	return fmt.Sprint(min(idx.DefaultMaxElements, int64(math.MaxInt/size)))
}

// allocDuring returns the bytes allocated while f runs.
func allocDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileHeader checks that headers claiming huge payloads fail fast
// and cost memory in proportion to the bytes actually present.
func TestHostileHeader(t *testing.T) {
	const budget = 4 << 20
	hdr := func(typ idx.Type, dims ...uint32) []byte {
		b := []byte{0, 0, byte(typ), byte(len(dims))}
		for _, d := range dims {
			b = append(b, byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
		}
		return b
	}
	maxDims := make([]uint32, 255)
	for i := range maxDims {
		maxDims[i] = math.MaxUint32
	}
	cases := []struct {
		name  string
		data  []byte
		parts []string
	}{
		{"65535^3", hdr(idx.U8, 65535, 65535, 65535), []string{"more than the limit of " + limitFor(1)}},
		{"overflow", hdr(idx.F64, maxDims...), []string{"255 dims [4294967295 4294967295", "declares about 2.54e+2456 elements, more than the limit of " + limitFor(8)}},
		{"1<<30 u8, 100 bytes", append(hdr(idx.U8, 1<<30), make([]byte, 100)...), []string{"declares 1073741824 bytes of u8 data, found 100"}},
		{"1<<27 f64, 1000 bytes", append(hdr(idx.F64, 1<<14, 1<<13), make([]byte, 1000)...), []string{"declares 1073741824 bytes of f64 data, found 1000"}},
		{"1<<30 u8 gzip", gz(t, append(hdr(idx.U8, 1<<30), make([]byte, 5000)...)), []string{"found 5000", "gzip stream ends early"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "overflow" && strconv.IntSize == 32 {
				t.Skip("on 32-bit platforms a dimension of 2^32-1 is rejected as unindexable first")
			}
			var err error
			used := allocDuring(func() { _, err = idx.Read(bytes.NewReader(c.data), "hostile.idx") })
			wantErr(t, err, append([]string{"hostile.idx"}, c.parts...)...)
			t.Logf("allocated %d bytes", used)
			if used > budget {
				t.Errorf("allocated %d bytes, budget %d", used, budget)
			}
		})
	}
	// Through ReadFile, the file size may vouch for the header and allow a
	// single allocation, but only when it is consistent with it: a forged
	// gzip ISIZE on a small file must not.
	dir := t.TempDir()
	forged := gz(t, append(hdr(idx.U8, 1<<30), make([]byte, 100)...))
	binary.LittleEndian.PutUint32(forged[len(forged)-4:], 8+1<<30)
	plainLie := append(hdr(idx.U8, 1<<30), make([]byte, 100)...)
	for name, data := range map[string][]byte{"forged-isize.gz": forged, "plain-lie.idx": plainLie} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var err error
		used := allocDuring(func() { _, err = idx.ReadFile(p) })
		wantErr(t, err, p, "1073741824") // short payload, or gzip size check failing at byte 100 of 1073741824
		if used > budget {
			t.Errorf("%s: allocated %d bytes, budget %d", name, used, budget)
		}
	}
	// A consistent file is read with one allocation of its payload.
	big, _ := idx.New(idx.U8, 20<<20)
	for _, compress := range []bool{false, true} {
		p := filepath.Join(dir, fmt.Sprint("big", compress))
		if err := idx.WriteFile(p, big, compress); err != nil {
			t.Fatal(err)
		}
		var err error
		used := allocDuring(func() { _, err = idx.ReadFile(p) })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ReadFile of a 20 MiB u8 payload (gzip %v) allocated %d bytes", compress, used)
		if used > 21<<20 {
			t.Errorf("ReadFile of a 20 MiB payload (gzip %v) allocated %d bytes; want one allocation", compress, used)
		}
	}

	// A zero dimension makes the array empty however large the others are.
	if strconv.IntSize == 32 {
		return // dimensions of 2^32-1 cannot be represented
	}
	a, err := idx.Read(bytes.NewReader(hdr(idx.F64, math.MaxUint32, 0, math.MaxUint32)), "empty.idx")
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 0 || len(a.F64) != 0 || a.F64 == nil {
		t.Errorf("got %+v, want an empty non-nil F64 slice", a)
	}
}

func TestWriteInvalid(t *testing.T) {
	cases := []struct {
		a     *idx.Array
		parts []string
	}{
		{nil, []string{"nil Array"}},
		{&idx.Array{Type: 0x0A, Dims: []int{1}}, []string{"unknown element type Type(0xa)"}},
		{&idx.Array{Type: idx.U8}, []string{"0 dimensions (expected 1..255)"}},
		{&idx.Array{Type: idx.U8, Dims: make([]int, 256)}, []string{"256 dimensions (expected 1..255)"}},
		{&idx.Array{Type: idx.U8, Dims: []int{2, -1}}, []string{"dimension 1 is -1 (expected 0..4294967295)"}},
		{&idx.Array{Type: idx.I16, Dims: []int{2, 3}, I16: make([]int16, 5)}, []string{"dims [2 3] declare 6 elements, but the i16 slice holds 5"}},
		{&idx.Array{Type: idx.F32, Dims: []int{1}, F32: []float32{1}, F64: []float64{2}}, []string{"Type is f32, but the f64 slice holds 1 elements"}},
	}
	if math.MaxInt > math.MaxUint32 {
		cases = append(cases, struct {
			a     *idx.Array
			parts []string
		}{&idx.Array{Type: idx.U8, Dims: []int{math.MaxInt}}, []string{fmt.Sprintf("dimension 0 is %d (expected 0..4294967295)", math.MaxInt)}})
	}
	dir := t.TempDir()
	for i, c := range cases {
		var buf bytes.Buffer
		err := idx.Write(&buf, c.a)
		wantErr(t, err, append([]string{"idx: write"}, c.parts...)...)
		if buf.Len() != 0 {
			t.Errorf("case %d: Write wrote %d bytes for an invalid array", i, buf.Len())
		}
		p := filepath.Join(dir, fmt.Sprintf("bad%d.idx", i))
		wantErr(t, idx.WriteFile(p, c.a, false), append([]string{p}, c.parts...)...)
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("case %d: WriteFile created %s for an invalid array", i, p)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("WriteFile left files behind: %v", entries)
	}
	if _, err := idx.New(idx.Type(1), 3); err == nil {
		t.Error("New accepted an unknown type")
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		k := max(w.n, 0)
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteErrorPropagates(t *testing.T) {
	a := randomArray(t, rand.New(rand.NewPCG(7, 8)), idx.I32, 50_000)
	for _, n := range []int{0, 10, 100_000} {
		wantErr(t, idx.Write(&failWriter{n: n}, a), "idx: write", "disk full")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.idx")
	a := randomArray(t, rand.New(rand.NewPCG(9, 10)), idx.I16, 4, 5)
	b := randomArray(t, rand.New(rand.NewPCG(11, 12)), idx.F64, 3)
	if err := idx.WriteFile(p, a, false); err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(p, b, true); err != nil { // replaces
		t.Fatal(err)
	}
	got, err := idx.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Errorf("after overwrite got %+v, want %+v", got, b)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only x.idx (temporary file left behind?)", entries)
	}
	// Relative path in the current directory.
	t.Chdir(dir)
	if err := idx.WriteFile("rel.idx", a, false); err != nil {
		t.Fatal(err)
	}
	if _, err := idx.ReadFile("rel.idx"); err != nil {
		t.Fatal(err)
	}
	// A missing directory is an error naming the path.
	missing := filepath.Join(dir, "no", "such", "dir", "y.idx")
	wantErr(t, idx.WriteFile(missing, a, false), missing)
}
