package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// softmaxXent works row by row: the row's maximum and its first index, then the
// sum of exp(z - max) (writing each exp into the gradient row when there is one),
// then the gradient row scaled by scale/sum with scale subtracted at the label. The
// logarithm of the loss is left to the Go caller (one math.Log per row, in float64),
// which gets the sum, the maximum and the label's logit in stats.

// rowLoop emits a pass over the columns of one row: body for each whole vector at
// element index j (k nil), then for the partial vector of tail's lanes when rem is
// not zero.
func (s *isa) rowLoop(prefix string, j, nmain, rem reg.GPVirtual, tail mask, body func(k *mask)) {
	XORQ(j, j)
	Label(prefix)
	CMPQ(j, nmain)
	JGE(LabelRef(prefix + "_tail"))
	body(nil)
	ADDQ(U32(s.lanes), j)
	JMP(LabelRef(prefix))
	Label(prefix + "_tail")
	TESTQ(rem, rem)
	JZ(LabelRef(prefix + "_done"))
	body(&tail)
	Label(prefix + "_done")
}

func genSoftmax(s *isa) {
	s.kernel("softmaxXent", "(m, n int, logits []float32, ldl int, labels []int32, grad []float32, ldg int, scale float32, stats []float32) (correct int)", `
%[1]s computes, with %[2]s, for each of the m rows z of the m x n logits (n >= 1,
labels in [0, n)): the row's maximum mx, the sum of exp(z[j]-mx), and the count of
rows whose first maximum is at the label; it stores sum, mx and z[label] in
stats[3*i:3*i+3] for the caller's log. When grad is not empty it also writes
scale*(softmax(z) - onehot(label)) into grad's row i (grad may be logits itself):

	for i := 0; i < m; i++ {
		z, l := logits[i*ldl:i*ldl+n], int(labels[i])
		arg, mx := 0, z[0]
		for j, v := range z {
			if v > mx {
				arg, mx = j, v
			}
		}
		if arg == l {
			correct++
		}
		var sum float32
		e := make([]float32, n)
		for j, v := range z {
			e[j] = exp(v - mx)
			sum += e[j]
		}
		stats[3*i], stats[3*i+1], stats[3*i+2] = sum, mx, z[l]
		if len(grad) > 0 {
			for j := range e {
				grad[i*ldg+j] = e[j] * (scale / sum)
			}
			grad[i*ldg+l] -= scale
		}
	}
`)
	rows, n := loadInt("m"), loadInt("n")
	rowL, ldl, lab, st := loadPtr("logits"), loadInt("ldl"), loadPtr("labels"), loadPtr("stats")
	SHLQ(U8(2), ldl)
	nmain, rem := GP64(), GP64()
	MOVQ(n, nmain)
	ANDQ(U32(-s.lanes), nmain)
	MOVQ(n, rem)
	SUBQ(nmain, rem)
	tail := s.tailMask(rem) // no lanes when rem = 0
	correct := GP64()
	XORQ(correct, correct)
	gl := loadLen("grad")

	for _, withGrad := range []bool{false, true} {
		prefix := "nograd"
		var rowG, ldg reg.GPVirtual
		if withGrad {
			prefix = "grad"
			Label(prefix)
			rowG, ldg = loadPtr("grad"), loadInt("ldg")
			SHLQ(U8(2), ldg)
		} else {
			TESTQ(gl, gl)
			JNZ(LabelRef("grad"))
		}
		j := GP64()
		Label(prefix + "_row")

		// Pass 1: the maximum. NaN elements are skipped (VMAXPS returns its
		// second operand, the accumulator, when the first is NaN).
		acc := s.cr("neginf")
		s.rowLoop(prefix+"_max", j, nmain, rem, tail, func(k *mask) {
			var x reg.VecVirtual
			if k == nil {
				x = s.load(Mem{Base: rowL, Index: j, Scale: 4})
			} else {
				x = s.loadMaskedFill(Mem{Base: rowL, Index: j, Scale: 4}, *k, "neginf")
			}
			VMAXPS(acc, x, acc)
		})
		mxx := s.hreduce(acc, func(a, b, d Op) { VMAXPS(a, b, d) })
		mx := s.vec()
		VBROADCASTSS(mxx, mx)

		// Pass 2: the first index holding the maximum (0 if none: a row of NaN).
		bits := GP32()
		s.rowLoop(prefix+"_arg", j, nmain, rem, tail, func(k *mask) {
			s.equalBits(Mem{Base: rowL, Index: j, Scale: 4}, mx, k, bits)
			TESTL(bits, bits)
			JNZ(LabelRef(prefix + "_found"))
		})
		XORQ(j, j)
		JMP(LabelRef(prefix + "_arg_done2"))
		Label(prefix + "_found")
		b := GP64()
		BSFL(bits, b.As32())
		ADDQ(b, j)
		Label(prefix + "_arg_done2")
		l := GP64()
		MOVLQSX(Mem{Base: lab}, l)
		CMPQ(j, l)
		JNE(LabelRef(prefix + "_wrong"))
		INCQ(correct)
		Label(prefix + "_wrong")
		zl := XMM()
		VMOVSS(Mem{Base: rowL, Index: l, Scale: 4}, zl) // before grad overwrites it
		VMOVSS(zl, Mem{Base: st, Disp: 8})
		VMOVSS(mxx, Mem{Base: st, Disp: 4})

		// Pass 3: the sum of exp(z - mx), each exp stored into grad.
		sum := s.zero()
		s.rowLoop(prefix+"_sum", j, nmain, rem, tail, func(k *mask) {
			x := s.loadOrMasked(Mem{Base: rowL, Index: j, Scale: 4}, k)
			VSUBPS(mx, x, x)
			e := s.exp(x)
			if k != nil {
				s.zeroInactive(e, *k)
			}
			VADDPS(e, sum, sum)
			if withGrad {
				s.storeOrMasked(e, Mem{Base: rowG, Index: j, Scale: 4}, k)
			}
		})
		sx := s.hreduce(sum, func(a, b, d Op) { VADDPS(a, b, d) })
		VMOVSS(sx, Mem{Base: st})

		if withGrad {
			// Pass 4: grad = exp * (scale/sum), then grad[label] -= scale.
			f := XMM()
			VMOVSS(param("scale"), f)
			VDIVSS(sx, f, f)
			fv := s.vec()
			VBROADCASTSS(f, fv)
			s.rowLoop(prefix+"_scale", j, nmain, rem, tail, func(k *mask) {
				g := s.loadOrMasked(Mem{Base: rowG, Index: j, Scale: 4}, k)
				VMULPS(fv, g, g)
				s.storeOrMasked(g, Mem{Base: rowG, Index: j, Scale: 4}, k)
			})
			g := XMM()
			VMOVSS(Mem{Base: rowG, Index: l, Scale: 4}, g)
			VSUBSS(param("scale"), g, g)
			VMOVSS(g, Mem{Base: rowG, Index: l, Scale: 4})
			ADDQ(ldg, rowG)
		}

		ADDQ(ldl, rowL)
		ADDQ(U8(4), lab)
		ADDQ(U8(12), st)
		DECQ(rows)
		JNZ(LabelRef(prefix + "_row"))
		Store(correct, ReturnIndex(0))
		ret()
	}
}

// loadMaskedFill reads the active lanes of m and sets the others to constant fill.
func (s *isa) loadMaskedFill(m Mem, k mask, fill string) reg.VecVirtual {
	v := s.cr(fill)
	if s.evex {
		VMOVUPS(m, k.k, v) // merge: inactive lanes keep fill
		return v
	}
	x := YMM()
	VMASKMOVPS(m, k.y, x)
	VBLENDVPS(k.y, x, v, v) // active lanes from x
	return v
}

// equalBits sets bits to the lane mask of m == x (over k's lanes when k is set).
func (s *isa) equalBits(m Mem, x reg.VecVirtual, k *mask, bits reg.GPVirtual) {
	if s.evex {
		e := K()
		if k == nil {
			VCMPPS(U8(cmpEQ), m, x, e)
		} else {
			VCMPPS(U8(cmpEQ), s.loadMasked(m, *k), x, k.k, e)
		}
		KMOVW(e, bits)
		return
	}
	e := YMM()
	if k == nil {
		VCMPPS(U8(cmpEQ), m, x, e)
	} else {
		VCMPPS(U8(cmpEQ), s.loadMasked(m, *k), x, e)
		VANDPS(k.y, e, e)
	}
	VMOVMSKPS(e, bits)
}
