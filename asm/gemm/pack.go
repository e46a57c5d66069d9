package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Packing copies a block of op(A) or op(B) into the panel layout the micro-kernels
// stream: row p of a panel of width W holds W consecutive floats at dst[p*W:]. When
// op(X) is stored with those W floats contiguous (B in NN, A^T in TN) packing is a
// strided copy; otherwise (A in NN, B^T in NT) it is a transpose.

// genPackCopy writes sgemmPackCopy<ISA>_<W>: kc rows of w <= W floats from src
// (stride ld) to dst (stride W), zero-filling columns w..W-1.
//
// It copies in chunks of the ISA's vector width (or 8 floats when W is narrower than
// an AVX-512 vector). When W is not a multiple of the chunk, each row's last store
// writes chunk-W%chunk floats past the row: rows are written in increasing order,
// so the next row overwrites them, and after the last row they land in the slack
// every destination buffer keeps at its end (see gemmWorkspace).
func genPackCopy(s *isa, width int) {
	L := s.lanes
	vecs := s.regs
	if width < L {
		L, vecs = 8, ymmOf(s)
	}
	chunks := (width + L - 1) / L
	last := width - L*(chunks-1) // lanes of the last chunk inside the row
	name := fmt.Sprintf("sgemmPackCopy%s_%d", s.name, width)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kc, w int)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s copies kc rows of w <= %d floats, the first at src and the next ld", name, width),
		fmt.Sprintf("floats apart, to rows of %d floats at dst, zero-filled past w:", width),
		"",
		"\tfor p := 0; p < kc; p++ {",
		fmt.Sprintf("\t\tfor j := 0; j < %d; j++ {", width),
		"\t\t\tif j < w {",
		fmt.Sprintf("\t\t\t\tdst[p*%d+j] = src[p*ld+j]", width),
		"\t\t\t} else {",
		fmt.Sprintf("\t\t\t\tdst[p*%d+j] = 0", width),
		"\t\t\t}",
		"\t\t}",
		"\t}",
		"",
		"Only those elements of src are read (partial vectors are loaded under a mask).",
	)
	if last != L {
		Doc(fmt.Sprintf("After the last row it writes %d more floats (zeros) at dst[kc*%d:].", L-last, width))
	}
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	kc := Load(Param("kc"), GP64())
	w := Load(Param("w"), GP64())
	TESTQ(kc, kc)
	JLE(LabelRef("done"))
	// Each row prefetches the row copyPrefetch rows below it (every line it spans).
	ahead := GP64()
	MOVQ(ld, ahead)
	SHLQ(U8(copyPrefetchLog2), ahead)
	prefetch := func() {
		for off := 0; off < 4*width; off += 64 {
			PREFETCHT0(Mem{Base: src, Index: ahead, Scale: 1, Disp: off})
		}
		PREFETCHT0(Mem{Base: src, Index: ahead, Scale: 1, Disp: 4*width - 4})
	}

	m := newMasker(s, L)
	data := vecs[:chunks]
	maskRegs := vecs[chunks : 2*chunks] // AVX2 only: one mask vector per chunk

	// Full rows (w == W): whole chunks, and a constant mask for a partial last chunk.
	CMPQ(w, U8(width))
	JNE(LabelRef("edge"))
	if last != L {
		m.constMask(last, maskRegs[chunks-1], reg.K1)
	}
	Label("fullrow")
	prefetch()
	for c := 0; c < chunks; c++ {
		src := Mem{Base: src, Disp: 4 * L * c}
		if c == chunks-1 && last != L {
			m.load(src, maskRegs[c], reg.K1, data[c])
		} else {
			VMOVUPS(src, data[c])
		}
	}
	for c := 0; c < chunks; c++ {
		VMOVUPS(data[c], Mem{Base: dst, Disp: 4 * L * c})
	}
	ADDQ(ld, src)
	ADDQ(U32(4*width), dst)
	DECQ(kc)
	JNZ(LabelRef("fullrow"))
	JMP(LabelRef("done"))

	// Edge rows (w < W): every chunk under its own mask, all zero past w.
	Label("edge")
	kregs := []reg.OpmaskPhysical{reg.K1, reg.K2, reg.K3, reg.K4}
	for c := 0; c < chunks; c++ {
		v := GP64()
		MOVQ(w, v)
		SUBQ(U32(L*c), v)
		m.clampMask(v, maskRegs[c], kregs[c], fmt.Sprintf("c%d", c))
	}
	Label("edgerow")
	prefetch()
	for c := 0; c < chunks; c++ {
		m.load(Mem{Base: src, Disp: 4 * L * c}, maskRegs[c], kregs[c], data[c])
	}
	for c := 0; c < chunks; c++ {
		VMOVUPS(data[c], Mem{Base: dst, Disp: 4 * L * c})
	}
	ADDQ(ld, src)
	ADDQ(U32(4*width), dst)
	DECQ(kc)
	JNZ(LabelRef("edgerow"))

	Label("done")
	VZEROUPPER()
	RET()
}

