package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// tile is one micro-kernel shape: an mr x nr block of C (nr = nv vectors of lanes
// floats) held in mr*nv accumulator registers for the whole of a kc-long loop of
// rank-1 updates, then scaled and written to C once.
type tile struct {
	isa    *isa
	mr     int // rows of the C tile, and height of the packed A panel
	nv     int // vectors per row: the tile and the packed B panel are nv*lanes wide
	unroll int // rank-1 updates per loop iteration
	// rowA: A is read as mr rows of a row-major matrix, a[i*lda+p] (A itself in NN
	// and NT, unpacked); otherwise as kc rows of mr floats, a[p*lda+i] (a packed
	// panel with lda = mr, or A itself in TN).
	rowA bool
}

func (t tile) nr() int { return t.nv * t.isa.lanes }

func (t tile) name() string {
	n := fmt.Sprintf("sgemmKernel%s_%dx%d", t.isa.name, t.mr, t.nr())
	if t.rowA {
		n += "RowA"
	}
	return n
}

// genKernel writes the TEXT block of one micro-kernel.
//
// Register use: mr*nv accumulators, nv vectors of the current row of B, and the
// remaining registers hold broadcasts of A's elements (rotated, so consecutive
// broadcasts do not wait on each other). AVX-512 kernels one vector wide use the FMA's
// embedded broadcast instead. After the loop the B and broadcast registers are free
// for alpha, beta, the tail mask and a scratch vector.
func genKernel(t tile) {
	s := t.isa
	nr := t.nr()
	TEXT(t.name(), NOSPLIT, "func(kc int, a *float32, lda int, b *float32, ldb int, pf *float32, pfs int, c *float32, ldc int, alpha, beta float32, rows, cols int)")
	Pragma("noescape")
	lo := nr - s.lanes + 1
	aElem, aDesc := "a[p*lda+i]", fmt.Sprintf("kc rows of %d floats of A, lda apart (a packed panel with lda = %d, or A^T in place)", t.mr, t.mr)
	if t.rowA {
		aElem, aDesc = "a[i*lda+p]", fmt.Sprintf("%d rows of kc floats of A, lda apart (A in place: all %d rows must exist)", t.mr, t.mr)
	}
	Doc(
		fmt.Sprintf("%s computes a rows x cols tile of C (1 <= rows <= %d, %d <= cols <= %d; row i",
			t.name(), t.mr, lo, nr),
		fmt.Sprintf("starts at c[i*ldc]) from %s,", aDesc),
		fmt.Sprintf("and kc rows of %d floats of B, ldb apart (a packed panel, or B in place), up to rounding", nr),
		"(one FMA per product):",
		"",
		"\tfor i := 0; i < rows; i++ {",
		"\t\tfor j := 0; j < cols; j++ {",
		"\t\t\tvar s float32",
		"\t\t\tfor p := 0; p < kc; p++ {",
		fmt.Sprintf("\t\t\t\ts += %s * b[p*ldb+j]", aElem),
		"\t\t\t}",
		"\t\t\tif beta == 0 {",
		"\t\t\t\tc[i*ldc+j] = alpha * s // C is not read: NaN there does not leak",
		"\t\t\t} else {",
		"\t\t\t\tc[i*ldc+j] = alpha*s + beta*c[i*ldc+j]",
		"\t\t\t}",
		"\t\t}",
		"\t}",
		"",
		"Only the rows x cols elements of C are touched: the last vector of a row is",
		"loaded and stored under a mask when cols is not a multiple of the vector width.",
		fmt.Sprintf("All %d floats of each row of B are read, whatever cols is. At step p it prefetches", nr),
		fmt.Sprintf("(into L2) the %d bytes pf+p*pfs (pfs in bytes): the driver points them at the data of", 4*nr),
		"the next panel of B, so that it arrives while this one is in use. It also prefetches",
		"the tile of C at the start. Prefetches never fault: pf is only a hint.",
	)

	regs := s.regs
	acc := make([][]reg.VecPhysical, t.mr)
	for i := range acc {
		acc[i], regs = regs[:t.nv], regs[t.nv:]
	}
	bv, bc := regs[:t.nv], regs[t.nv:]
	embedded := s.evex && t.nv == 1
	if len(bc) == 0 && !embedded {
		panic(t.name() + ": no register left for broadcasts")
	}

	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	lda3 := GP64()
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	// byIndex addresses the k-th of four rows from base, k*ld bytes on.
	byIndex := func(base, ld, ld3 reg.Register, k int) Mem {
		switch k {
		case 0:
			return Mem{Base: base}
		case 3:
			return Mem{Base: base, Index: ld3, Scale: 1}
		default:
			return Mem{Base: base, Index: ld, Scale: uint8(k)}
		}
	}
	// aAddr is the address of A's element (row i, step u) of the current iteration;
	// advanceA moves a (and a4) on by n rank-1 updates.
	var aAddr func(u, i int) Mem
	var advanceA func(n int)
	if t.rowA {
		a4 := GP64() // rows 4-7
		if t.mr > 4 {
			LEAQ(Mem{Base: a, Index: lda, Scale: 4}, a4)
		}
		if t.mr > 8 {
			panic(t.name() + ": rowA addresses at most 8 rows")
		}
		aAddr = func(u, i int) Mem {
			base := a
			if i >= 4 {
				base = a4
			}
			return byIndex(base, lda, lda3, i%4).Offset(4 * u)
		}
		advanceA = func(n int) {
			ADDQ(U8(4*n), a)
			if t.mr > 4 {
				ADDQ(U8(4*n), a4)
			}
		}
	} else {
		aAddr = func(u, i int) Mem { return byIndex(a, lda, lda3, u).Offset(4 * i) }
		advanceA = func(n int) {
			if n == 1 {
				ADDQ(lda, a)
			} else {
				LEAQ(Mem{Base: a, Index: lda, Scale: uint8(n)}, a)
			}
		}
	}
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	rowB := func(u int) Mem { return byIndex(b, ldb, ldb3, u) } // row u (< 4) of B
	pf := Load(Param("pf"), GP64())
	pfs := Load(Param("pfs"), GP64())
	pfs3 := GP64()
	LEAQ(Mem{Base: pfs, Index: pfs, Scale: 2}, pfs3)
	// prefetch emits the prefetches of step u, each cache line the 4*nr bytes at
	// pf+u*pfs can span, into L2 only (T2): L1 holds the panel in use.
	prefetch := func(u int) {
		row := byIndex(pf, pfs, pfs3, u)
		for off := 0; off < 4*nr; off += 64 {
			PREFETCHT2(row.Offset(off))
		}
		PREFETCHT2(row.Offset(4*nr - 4))
	}
	if t.unroll != 4 {
		panic("rowB addresses 4 rows of B per iteration")
	}
	for i := range acc {
		for _, r := range acc[i] {
			zero(s, r)
		}
	}
	t.prefetchC()

	Comment(fmt.Sprintf("%d rank-1 updates per iteration.", t.unroll))
	SUBQ(U8(t.unroll), kc)
	JL(LabelRef("tail"))
	Label("loop")
	for u := 0; u < t.unroll; u++ {
		prefetch(u)
		t.rank1(u, aAddr, rowB(u), acc, bv, bc, embedded)
	}
	advanceA(t.unroll)
	LEAQ(Mem{Base: b, Index: ldb, Scale: 4}, b)
	LEAQ(Mem{Base: pf, Index: pfs, Scale: 4}, pf)
	SUBQ(U8(t.unroll), kc)
	JGE(LabelRef("loop"))

	Label("tail")
	ADDQ(U8(t.unroll), kc)
	JZ(LabelRef("store"))
	Label("tailloop")
	t.rank1(0, aAddr, rowB(0), acc, bv, bc, embedded)
	advanceA(1)
	ADDQ(ldb, b)
	ADDQ(pfs, pf)
	DECQ(kc)
	JNZ(LabelRef("tailloop"))

	Label("store")
	t.epilogue(acc, append(append([]reg.VecPhysical{}, bv...), bc...))
}

