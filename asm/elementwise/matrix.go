package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// colSumsVectors is how many vectors of columns colSums sums at once: that many
// independent accumulators hide the addition latency while it walks down the rows.
const colSumsVectors = 8

func genMatrix(s *isa) {
	s.kernel("addBias", "(m, n int, x []float32, ldx int, bias []float32)", `
%[1]s adds bias[j] to column j of the m x n row-major matrix x with %[2]s:

	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			x[i*ldx+j] += bias[j]
		}
	}
`)
	{
		// Rows outer, columns inner: whole vectors (unrolled), then the row's
		// partial vector, whose mask is built once for all rows.
		rows, n, x, ld, bias := loadInt("m"), loadInt("n"), loadPtr("x"), loadInt("ldx"), loadPtr("bias")
		SHLQ(U8(2), ld)
		nmain, rem := GP64(), GP64()
		MOVQ(n, nmain)
		ANDQ(U32(-s.lanes), nmain)
		MOVQ(n, rem)
		SUBQ(nmain, rem)
		tail := s.tailMask(rem) // no lanes when rem = 0
		j := GP64()
		Label("row")
		XORQ(j, j)
		add := func(off int, k *mask) {
			m := Mem{Base: x, Index: j, Scale: 4, Disp: off}
			v := s.loadOrMasked(m, k)
			VADDPS(s.operand(Mem{Base: bias, Index: j, Scale: 4, Disp: off}, k), v, v)
			s.storeOrMasked(v, m, k)
		}
		u := s.unrollCheap
		Label("unrolled")
		LEAQ(Mem{Base: j, Disp: u * s.lanes}, n)
		CMPQ(n, nmain)
		JG(LabelRef("single"))
		for i := range u {
			add(i*s.bytes(), nil)
		}
		MOVQ(n, j)
		JMP(LabelRef("unrolled"))
		Label("single")
		CMPQ(j, nmain)
		JGE(LabelRef("tail"))
		add(0, nil)
		ADDQ(U32(s.lanes), j)
		JMP(LabelRef("single"))
		Label("tail")
		TESTQ(rem, rem)
		JZ(LabelRef("next"))
		add(0, &tail)
		Label("next")
		ADDQ(ld, x)
		DECQ(rows)
		JNZ(LabelRef("row"))
		ret()
	}

	s.kernel("colSums", "(m, n int, x []float32, ldx int, dst []float32)", `
%[1]s sets dst[j] to the sum of column j of the m x n row-major matrix x (m >= 1)
with %[2]s, adding the rows in order as the Go loop:

	copy(dst[:n], x[:n])
	for i := 1; i < m; i++ {
		for j := 0; j < n; j++ {
			dst[j] += x[i*ldx+j]
		}
	}
`)
	{
		rows, n, x, ld, dst := loadInt("m"), loadInt("n"), loadPtr("x"), loadInt("ldx"), loadPtr("dst")
		SHLQ(U8(2), ld)
		// block sums the next vectors*lanes columns (the active lanes of k when k is
		// not nil) down all the rows into dst.
		block := func(prefix string, vectors int, k *mask) {
			acc := make([]reg.VecVirtual, vectors)
			for u := range acc {
				acc[u] = s.loadOrMasked(at(x, u*s.bytes()), k)
			}
			p, r := GP64(), GP64()
			MOVQ(x, p)
			MOVQ(rows, r)
			Label(prefix + "_rows")
			DECQ(r)
			JZ(LabelRef(prefix + "_store"))
			ADDQ(ld, p)
			for u := range acc {
				VADDPS(s.operand(at(p, u*s.bytes()), k), acc[u], acc[u])
			}
			JMP(LabelRef(prefix + "_rows"))
			Label(prefix + "_store")
			for u := range acc {
				s.storeOrMasked(acc[u], at(dst, u*s.bytes()), k)
			}
		}
		for _, vectors := range []int{colSumsVectors, 1} {
			prefix := label("block%d", vectors)
			Label(prefix)
			CMPQ(n, U32(vectors*s.lanes))
			JL(LabelRef(prefix + "_next"))
			block(prefix, vectors, nil)
			ADDQ(U32(vectors*s.bytes()), x)
			ADDQ(U32(vectors*s.bytes()), dst)
			SUBQ(U32(vectors*s.lanes), n)
			JMP(LabelRef(prefix))
			Label(prefix + "_next")
		}
		TESTQ(n, n)
		JZ(LabelRef("done"))
		k := s.tailMask(n)
		block("tail", 1, &k)
		Label("done")
		ret()
	}
}