// genPackTrans writes sgemmPackTrans<ISA>: 8 rows of src (stride ld) transposed into
// kc rows of dst (stride dstStride), 8x8 blocks at a time through ymm registers.
func genPackTrans(s *isa) {
	name := "sgemmPackTrans" + s.name
	TEXT(name, NOSPLIT, "func(dst *float32, dstStride int, src *float32, ld, kc, rows int)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s transposes the first kc columns of rows <= 8 rows of src (row i at", name),
		"src[i*ld]) into kc rows of 8 floats at dst, dstStride floats apart, zero where i >= rows:",
		"",
		"\tfor p := 0; p < kc; p++ {",
		"\t\tfor i := 0; i < 8; i++ {",
		"\t\t\tif i < rows {",
		"\t\t\t\tdst[p*dstStride+i] = src[i*ld+p]",
		"\t\t\t} else {",
		"\t\t\t\tdst[p*dstStride+i] = 0",
		"\t\t\t}",
		"\t\t}",
		"\t}",
		"",
		"Only those elements of src are read: the last kc%8 columns are loaded under a mask.",
	)
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstStride"), GP64())
	SHLQ(U8(2), ds)
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	kc := Load(Param("kc"), GP64())
	rows := Load(Param("rows"), GP64())

	// Rows 0-3 are src+{0,1,2,3}*ld, rows 4-7 the same from src4 = src+4*ld; likewise
	// the 8 destination rows from dst and dst4.
	ld3, src4 := GP64(), GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	LEAQ(Mem{Base: src, Index: ld, Scale: 4}, src4)
	ds3, dst4 := GP64(), GP64()
	LEAQ(Mem{Base: ds, Index: ds, Scale: 2}, ds3)
	LEAQ(Mem{Base: dst, Index: ds, Scale: 4}, dst4)
	rowAddr := func(i int) Mem {
		base := src
		if i >= 4 {
			base = src4
		}
		switch i % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: ld, Scale: 1}
		case 2:
			return Mem{Base: base, Index: ld, Scale: 2}
		default:
			return Mem{Base: base, Index: ld3, Scale: 1}
		}
	}
	outAddr := func(q int) Mem {
		base := dst
		if q >= 4 {
			base = dst4
		}
		switch q % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: ds, Scale: 1}
		case 2:
			return Mem{Base: base, Index: ds, Scale: 2}
		default:
			return Mem{Base: base, Index: ds3, Scale: 1}
		}
	}
	y := ymmOf(s)
	in, tmp := y[:8], y[8:16]
	m := newMasker(s, 8)
	maskReg := y[15] // AVX2 tail mask: free again once the rows are loaded

	// block transposes one 8x8 block: partial loads rows < rows only (the others are
	// zero), tail loads under the mask and stores kc (< 8) rows only.
	block := func(label string, partial, tail bool) {
		for i := 0; i < 8; i++ {
			if !tail {
				// Prefetch 16 blocks ahead along the row: eight independent
				// streams that the hardware prefetchers may not follow.
				PREFETCHT0(rowAddr(i).Offset(transPrefetch))
			}
			if partial {
				CMPQ(rows, U8(i))
				JLE(LabelRef(fmt.Sprintf("%sz%d", label, i)))
			}
			if tail {
				m.load(rowAddr(i), maskReg, reg.K1, in[i])
			} else {
				VMOVUPS(rowAddr(i), in[i])
			}
		}
		if partial {
			JMP(LabelRef(label + "t"))
			for i := 0; i < 8; i++ {
				Label(fmt.Sprintf("%sz%d", label, i))
				VXORPS(in[i], in[i], in[i])
			}
		}
		Label(label + "t")
		out := transpose8x8(in, tmp)
		for q := 0; q < 8; q++ {
			if tail && q > 0 {
				CMPQ(kc, U8(q))
				JLE(LabelRef("done"))
			}
			VMOVUPS(out[q], outAddr(q))
		}
	}
	advance := func() {
		ADDQ(U8(32), src)
		ADDQ(U8(32), src4)
		LEAQ(Mem{Base: dst, Index: ds, Scale: 8}, dst)
		LEAQ(Mem{Base: dst4, Index: ds, Scale: 8}, dst4)
	}
	for _, partial := range []bool{false, true} {
		p := "f"
		if partial {
			p = "p"
			Label("partial")
		} else {
			CMPQ(rows, U8(8))
			JL(LabelRef("partial"))
		}
		Label(p + "loop")
		CMPQ(kc, U8(8))
		JL(LabelRef(p + "tail"))
		block(p+"b", partial, false)
		advance()
		SUBQ(U8(8), kc)
		JMP(LabelRef(p + "loop"))
		Label(p + "tail")
		TESTQ(kc, kc)
		JLE(LabelRef("done"))
		t := GP64()
		MOVQ(kc, t)
		m.clampMask(t, maskReg, reg.K1, p+"m")
		block(p+"e", partial, true)
		JMP(LabelRef("done"))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// copyPrefetchLog2: sgemmPackCopy prefetches 1<<copyPrefetchLog2 rows ahead.
const copyPrefetchLog2 = 3

// transPrefetch is how far ahead along its rows sgemmPackTrans prefetches, in bytes.
const transPrefetch = 512

// transpose8x8 transposes the 8x8 block whose rows are in[0..7] (ymm), using tmp
// (8 registers) and the in registers as scratch; it returns the registers holding
// the block's columns.
func transpose8x8(in, tmp []reg.VecPhysical) []reg.VecPhysical {
	t := tmp
	// t[2k], t[2k+1]: rows 2k and 2k+1 interleaved (low and high pairs per lane).
	for k := 0; k < 4; k++ {
		VUNPCKLPS(in[2*k+1], in[2*k], t[2*k])
		VUNPCKHPS(in[2*k+1], in[2*k], t[2*k+1])
	}
	// u[c] for c = 0..3 (rows 0-3) and u[4+c] (rows 4-7): column c in the low lane,
	// column c+4 in the high lane.
	u := in
	for h := 0; h < 2; h++ {
		a, b, c, d := t[4*h], t[4*h+1], t[4*h+2], t[4*h+3]
		VSHUFPS(U8(0x44), c, a, u[4*h])
		VSHUFPS(U8(0xee), c, a, u[4*h+1])
		VSHUFPS(U8(0x44), d, b, u[4*h+2])
		VSHUFPS(U8(0xee), d, b, u[4*h+3])
	}
	out := tmp
	for c := 0; c < 4; c++ {
		VPERM2F128(U8(0x20), u[4+c], u[c], out[c])
		VPERM2F128(U8(0x31), u[4+c], u[c], out[4+c])
	}
	return out
}

// masker emits the ISA's masked loads: AVX2 VMASKMOVPS with a mask vector, AVX-512
// a zeroing load under an opmask. Lanes outside the mask are not read (no fault) and
// load as zero.
type masker struct {
	s     *isa
	lanes int // vector width the masks are for
}

func newMasker(s *isa, lanes int) masker { return masker{s, lanes} }

func (m masker) load(src Mem, mask reg.VecPhysical, k reg.OpmaskPhysical, dst reg.VecPhysical) {
	if m.s.evex {
		VMOVUPS_Z(src, k, dst)
	} else {
		VMASKMOVPS(src, mask, dst)
	}
}

// constMask sets the mask selecting the first n lanes.
func (m masker) constMask(n int, mask reg.VecPhysical, k reg.OpmaskPhysical) {
	if m.s.evex {
		r := GP32()
		MOVL(U32(1<<n-1), r)
		KMOVW(r, k)
		return
	}
	t := GP64()
	LEAQ(maskTable(), t)
	VMOVDQU(Mem{Base: t, Disp: 4 * (8 - n)}, mask)
}

// clampMask sets the mask selecting the first v lanes, v clamped to [0, lanes]
// (v is clobbered).
func (m masker) clampMask(v reg.GPVirtual, mask reg.VecPhysical, k reg.OpmaskPhysical, label string) {
	CMPQ(v, U8(0))
	JGE(LabelRef(label + "nonneg"))
	XORQ(v, v)
	Label(label + "nonneg")
	CMPQ(v, U8(m.lanes))
	JLE(LabelRef(label + "clamped"))
	MOVQ(U32(m.lanes), v)
	Label(label + "clamped")
	if m.s.evex {
		MOVQ(v, reg.RCX)
		r := GP32()
		MOVL(U32(1), r)
		SHLL(reg.CL, r)
		DECL(r)
		KMOVW(r, k)
		return
	}
	t := GP64()
	LEAQ(maskTable(), t)
	NEGQ(v)
	VMOVDQU(Mem{Base: t, Index: v, Scale: 4, Disp: 32}, mask)
}

// ymmOf returns the ymm registers of an ISA (the low halves of its zmm registers
// for AVX-512), the first 16 only, so the code stays VEX-encodable.
func ymmOf(s *isa) []reg.VecPhysical {
	if !s.evex {
		return s.regs
	}
	ys := make([]reg.VecPhysical, 16)
	for i := range ys {
		ys[i] = s.regs[i].AsY().(reg.VecPhysical)
	}
	return ys
}
