package idx

import (
	"fmt"
	"math"
	"strconv"
)

// Type is an IDX element type: the third byte of an IDX file.
type Type byte

// The element types defined by the IDX format.
const (
	U8  Type = 0x08 // unsigned byte
	I8  Type = 0x09 // signed byte
	I16 Type = 0x0B // big-endian int16
	I32 Type = 0x0C // big-endian int32
	F32 Type = 0x0D // big-endian IEEE 754 float32
	F64 Type = 0x0E // big-endian IEEE 754 float64
)

// MaxDims is the largest number of dimensions an IDX header can declare.
const MaxDims = 255

// String returns the short name of t ("u8", "i8", "i16", "i32", "f32",
// "f64"), or "Type(0xNN)" for a code the format does not define.
func (t Type) String() string {
	switch t {
	case U8:
		return "u8"
	case I8:
		return "i8"
	case I16:
		return "i16"
	case I32:
		return "i32"
	case F32:
		return "f32"
	case F64:
		return "f64"
	}
	return "Type(0x" + strconv.FormatUint(uint64(t), 16) + ")"
}

// Size returns the size in bytes of one element of type t, or 0 if t is not
// a type the format defines.
func (t Type) Size() int {
	switch t {
	case U8, I8:
		return 1
	case I16:
		return 2
	case I32, F32:
		return 4
	case F64:
		return 8
	}
	return 0
}

// Valid reports whether t is one of the element types the format defines.
func (t Type) Valid() bool { return t.Size() != 0 }

// knownTypes is the list of valid codes for error messages.
const knownTypes = "0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32 or 0x0E f64"

// Array is an n-dimensional array of one element type, as stored in an IDX
// file. Exactly one of the element slices, the one matching Type, holds the
// data: product(Dims) elements in row-major order (last index fastest).
// The other slices are nil.
type Array struct {
	Type Type  // element type
	Dims []int // size of each dimension, 1..MaxDims entries, each 0..2^32-1

	U8  []uint8   // data when Type == U8
	I8  []int8    // data when Type == I8
	I16 []int16   // data when Type == I16
	I32 []int32   // data when Type == I32
	F32 []float32 // data when Type == F32
	F64 []float64 // data when Type == F64
}

// New returns a zero-filled Array of type t and the given dimensions, or an
// error if t is unknown or the dimensions are not valid for an IDX file.
func New(t Type, dims ...int) (*Array, error) {
	n, err := checkShape(t, dims)
	if err != nil {
		return nil, fmt.Errorf("idx: New: %w", err)
	}
	a := &Array{Type: t, Dims: append([]int(nil), dims...)}
	a.alloc(n)
	return a, nil
}

// alloc gives a a zero-filled data slice of n elements of a.Type.
func (a *Array) alloc(n int) {
	switch a.Type {
	case U8:
		a.U8 = make([]uint8, n)
	case I8:
		a.I8 = make([]int8, n)
	case I16:
		a.I16 = make([]int16, n)
	case I32:
		a.I32 = make([]int32, n)
	case F32:
		a.F32 = make([]float32, n)
	case F64:
		a.F64 = make([]float64, n)
	}
}

// Len returns the number of elements the dimensions describe (their
// product), or -1 if the product does not fit in an int.
func (a *Array) Len() int {
	n, ok := product(a.Dims, math.MaxInt)
	if !ok {
		return -1
	}
	return n
}

// Validate checks that a can be written as an IDX file: a known Type, 1 to
// MaxDims dimensions each in 0..2^32-1, a data slice of the matching type
// holding exactly product(Dims) elements, and no data in the other slices.
func (a *Array) Validate() error {
	if a == nil {
		return fmt.Errorf("nil Array")
	}
	n, err := checkShape(a.Type, a.Dims)
	if err != nil {
		return err
	}
	lens := [...]struct {
		t Type
		n int
	}{
		{U8, len(a.U8)}, {I8, len(a.I8)}, {I16, len(a.I16)},
		{I32, len(a.I32)}, {F32, len(a.F32)}, {F64, len(a.F64)},
	}
	for _, l := range lens {
		switch {
		case l.t == a.Type && l.n != n:
			return fmt.Errorf("dims %v declare %d elements, but the %s slice holds %d",
				a.Dims, n, l.t, l.n)
		case l.t != a.Type && l.n != 0:
			return fmt.Errorf("Type is %s, but the %s slice holds %d elements", a.Type, l.t, l.n)
		}
	}
	return nil
}

// checkShape validates a type and dimension list for writing and returns
// the element count.
func checkShape(t Type, dims []int) (int, error) {
	if !t.Valid() {
		return 0, fmt.Errorf("unknown element type %v (expected %s)", t, knownTypes)
	}
	if len(dims) < 1 || len(dims) > MaxDims {
		return 0, fmt.Errorf("%d dimensions (expected 1..%d)", len(dims), MaxDims)
	}
	for i, d := range dims {
		if d < 0 || uint64(d) > math.MaxUint32 {
			return 0, fmt.Errorf("dimension %d is %d (expected 0..%d)", i, d, uint64(math.MaxUint32))
		}
	}
	n, ok := product(dims, math.MaxInt/t.Size())
	if !ok {
		return 0, fmt.Errorf("dims %v describe more than %d bytes", dims, math.MaxInt)
	}
	return n, nil
}

// product returns the product of dims and whether it is at most limit.
// A zero dimension makes the product zero whatever the others are.
func product(dims []int, limit int) (int, bool) {
	for _, d := range dims {
		if d == 0 {
			return 0, true
		}
	}
	n := 1
	for _, d := range dims {
		if d < 0 || n > limit/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}
