package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// isa is one vector instruction set the kernels are generated for. Every kernel is
// written once, against this type; the methods below are the only places where the
// two instruction sets differ (compare results in a vector or in an opmask register,
// tails through VMASKMOVPS or through opmask registers, 2^k by exponent arithmetic
// or by VSCALEFPS).
type isa struct {
	name  string // suffix of the generated functions: "AVX2", "AVX512"
	lanes int    // float32 lanes per vector register
	evex  bool   // AVX-512: zmm registers, opmask registers
	// unroll is the number of vectors a streaming kernel handles per loop iteration,
	// by kernel weight: cheap kernels (a few instructions per vector) are unrolled
	// more, so the loop's own instructions stay a small share.
	unrollCheap, unrollHeavy int
}

var (
	avx2   = &isa{name: "AVX2", lanes: 8, unrollCheap: 4, unrollHeavy: 2}
	avx512 = &isa{name: "AVX512", lanes: 16, evex: true, unrollCheap: 4, unrollHeavy: 2}
)

// bytes is the size of one vector in bytes.
func (s *isa) bytes() int { return 4 * s.lanes }

// fn is the name of kernel base for this instruction set ("relu" -> "reluAVX2").
func (s *isa) fn(base string) string { return base + s.name }

// vec allocates a vector register of the set's width. AVX2 code must end up in
// Y0-Y15 only (the VEX encoding cannot name the others, and the Go assembler would
// silently emit AVX-512 instructions for them): TestGeneratedAssembly in kernels
// checks the output.
func (s *isa) vec() reg.VecVirtual {
	if s.evex {
		return ZMM()
	}
	return YMM()
}

// c returns a memory operand holding constant name in every lane (see consts.go).
func (s *isa) c(name string) Mem { return constant(name) }

// cr loads constant name into a register (for operand positions that must be a
// register).
func (s *isa) cr(name string) reg.VecVirtual {
	v := s.vec()
	VMOVUPS(s.c(name), v)
	return v
}

// broadcast fills a register with the float32 at m (a parameter, or a scalar).
func (s *isa) broadcast(m Op) reg.VecVirtual {
	v := s.vec()
	VBROADCASTSS(m, v)
	return v
}

// mask is the lane mask of a partial vector (the tail of a row or slice): lanes
// [0, r) are active.
type mask struct {
	y reg.VecVirtual    // AVX2: all-ones in active lanes
	k reg.OpmaskVirtual // AVX-512
}

// tailMask builds the mask of the first r lanes, 0 < r < lanes, r in a 64-bit
// register (left unchanged).
func (s *isa) tailMask(r reg.GPVirtual) mask {
	if s.evex {
		// k = (1<<r)-1 from a table of 16-bit masks: KMOVW cannot take an
		// immediate and a shift would need CL.
		t := GP64()
		LEAQ(constant("kmasks"), t)
		k := K()
		KMOVW(Mem{Base: t, Index: r, Scale: 2}, k)
		return mask{k: k}
	}
	// 8 all-ones dwords followed by 8 zero dwords: the 8 lanes starting at dword
	// 8-r hold r ones.
	t, neg := GP64(), GP64()
	LEAQ(constant("ymasks"), t)
	MOVQ(r, neg)
	NEGQ(neg)
	y := YMM()
	VMOVDQU(Mem{Base: t, Index: neg, Scale: 4, Disp: 32}, y)
	return mask{y: y}
}

// load reads a whole vector from m.
func (s *isa) load(m Mem) reg.VecVirtual {
	v := s.vec()
	VMOVUPS(m, v)
	return v
}

// loadMasked reads the active lanes of m and zeroes the others; the inactive lanes
// are never read, so a partial vector at the end of a slice never touches memory
// past the slice (VMASKMOVPS and masked VMOVUPS suppress faults on masked-out
// elements).
func (s *isa) loadMasked(m Mem, k mask) reg.VecVirtual {
	v := s.vec()
	if s.evex {
		VMOVUPS_Z(m, k.k, v)
	} else {
		VMASKMOVPS(m, k.y, v)
	}
	return v
}

// loadOrMasked is load when k is nil, else loadMasked.
func (s *isa) loadOrMasked(m Mem, k *mask) reg.VecVirtual {
	if k == nil {
		return s.load(m)
	}
	return s.loadMasked(m, *k)
}

// operand returns m itself for a whole vector (k nil), which an arithmetic
// instruction can read directly, else a register holding m's active lanes.
func (s *isa) operand(m Mem, k *mask) Op {
	if k == nil {
		return m
	}
	return s.loadMasked(m, *k)
}

// store writes v to m.
func (s *isa) store(v reg.VecVirtual, m Mem) { VMOVUPS(v, m) }

// storeOrMasked writes v's lanes to m, only the active ones when k is not nil.
func (s *isa) storeOrMasked(v reg.VecVirtual, m Mem, k *mask) {
	switch {
	case k == nil:
		VMOVUPS(v, m)
	case s.evex:
		VMOVUPS(v, k.k, m)
	default:
		VMASKMOVPS(v, k.y, m)
	}
}

// zeroInactive clears v's lanes outside k (so that reductions ignore them).
func (s *isa) zeroInactive(v reg.VecVirtual, k mask) {
	if s.evex {
		VMOVAPS_Z(v, k.k, v)
	} else {
		VANDPS(k.y, v, v)
	}
}