// prefetchC prefetches the C tile, every line of each of its mr rows, so that the
// stores at the end do not wait for C to arrive from memory (the kc-long loop gives
// the prefetches time to complete). Prefetches never fault, so rows and columns past
// the end of C are harmless.
func (t tile) prefetchC() {
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	for i := 0; i < t.mr; i++ {
		if i > 0 {
			ADDQ(ldc, c)
		}
		for off := 0; off < 4*t.nr(); off += 64 {
			PREFETCHT0(Mem{Base: c, Disp: off})
		}
		PREFETCHT0(Mem{Base: c, Disp: 4*t.nr() - 4})
	}
}

// rank1 emits step u of the unrolled loop: acc[i][v] += A[p][i] * B[p][v*lanes:],
// with row p of B at brow.
func (t tile) rank1(u int, aAddr func(u, i int) Mem, brow Mem, acc [][]reg.VecPhysical, bv, bc []reg.VecPhysical, embedded bool) {
	s := t.isa
	for v, r := range bv {
		VMOVUPS(brow.Offset(4*v*s.lanes), r)
	}
	for i := range acc {
		ai := aAddr(u, i)
		if embedded {
			VFMADD231PS_BCST(ai, bv[0], acc[i][0])
			continue
		}
		x := bc[(u*t.mr+i)%len(bc)]
		VBROADCASTSS(ai, x)
		for v := range bv {
			VFMADD231PS(x, bv[v], acc[i][v])
		}
	}
}

