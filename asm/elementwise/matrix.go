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
		rows, n, x, ld, bias := loadInt("m"), loadInt("n"), loadPtr("x"), loadInt("ldx"), loadPtr("bias")
		SHLQ(U8(2), ld)
		Label("row")
		TESTQ(rows, rows)
		JZ(LabelRef("done"))
		p, b, c := GP64(), GP64(), GP64()
		MOVQ(x, p)
		MOVQ(bias, b)
		MOVQ(n, c)
		s.stream("col", c, []reg.GPVirtual{p, b}, s.unrollCheap, func(off int, k *mask) {
			v := s.loadOrMasked(at(p, off), k)
			VADDPS(s.operand(at(b, off), k), v, v)
			s.storeOrMasked(v, at(p, off), k)
		})
		ADDQ(ld, x)
		DECQ(rows)
		JMP(LabelRef("row"))
		Label("done")
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
