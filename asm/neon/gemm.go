package main

import "fmt"

// The GEMM micro-kernel: an mr x nr tile of C held in registers, updated by kc
// rank-1 updates from a panel of op(A) (mr floats per k step) and a panel of op(B) (nr
// floats per k step). Each step loads the mr A values as mr/4 vectors and the nr B
// values as nr/4 vectors, then does one FMLA by element per (row, B vector):
// acc[i][j] += B[j] * A[i/4].s[i%4].
//
// The panels are read with a stride between k steps, so the same kernel reads
// packed panels (stride mr or nr floats) and, in place, panels that are already
// contiguous in the caller's matrix: a row of B when op(B) = B, a row of the stored A
// when op(A) = A^T. That is what lets the driver skip packing on the MLP's small-M
// shapes.
const (
	gemmMR     = 8  // rows of the tile: 2 vectors of A per step
	gemmNR     = 12 // columns: 3 vectors of B per step
	gemmUnroll = 4  // k steps per loop iteration
)

// Register plan: V0, V1 hold the A values of a step, V2..V4 the B vectors, V8..V31
// the 24 accumulators (row i, vector j in V(8+3i+j), so a row's three accumulators are
// consecutive and one VST1 stores it).
const (
	gemmA0  = V(0)
	gemmB0  = V(2)
	gemmAcc = V(8)
)

func accReg(i, j int) V { return gemmAcc + V(i*(gemmNR/4)+j) }

func genGemm() *File {
	nv := gemmNR / 4
	doc := fmt.Sprintf(`sgemmKernel%[1]dx%[2]dNEON computes a full %[1]d x %[2]d tile of C (row i starts at
c[i*ldc]) from kc k steps of a panel of op(A), %[1]d floats per step, the step p ones
at a[p*aStride:], and a panel of op(B), %[2]d floats per step at b[p*bStride:], up to
rounding (one fused multiply-add per product):

	for i := 0; i < %[1]d; i++ {
		for j := 0; j < %[2]d; j++ {
			var s float32
			for p := 0; p < kc; p++ {
				s += a[p*aStride+i] * b[p*bStride+j]
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s // C is not read: NaN there does not leak
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}

kc >= 1. Strides are in floats. The caller guarantees that every element named above
lies inside its slice: the kernel always reads and writes the whole tile.`, gemmMR, gemmNR)
	f := NewFunc(fmt.Sprintf("sgemmKernel%dx%dNEON", gemmMR, gemmNR), doc,
		[]Param{{"kc", "int"}, {"a", "*float32"}, {"aStride", "int"}, {"b", "*float32"}, {"bStride", "int"},
			{"c", "*float32"}, {"ldc", "int"}, {"alpha", "float32"}, {"beta", "float32"}}, nil)
	f.I("MOVD %s, R0", f.Arg("kc"))
	f.I("MOVD %s, R1", f.Arg("a"))
	f.I("MOVD %s, R2", f.Arg("aStride"))
	f.I("LSL $2, R2")
	f.I("MOVD %s, R3", f.Arg("b"))
	f.I("MOVD %s, R4", f.Arg("bStride"))
	f.I("LSL $2, R4")
	f.I("MOVD %s, R5", f.Arg("c"))
	f.I("MOVD %s, R6", f.Arg("ldc"))
	f.I("LSL $2, R6")
	for i := 0; i < gemmMR; i++ {
		for j := 0; j < nv; j++ {
			r := accReg(i, j)
			f.I("VEOR %s, %s, %s", r.B16(), r.B16(), r.B16())
		}
	}
	step := func(s *Seq) {
		s.I("VLD1.P (R1)(R2), [%s, %s]", gemmA0.S4(), (gemmA0 + 1).S4())
		s.I("VLD1.P (R3)(R4), [%s, %s, %s]", gemmB0.S4(), (gemmB0 + 1).S4(), (gemmB0 + 2).S4())
		for j := 0; j < nv; j++ {
			for i := 0; i < gemmMR; i++ {
				s.W(FMLAE(accReg(i, j), gemmB0+V(j), gemmA0+V(i/4), i%4))
			}
		}
	}
	f.I("CMP $%d, R0", gemmUnroll)
	f.I("BLT one")
	f.Label("unrolled")
	for u := 0; u < gemmUnroll; u++ {
		step(&f.Seq)
	}
	f.I("SUB $%d, R0", gemmUnroll)
	f.I("CMP $%d, R0", gemmUnroll)
	f.I("BGE unrolled")
	f.Label("one")
	f.I("CBZ R0, store")
	f.Label("single")
	step(&f.Seq)
	f.I("SUBS $1, R0")
	f.I("BNE single")

	// C = alpha*acc + beta*C, one row of three vectors at a time; the C rows are read
	// into V2..V4 and V5..V7 in turn. alpha is lane 0 of V0, beta lane 0 of V1.
	f.Label("store")
	alpha, beta := V(0), V(1)
	f.I("FMOVS %s, %s", f.Arg("alpha"), alpha.F())
	f.I("FMOVS %s, %s", f.Arg("beta"), beta.F())
	f.I("FCMPS $(0.0), %s", beta.F())
	f.I("BEQ betazero")
	for i := 0; i < gemmMR; i++ {
		t := V(2 + 3*(i%2))
		f.I("VLD1 (R5), [%s, %s, %s]", t.S4(), (t + 1).S4(), (t + 2).S4())
		for j := 0; j < nv; j++ {
			f.W(FMULE(accReg(i, j), accReg(i, j), alpha, 0))
		}
		for j := 0; j < nv; j++ {
			f.W(FMLAE(accReg(i, j), t+V(j), beta, 0))
		}
		f.I("VST1.P [%s, %s, %s], (R5)(R6)", accReg(i, 0).S4(), accReg(i, 1).S4(), accReg(i, 2).S4())
	}
	f.I("RET")
	f.Label("betazero")
	for i := 0; i < gemmMR; i++ {
		for j := 0; j < nv; j++ {
			f.W(FMULE(accReg(i, j), accReg(i, j), alpha, 0))
		}
		f.I("VST1.P [%s, %s, %s], (R5)(R6)", accReg(i, 0).S4(), accReg(i, 1).S4(), accReg(i, 2).S4())
	}
	f.I("RET")
	return &File{Base: "gemm", Funcs: []*Func{f, genPackTrans(gemmMR), genPackTrans(gemmNR)}}
}

