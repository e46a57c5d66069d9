package idx

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
)

// DefaultMaxElements is the element limit used when Options.MaxElements is
// zero: 2^31 elements, far above any real data set of this format and far
// below what a hostile header can claim (up to 2^(32*255)).
const DefaultMaxElements int64 = 1 << 31

// Options configures reading. The zero value is ready to use.
type Options struct {
	// MaxElements is the largest element count (product of the dimensions)
	// a header may declare; a header declaring more is rejected before any
	// payload is read. Zero or negative means DefaultMaxElements.
	MaxElements int64
}

// FormatError reports input that is not a valid IDX file, or not the kind
// of IDX file asked for. I/O errors from the underlying reader are returned
// wrapped, not as FormatError.
type FormatError struct {
	File string // the name passed to Read, or the path
	Msg  string // what was expected and what was found
	Err  error  // underlying cause (e.g. a gzip checksum error), or nil
}

// Error returns "idx: <file>: <message>".
func (e *FormatError) Error() string { return "idx: " + e.File + ": " + e.Msg }

// Unwrap returns the underlying cause, if any.
func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(name, format string, args ...any) error {
	return &FormatError{File: name, Msg: fmt.Sprintf(format, args...)}
}

// gzipErr reports a corrupt gzip stream as a FormatError; it returns nil if
// err is not a gzip or deflate corruption error.
func gzipErr(name, where string, err error) error {
	var ce flate.CorruptInputError
	if errors.As(err, &ce) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
		return &FormatError{File: name, Msg: fmt.Sprintf("corrupt gzip stream %s: %v", where, err), Err: err}
	}
	return nil
}

// Read decodes one IDX array from r, which may be plain or gzip-compressed.
// name identifies the input in error messages only. It is equivalent to
// Options{}.Read(r, name).
func Read(r io.Reader, name string) (*Array, error) { return Options{}.Read(r, name) }

// ReadFile reads the IDX file at path, plain or gzip-compressed whatever its
// name. It is equivalent to Options{}.ReadFile(path).
func ReadFile(path string) (*Array, error) { return Options{}.ReadFile(path) }

// Read decodes one IDX array from r, which may be plain or gzip-compressed
// (recognised from its first two bytes). The whole of r is consumed: data
// after the payload the header declares is an error, as is any corruption
// of a gzip stream up to its end. name identifies the input in errors.
func (o Options) Read(r io.Reader, name string) (*Array, error) {
	return o.decode(r, name, nil, sizeHint{})
}

// ReadFile reads the IDX file at path; see Options.Read.
func (o Options) ReadFile(path string) (*Array, error) {
	return o.decodeFile(path, nil)
}

func (o Options) decodeFile(path string, check func(*header) error) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	return o.decode(f, path, check, fileSizeHint(f))
}

// sizeHint is what is known of the input's size before decoding, used only
// to allocate the result in one piece when the input is self-consistent.
type sizeHint struct {
	known bool
	size  int64  // input size in bytes (compressed if gzip)
	isize uint32 // last 4 bytes read as gzip's ISIZE (little-endian), if size >= 4
}

func fileSizeHint(f *os.File) sizeHint {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return sizeHint{}
	}
	h := sizeHint{known: true, size: st.Size()}
	var b [4]byte
	if h.size >= 4 {
		if _, err := f.ReadAt(b[:], h.size-4); err != nil {
			return sizeHint{}
		}
		h.isize = binary.LittleEndian.Uint32(b[:])
	}
	return h
}

// maxDeflateRatio bounds the expansion of deflate: one 258-byte match per
// 2 bits at best, about 1032:1.
const maxDeflateRatio = 1032

// exact reports whether the input is, by its size, consistent with a header
// of hdrLen bytes declaring payload bytes, so that the whole result can be
// allocated at once without trusting the header beyond what the input
// itself supports. For plain input the file size must match exactly; for
// gzip the ISIZE trailer (size mod 2^32 of the last member) must match and
// the payload must be within deflate's maximum expansion of the file size.
func (s sizeHint) exact(hdrLen, payload int, compressed bool) bool {
	if !s.known {
		return false
	}
	whole := int64(hdrLen) + int64(payload)
	if !compressed {
		return s.size == whole
	}
	return s.isize == uint32(whole) && whole/maxDeflateRatio <= s.size
}

func (o Options) limit() int64 {
	if o.MaxElements <= 0 {
		return DefaultMaxElements
	}
	return o.MaxElements
}

// header is a decoded IDX header.
type header struct {
	typ  Type
	dims []int
	n    int // element count
}

// magic returns the 4-byte prefix as a big-endian integer.
func (h *header) magic() uint32 { return uint32(h.typ)<<8 | uint32(len(h.dims)) }