// epilogue scales the accumulators by alpha, adds beta*C unless beta is zero, and
// stores the tile: all of it without masks when rows == mr and cols == nr, else row
// by row with the last vector masked. free holds registers the loop no longer needs.
func (t tile) epilogue(acc [][]reg.VecPhysical, free []reg.VecPhysical) {
	s := t.isa
	nr := t.nr()
	va, vb, vmask := free[0], free[1], free[2]
	scratch := va // alpha is dead once the accumulators are scaled

	VBROADCASTSS(paramAddr("alpha"), va)
	for i := range acc {
		for _, r := range acc[i] {
			VMULPS(va, r, r)
		}
	}
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	rows := Load(Param("rows"), GP64())
	cols := Load(Param("cols"), GP64())
	betaBits := GP32()
	MOVL(paramAddr("beta"), betaBits)
	SHLL(U8(1), betaBits) // drop the sign: zero iff beta is +0 or -0
	VBROADCASTSS(paramAddr("beta"), vb)

	vec := func(v int) Mem { return Mem{Base: c, Disp: v * s.vecBytes()} }

	// store writes row i of the tile at c; masked says the last vector is partial.
	store := func(i int, withBeta, masked bool) {
		for v, r := range acc[i] {
			m := vec(v)
			partial := masked && v == t.nv-1
			switch {
			case !partial && withBeta:
				VFMADD231PS(m, vb, r)
				VMOVUPS(r, m)
			case !partial:
				VMOVUPS(r, m)
			case s.evex && withBeta:
				VMOVUPS_Z(m, reg.K1, scratch)
				VFMADD231PS(scratch, vb, r)
				VMOVUPS(r, reg.K1, m)
			case s.evex:
				VMOVUPS(r, reg.K1, m)
			case withBeta:
				VMASKMOVPS(m, vmask, scratch)
				VFMADD231PS(scratch, vb, r)
				VMASKMOVPS(r, vmask, m)
			default:
				VMASKMOVPS(r, vmask, m)
			}
		}
	}

	CMPQ(rows, U8(t.mr))
	JNE(LabelRef("edge"))
	CMPQ(cols, U8(nr))
	JNE(LabelRef("edge"))
	Comment("Full tile.")
	TESTL(betaBits, betaBits)
	JZ(LabelRef("fullbeta0"))
	for i := range acc {
		store(i, true, false)
		if i < t.mr-1 {
			ADDQ(ldc, c)
		}
	}
	JMP(LabelRef("done"))
	Label("fullbeta0")
	for i := range acc {
		store(i, false, false)
		if i < t.mr-1 {
			ADDQ(ldc, c)
		}
	}
	JMP(LabelRef("done"))

	Label("edge")
	Comment(fmt.Sprintf("Edge tile: rows < %d or cols < %d. The mask selects the first", t.mr, nr),
		fmt.Sprintf("cols-%d lanes of the last vector.", nr-s.lanes))
	// short = nr - cols lanes of the last vector are outside C.
	short := GP64()
	MOVQ(U32(nr), short)
	SUBQ(cols, short)
	if s.evex {
		MOVQ(short, reg.RCX)
		mask := GP32()
		MOVL(U32(1<<s.lanes-1), mask)
		SHRL(reg.CL, mask)
		KMOVW(mask, reg.K1)
	} else {
		tbl := GP64()
		LEAQ(maskTable(), tbl)
		VMOVDQU(Mem{Base: tbl, Index: short, Scale: 4}, vmask)
	}
	TESTL(betaBits, betaBits)
	JZ(LabelRef("edgebeta0"))
	for i := range acc {
		if i > 0 {
			CMPQ(rows, U8(i))
			JLE(LabelRef("done"))
			ADDQ(ldc, c)
		}
		store(i, true, true)
	}
	JMP(LabelRef("done"))
	Label("edgebeta0")
	for i := range acc {
		if i > 0 {
			CMPQ(rows, U8(i))
			JLE(LabelRef("done"))
			ADDQ(ldc, c)
		}
		store(i, false, true)
	}

	Label("done")
	VZEROUPPER()
	RET()
}

// zero clears a vector register (and, being VEX or EVEX encoded, its upper bits).
func zero(s *isa, r reg.VecPhysical) {
	if s.evex {
		VPXORD(r, r, r)
	} else {
		VXORPS(r, r, r)
	}
}

// paramAddr is the stack address of a scalar argument, for instructions that read
// it straight from memory (VBROADCASTSS alpha).
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

var maskTableMem *Mem

// maskTable is 8 int32 -1s followed by 8 zeros: the 8 int32s at element offset
// 8-n are a VMASKMOVPS mask selecting the first n lanes of a ymm vector.
func maskTable() Mem {
	if maskTableMem == nil {
		m := GLOBL("sgemmMaskAVX2", RODATA|NOPTR)
		for i := 0; i < 16; i++ {
			v := uint32(0)
			if i < 8 {
				v = 0xffffffff
			}
			DATA(4*i, U32(v))
		}
		maskTableMem = &m
	}
	return *maskTableMem
}
