package kernels_test

import (
	"fmt"
	"math"
)

// guardLen is the number of sentinel floats before and after every operand the tests
// pass: more than one 512-bit vector, so a kernel that stores a whole vector past
// either end of a slice (or of a row, into the leading-dimension padding) is caught.
const guardLen = 40

// sentinelBits fills guard bands and leading-dimension padding. It is a signalling
// NaN with a payload no arithmetic produces: a kernel that writes there changes the
// bits, and one that reads it into a result makes that result NaN.
const sentinelBits = 0x7fa5c3e1

var sentinel = math.Float32frombits(sentinelBits)

// matBuf is a rows x cols row-major matrix with leading dimension ld, stored in the
// middle of a buffer whose guard bands and row padding hold the sentinel. The slice a
// kernel receives is m.s, whose capacity ends at its last element.
type matBuf struct {
	buf            []float32
	s              []float32
	rows, cols, ld int
	size           int
	saved          []float32 // a copy of buf, for operands that must not change
}

// matSize is the number of elements a rows x cols matrix with leading dimension ld
// spans: (rows-1)*ld + cols, or 0 when it is empty.
func matSize(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// reset shapes m as a rows x cols matrix with leading dimension ld, reusing its
// storage, and sets every element to f(i, j) and everything else to the sentinel.
func (m *matBuf) reset(rows, cols, ld int, f func(i, j int) float32) {
	m.rows, m.cols, m.ld = rows, cols, ld
	m.size = matSize(rows, cols, ld)
	m.buf = grow(m.buf, m.size+2*guardLen)
	for i := range m.buf {
		m.buf[i] = sentinel
	}
	m.s = m.buf[guardLen : guardLen+m.size : guardLen+m.size]
	if m.size == 0 {
		return
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			m.s[i*ld+j] = f(i, j)
		}
	}
}

// at returns element (i, j).
func (m *matBuf) at(i, j int) float32 { return m.s[i*m.ld+j] }

// save remembers the whole buffer, for checkUnchanged.
func (m *matBuf) save() {
	m.saved = grow(m.saved, len(m.buf))
	copy(m.saved, m.buf)
}

// checkUnchanged reports the first element of the buffer (guard, padding or matrix)
// whose bits differ from what save recorded: for read-only operands.
func (m *matBuf) checkUnchanged() error {
	for i, v := range m.buf {
		if math.Float32bits(v) != math.Float32bits(m.saved[i]) {
			return fmt.Errorf("%s changed from %#08x to %#08x (%v)", m.where(i), math.Float32bits(m.saved[i]), math.Float32bits(v), v)
		}
	}
	return nil
}

// checkOutside reports the first sentinel (guard band or row padding) that is no
// longer the sentinel: for operands a kernel writes.
func (m *matBuf) checkOutside() error {
	for i, v := range m.buf {
		if math.Float32bits(v) == sentinelBits {
			continue
		}
		if e := i - guardLen; e >= 0 && e < m.size && e%m.ld < m.cols {
			continue
		}
		return fmt.Errorf("%s was written: sentinel %#08x became %#08x (%v)", m.where(i), uint32(sentinelBits), math.Float32bits(v), v)
	}
	return nil
}

// where names buffer position i for a failure message.
func (m *matBuf) where(i int) string {
	e := i - guardLen
	switch {
	case e < 0:
		return fmt.Sprintf("guard band %d elements before the slice", -e)
	case e >= m.size:
		return fmt.Sprintf("guard band %d elements after the end of the slice (len %d)", e-m.size+1, m.size)
	case e%m.ld >= m.cols:
		return fmt.Sprintf("row padding at row %d, column %d (%d columns, ld %d)", e/m.ld, e%m.ld, m.cols, m.ld)
	}
	return fmt.Sprintf("element (%d, %d)", e/m.ld, e%m.ld)
}

// vecBuf returns a length-n vector with guard bands: a 1 x n matrix.
func vecBuf(n int, f func(i int) float32) *matBuf {
	m := new(matBuf)
	m.reset(1, n, max(n, 1), func(_, j int) float32 { return f(j) })
	return m
}