// genPackTrans is the transposing copy the packing needs when a panel runs across
// the rows of the stored matrix (op(A) = A, op(B) = B^T): w rows, each read along k,
// become k steps of w floats. Four k steps at a time, each group of four rows is a
// 4x4 block transposed in registers (TRN1/TRN2 on 32-bit lanes, then on 64-bit
// halves); the last k%4 steps are copied one float at a time.
func genPackTrans(w int) *Func {
	doc := fmt.Sprintf(`packTrans%[1]dNEON copies %[1]d rows of k floats (row j starts at src[j*ld]) into dst
as k steps of %[1]d floats:

	for p := 0; p < k; p++ {
		for j := 0; j < %[1]d; j++ {
			dst[p*%[1]d+j] = src[j*ld+p]
		}
	}

The caller guarantees that every element named above lies inside its slice.`, w)
	f := NewFunc(fmt.Sprintf("packTrans%dNEON", w), doc,
		[]Param{{"dst", "*float32"}, {"src", "*float32"}, {"ld", "int"}, {"k", "int"}}, nil)
	blocks := w / 4
	rowPtr := func(j int) string { return fmt.Sprintf("R%d", 1+j) } // R1..Rw
	f.I("MOVD %s, R13", f.Arg("dst"))
	f.I("MOVD %s, R1", f.Arg("src"))
	f.I("MOVD %s, R15", f.Arg("ld"))
	f.I("LSL $2, R15")
	f.I("MOVD %s, R14", f.Arg("k"))
	for j := 1; j < w; j++ {
		f.I("ADD R15, %s, %s", rowPtr(j-1), rowPtr(j))
	}
	// Column kk of block b lands in V(16 + blocks*kk + b): the w floats of one k step
	// are consecutive registers, stored by one VST1.
	col := func(b, kk int) V { return V(16 + blocks*kk + b) }
	f.I("CMP $4, R14")
	f.I("BLT tail")
	f.Label("block")
	for j := 0; j < w; j++ {
		f.I("VLD1.P 16(%s), [%s]", rowPtr(j), V(j).S4())
	}
	t := [4]V{12, 13, 14, 15}
	for b := 0; b < blocks; b++ {
		r := [4]V{V(4 * b), V(4*b + 1), V(4*b + 2), V(4*b + 3)}
		f.I("VTRN1 %s, %s, %s", r[1].S4(), r[0].S4(), t[0].S4()) // r0k0 r1k0 r0k2 r1k2
		f.I("VTRN2 %s, %s, %s", r[1].S4(), r[0].S4(), t[1].S4()) // r0k1 r1k1 r0k3 r1k3
		f.I("VTRN1 %s, %s, %s", r[3].S4(), r[2].S4(), t[2].S4()) // r2k0 r3k0 r2k2 r3k2
		f.I("VTRN2 %s, %s, %s", r[3].S4(), r[2].S4(), t[3].S4()) // r2k1 r3k1 r2k3 r3k3
		d2 := func(v V) string { return fmt.Sprintf("V%d.D2", v) }
		f.I("VTRN1 %s, %s, %s", d2(t[2]), d2(t[0]), d2(col(b, 0)))
		f.I("VTRN1 %s, %s, %s", d2(t[3]), d2(t[1]), d2(col(b, 1)))
		f.I("VTRN2 %s, %s, %s", d2(t[2]), d2(t[0]), d2(col(b, 2)))
		f.I("VTRN2 %s, %s, %s", d2(t[3]), d2(t[1]), d2(col(b, 3)))
	}
	for kk := 0; kk < 4; kk++ {
		var regs []V
		for b := 0; b < blocks; b++ {
			regs = append(regs, col(b, kk))
		}
		emitGroups(&f.Seq, regs, func(list string, n int) string { return fmt.Sprintf("VST1.P [%s], %d(R13)", list, 16*n) })
	}
	f.I("SUB $4, R14")
	f.I("CMP $4, R14")
	f.I("BGE block")
	f.Label("tail")
	f.I("CBZ R14, done")
	f.Label("step")
	for j := 0; j < w; j++ {
		f.I("FMOVS.P 4(%s), F%d", rowPtr(j), j)
	}
	for j := 0; j < w; j++ {
		f.I("FMOVS.P F%d, 4(R13)", j)
	}
	f.I("SUBS $1, R14")
	f.I("BNE step")
	f.Label("done")
	f.I("RET")
	return f
}