// desc describes the header for messages, e.g. "magic 0x00000803: u8, dims [60000 28 28]".
// Long dimension lists are abbreviated.
func (h *header) desc() string {
	if len(h.dims) > 8 {
		return fmt.Sprintf("magic 0x%08X: %s, %d dims %v...", h.magic(), h.typ, len(h.dims), h.dims[:8])
	}
	return fmt.Sprintf("magic 0x%08X: %s, dims %v", h.magic(), h.typ, h.dims)
}

const (
	bufSize = 64 << 10 // read buffer and decode chunk size in bytes
	// firstChunk is the size in bytes of the first allocation for the
	// payload, unless the input's size vouches for the header (see
	// sizeHint); it doubles as data arrives, up to what the header declares.
	firstChunk = 1 << 20
)

// decode reads one array from r. check, if not nil, vets the header before
// the payload is read.
func (o Options) decode(r io.Reader, name string, check func(*header) error, hint sizeHint) (*Array, error) {
	br := bufio.NewReaderSize(r, bufSize)
	var src io.Reader = br
	compressed := false
	if p, err := br.Peek(2); len(p) == 2 && p[0] == 0x1f && p[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, &FormatError{File: name, Msg: fmt.Sprintf("invalid gzip stream header: %v", err), Err: err}
		}
		defer zr.Close()
		src = zr
		compressed = true
	} else if err != nil && err != io.EOF {
		return nil, fmt.Errorf("idx: %s: reading header: %w", name, err)
	}

	h, err := o.readHeader(src, name)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(h); err != nil {
			return nil, err
		}
	}
	a := &Array{Type: h.typ, Dims: h.dims}
	first := min(h.n, max(firstChunk/h.typ.Size(), 1))
	if hint.exact(4+4*len(h.dims), h.n*h.typ.Size(), compressed) {
		first = h.n
	}
	if err := readPayload(src, name, h, a, compressed, first); err != nil {
		return nil, err
	}
	if err := checkEnd(src, name, h, compressed); err != nil {
		return nil, err
	}
	return a, nil
}

func (o Options) readHeader(r io.Reader, name string) (*header, error) {
	var pre [4]byte
	if n, err := io.ReadFull(r, pre[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, formatErr(name, "too short for an IDX header: expected at least 4 bytes, found %d", n)
		}
		return nil, fmt.Errorf("idx: %s: reading header: %w", name, err)
	}
	if pre[0] != 0 || pre[1] != 0 {
		return nil, formatErr(name, "bad magic 0x%02X%02X%02X%02X: expected the first two bytes to be 0x00 0x00, found 0x%02X 0x%02X",
			pre[0], pre[1], pre[2], pre[3], pre[0], pre[1])
	}
	t := Type(pre[2])
	if !t.Valid() {
		return nil, formatErr(name, "bad magic 0x%08X: unknown element type code 0x%02X (expected %s)",
			binary.BigEndian.Uint32(pre[:]), pre[2], knownTypes)
	}
	nd := int(pre[3])
	if nd == 0 {
		return nil, formatErr(name, "bad magic 0x%08X: header declares 0 dimensions (expected 1..%d)",
			binary.BigEndian.Uint32(pre[:]), MaxDims)
	}
	var dimBuf [4 * MaxDims]byte
	if n, err := io.ReadFull(r, dimBuf[:4*nd]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, formatErr(name, "truncated header: %d dimensions need %d bytes of sizes, found %d",
				nd, 4*nd, n)
		}
		return nil, fmt.Errorf("idx: %s: reading header: %w", name, err)
	}
	h := &header{typ: t, dims: make([]int, nd)}
	for i := range h.dims {
		d := binary.BigEndian.Uint32(dimBuf[4*i:])
		if uint64(d) > math.MaxInt {
			return nil, formatErr(name, "dimension %d is %d, larger than this platform can index", i, d)
		}
		h.dims[i] = int(d)
	}
	limit := o.limit()
	if max := int64(math.MaxInt / t.Size()); limit > max {
		limit = max
	}
	if limit > math.MaxInt {
		limit = math.MaxInt
	}
	n, ok := product(h.dims, int(limit))
	if !ok {
		return nil, formatErr(name, "header (%s) declares %s elements, more than the limit of %d",
			h.desc(), bigProduct(h.dims), limit)
	}
	h.n = n
	return h, nil
}

// bigProduct formats the product of dims exactly, even when it overflows,
// or in scientific notation when it is very long.
func bigProduct(dims []int) string {
	p := big.NewInt(1)
	for _, d := range dims {
		p.Mul(p, big.NewInt(int64(d)))
	}
	s := p.String()
	if len(s) <= 20 {
		return s
	}
	return "about " + new(big.Float).SetInt(p).Text('g', 3)
}

// grow returns s with capacity for at least need elements, growing
// geometrically but never beyond total.
func grow[T any](s []T, need, total int) []T {
	if need <= cap(s) {
		return s
	}
	c := max(2*cap(s), need)
	c = min(c, total)
	ns := make([]T, len(s), c)
	copy(ns, s)
	return ns
}