// Comparison predicates (VCMPPS immediates).
const (
	cmpEQ   = 0x00 // ==, false for NaN
	cmpLT   = 0x11 // <, false for NaN (quiet)
	cmpGE   = 0x1d // >=, false for NaN (quiet)
	cmpGT   = 0x1e // >, false for NaN (quiet)
	cmpNLTU = 0x15 // not <, true for NaN
)

// test is one lane condition: x pred the constant c.
type test struct {
	x    reg.VecVirtual
	pred int
	c    string
}

// zeroWhereAll sets to +0 the lanes of v where every test holds.
func (s *isa) zeroWhereAll(v reg.VecVirtual, tests ...test) {
	if s.evex {
		var k reg.OpmaskVirtual
		for _, t := range tests {
			next := K()
			if k == nil {
				VCMPPS(U8(t.pred), s.c(t.c), t.x, next)
			} else {
				VCMPPS(U8(t.pred), s.c(t.c), t.x, k, next) // and-ed with k
			}
			k = next
		}
		keep := K()
		KNOTW(k, keep)
		VMOVAPS_Z(v, keep, v)
		return
	}
	var all reg.VecVirtual
	for _, t := range tests {
		m := YMM()
		VCMPPS(U8(t.pred), s.c(t.c), t.x, m)
		if all != nil {
			VANDPS(m, all, all)
		} else {
			all = m
		}
	}
	VANDNPS(v, all, v)
}

// abs returns |x| in a new register.
func (s *isa) abs(x reg.VecVirtual) reg.VecVirtual {
	a := s.vec()
	VANDPS(s.c("absmask"), x, a)
	return a
}

// keepWhere zeroes the lanes of v where a pred b is false: v = a pred b ? v : 0.
func (s *isa) keepWhere(v reg.VecVirtual, pred int, a reg.VecVirtual, b Op) {
	if s.evex {
		k := K()
		VCMPPS(U8(pred), b, a, k)
		VMOVAPS_Z(v, k, v)
		return
	}
	m := YMM()
	VCMPPS(U8(pred), b, a, m)
	VANDPS(m, v, v)
}

// flushSubnormal sets to +0 the lanes of v whose magnitude is below the smallest
// normal float32 (subnormals and -0), exactly the rule of the generic backend's
// flushSubnormal: NaN and Inf are kept.
func (s *isa) flushSubnormal(v reg.VecVirtual) {
	a := s.abs(v)
	if s.evex {
		// Keep where |v| >= 2^-126 or unordered (NaN). (A merge-masked VXORPS
		// v, v would be shorter, but avo takes it for a zeroing idiom that reads
		// nothing, not even its mask, and allocates registers accordingly.)
		k := K()
		VCMPPS(U8(cmpNLTU), s.c("minnormal"), a, k)
		VMOVAPS_Z(v, k, v)
		return
	}
	VCMPPS(U8(cmpLT), s.c("minnormal"), a, a) // unordered (NaN): false, kept
	VANDNPS(v, a, v)
}

// round sets v to its values rounded to the nearest integer, ties to even.
func (s *isa) round(v reg.VecVirtual) {
	if s.evex {
		VRNDSCALEPS(U8(0), v, v)
	} else {
		VROUNDPS(U8(0), v, v)
	}
}

// scale2k sets p = p * 2^k for integer-valued k (float32 lanes) in [-252, 254],
// rounding once, so results in the subnormal range are correctly rounded and
// results beyond the largest float32 are +Inf.
func (s *isa) scale2k(p, k reg.VecVirtual) {
	if s.evex {
		VSCALEFPS(k, p, p)
		return
	}
	// 2^k does not fit one float32 exponent field over the whole range, so
	// multiply by 2^(k>>1) and then 2^(k-(k>>1)): the first product is exact.
	k1, k2 := YMM(), YMM()
	VCVTPS2DQ(k, k2)
	VPSRAD(U8(1), k2, k1)
	VPSUBD(k1, k2, k2)
	for _, e := range []reg.VecVirtual{k1, k2} {
		VPADDD(s.c("bias127"), e, e)
		VPSLLD(U8(23), e, e)
		VMULPS(e, p, p)
	}
}

// pow2 returns 2^k for integer-valued k (float32 lanes) in [-126, 127].
func (s *isa) pow2(k reg.VecVirtual) reg.VecVirtual {
	v := s.vec()
	if s.evex {
		VSCALEFPS(k, s.cr("one"), v)
		return v
	}
	VCVTPS2DQ(k, v)
	VPADDD(s.c("bias127"), v, v)
	VPSLLD(U8(23), v, v)
	return v
}

// hreduce combines the lanes of v with op (VMAXPS or VADDPS as a two-register
// function) and returns an xmm register whose every lane holds the result.
func (s *isa) hreduce(v reg.VecVirtual, op func(a, b, dst Op)) reg.VecVirtual {
	y := v
	if s.evex {
		hi := YMM()
		VEXTRACTF64X4(U8(1), v, hi)
		op(hi, v.AsY(), hi)
		y = hi
	}
	x := XMM()
	VEXTRACTF128(U8(1), y, x)
	op(x, y.AsX(), x)
	t := XMM()
	VPERMILPS(U8(0x4e), x, t) // swap 64-bit halves
	op(t, x, x)
	VPERMILPS(U8(0xb1), x, t) // swap neighbours
	op(t, x, x)
	return x
}

// label returns a function-unique label name.
func label(format string, args ...any) string { return fmt.Sprintf(format, args...) }
