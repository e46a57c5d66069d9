package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// kernel starts the function base+ISA with signature sig ("(dst, src []float32)")
// and the doc comment doc, whose %[1]s is replaced by the function's name. Every
// kernel is NOSPLIT, keeps no pointer beyond the call (noescape, so callers can pass
// stack buffers without allocating) and ends with ret.
func (s *isa) kernel(base, sig string, doc string) {
	name := s.fn(base)
	TEXT(name, NOSPLIT, "func"+sig)
	Pragma("noescape")
	Doc(splitLines(sprintfDoc(doc, name, s.name))...)
}

// ret clears the upper halves of the vector registers (avoiding the AVX-SSE
// transition penalty in the Go code that runs next) and returns.
func ret() {
	VZEROUPPER()
	RET()
}

// stream emits a loop over n float32 elements of the slices whose base pointers are
// in ptrs. body emits the work of one vector at byte offset off from every pointer,
// over the active lanes of k when k is not nil. The loop does unroll vectors per
// iteration, then single vectors, then one masked partial vector for the last n mod
// lanes elements, so no element is ever read or written twice and nothing past the
// slices is touched. n and ptrs are consumed.
func (s *isa) stream(prefix string, n reg.GPVirtual, ptrs []reg.GPVirtual, unroll int, body func(off int, k *mask)) {
	advance := func(vectors int) {
		for _, p := range ptrs {
			ADDQ(U32(vectors*s.bytes()), p)
		}
		SUBQ(U32(vectors*s.lanes), n)
	}
	if unroll > 1 {
		Label(prefix + "_unrolled")
		CMPQ(n, U32(unroll*s.lanes))
		JL(LabelRef(prefix + "_single"))
		for u := 0; u < unroll; u++ {
			body(u*s.bytes(), nil)
		}
		advance(unroll)
		JMP(LabelRef(prefix + "_unrolled"))
	}
	Label(prefix + "_single")
	CMPQ(n, U32(s.lanes))
	JL(LabelRef(prefix + "_tail"))
	body(0, nil)
	advance(1)
	JMP(LabelRef(prefix + "_single"))

	Label(prefix + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(prefix + "_done"))
	k := s.tailMask(n)
	body(0, &k)
	Label(prefix + "_done")
}

// at is the memory operand off bytes past the pointer in p.
func at(p reg.GPVirtual, off int) Mem { return Mem{Base: p, Disp: off} }

// loadPtr loads the base pointer of the slice parameter name.
func loadPtr(name string) reg.GPVirtual {
	r := GP64()
	Load(Param(name).Base(), r)
	return r
}

// loadLen loads the length of the slice parameter name.
func loadLen(name string) reg.GPVirtual {
	r := GP64()
	Load(Param(name).Len(), r)
	return r
}

// loadInt loads the int parameter name.
func loadInt(name string) reg.GPVirtual {
	r := GP64()
	Load(Param(name), r)
	return r
}

// param is the memory operand of the scalar parameter name (for broadcasts).
func param(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}