// readPayload reads h.n elements into the matching slice of a. Memory grows
// only as bytes arrive, so a header that overstates its payload cannot make
// this allocate more than about twice the bytes actually present (plus
// firstChunk). first is the capacity, in elements, of the first allocation.
func readPayload(r io.Reader, name string, h *header, a *Array, compressed bool, first int) error {
	size := h.typ.Size()
	total := h.n * size
	got := 0 // payload bytes read so far
	fail := func(err error) error {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			how := "input ends early"
			if compressed {
				how = "gzip stream ends early"
			}
			return formatErr(name, "short payload: header (%s) declares %d bytes of %s data, found %d (%s)",
				h.desc(), total, h.typ, got, how)
		}
		where := fmt.Sprintf("at payload byte %d of %d", got, total)
		if ge := gzipErr(name, where, err); ge != nil {
			return ge
		}
		return fmt.Errorf("idx: %s: reading payload %s: %w", name, where, err)
	}

	if h.typ == U8 {
		// Read straight into the result.
		buf := make([]uint8, 0, first)
		for len(buf) < h.n {
			buf = grow(buf, len(buf)+1, h.n)
			k, err := io.ReadFull(r, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+k]
			got += k
			if err != nil {
				return fail(err)
			}
		}
		a.U8 = buf
		return nil
	}

	var scratch [bufSize]byte
	var (
		i8  []int8
		i16 []int16
		i32 []int32
		f32 []float32
		f64 []float64
	)
	for got < total {
		chunk := scratch[:min(total-got, bufSize)]
		k, err := io.ReadFull(r, chunk)
		if err != nil {
			got += k
			return fail(err)
		}
		m := k / size // k is a whole number of elements: bufSize and the remainder are multiples of size
		done := got / size
		got += k
		switch h.typ {
		case I8:
			i8 = grow(i8, max(done+m, first), h.n)[:done+m]
			for j, b := range chunk {
				i8[done+j] = int8(b)
			}
		case I16:
			i16 = grow(i16, max(done+m, first), h.n)[:done+m]
			d := i16[done:]
			for j := range d {
				d[j] = int16(binary.BigEndian.Uint16(chunk[2*j:]))
			}
		case I32:
			i32 = grow(i32, max(done+m, first), h.n)[:done+m]
			d := i32[done:]
			for j := range d {
				d[j] = int32(binary.BigEndian.Uint32(chunk[4*j:]))
			}
		case F32:
			f32 = grow(f32, max(done+m, first), h.n)[:done+m]
			d := f32[done:]
			for j := range d {
				d[j] = math.Float32frombits(binary.BigEndian.Uint32(chunk[4*j:]))
			}
		case F64:
			f64 = grow(f64, max(done+m, first), h.n)[:done+m]
			d := f64[done:]
			for j := range d {
				d[j] = math.Float64frombits(binary.BigEndian.Uint64(chunk[8*j:]))
			}
		}
	}
	switch h.typ {
	case I8:
		a.I8 = nonNil(i8)
	case I16:
		a.I16 = nonNil(i16)
	case I32:
		a.I32 = nonNil(i32)
	case F32:
		a.F32 = nonNil(f32)
	case F64:
		a.F64 = nonNil(f64)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// maxTrailingCount bounds how much trailing data checkEnd counts for its
// message.
const maxTrailingCount = 1 << 20

// checkEnd verifies that r is exhausted: no bytes after the payload and, for
// gzip, a stream that is valid to its end (checksums, no garbage member).
func checkEnd(r io.Reader, name string, h *header, compressed bool) error {
	var one [1]byte
	k, err := io.ReadFull(r, one[:])
	if k == 0 {
		if err == io.EOF {
			return nil
		}
		if compressed {
			where := fmt.Sprintf("after the %d-byte payload", h.n*h.typ.Size())
			if err == io.ErrUnexpectedEOF {
				return &FormatError{File: name, Msg: "truncated gzip stream " + where + ": " + err.Error(), Err: err}
			}
			if ge := gzipErr(name, where, err); ge != nil {
				return ge
			}
		}
		return fmt.Errorf("idx: %s: reading after the payload: %w", name, err)
	}
	extra, _ := io.CopyN(io.Discard, r, maxTrailingCount)
	extra++
	what := "trailing data"
	if compressed {
		what = "trailing decompressed data"
	}
	qty := fmt.Sprintf("%d", extra)
	if extra > maxTrailingCount {
		qty = fmt.Sprintf("more than %d", maxTrailingCount)
	}
	return formatErr(name, "%s: header (%s) declares a %d-byte payload, found %s extra bytes after it",
		what, h.desc(), h.n*h.typ.Size(), qty)
}
