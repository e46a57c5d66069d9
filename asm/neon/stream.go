package main

import (
	"fmt"
	"math"
)

// A streaming kernel walks n elements of several float32 slices in lockstep: it loads
// one vector from each input stream, computes (the body), and stores one vector to
// each output stream. The loop is emitted three times: unrolled (u vectors per
// stream per iteration, the body's copies interleaved), one vector at a time, and
// one float at a time for the last n%4 elements, where a scalar load (FMOVS) fills
// lane 0 and zeroes the other lanes, the same vector body runs, and lane 0 is
// stored. So every element goes through the same instructions whatever its
// position, and no byte outside the slices is touched.

// Regs allocates SIMD registers for one kernel: constants and broadcast scalars from
// V31 down, shared by every copy of the body and every loop; per-copy values from V0
// up, released when the next loop is generated.
type Regs struct {
	low, high int
	consts    map[string]V
	setup     Seq // instructions that fill the constant registers, run once
}

func newRegs() *Regs { return &Regs{high: 31, consts: map[string]V{}} }

// Temp returns a fresh per-copy register.
func (r *Regs) Temp() V {
	if r.low > r.high {
		panic("neon: out of SIMD registers")
	}
	r.low++
	return V(r.low - 1)
}

// Const returns a register holding bits in all four lanes.
func (r *Regs) Const(bits uint32) V {
	key := fmt.Sprintf("%#x", bits)
	if v, ok := r.consts[key]; ok {
		return v
	}
	v := r.constReg(key)
	if bits == 0 {
		r.setup.I("VEOR %s, %s, %s", v.B16(), v.B16(), v.B16())
	} else {
		r.setup.I("MOVW $%#x, R16", bits)
		r.setup.I("VDUP R16, %s", v.S4())
	}
	return v
}

// ConstF returns a register holding the float32 x in all four lanes.
func (r *Regs) ConstF(x float32) V { return r.Const(math.Float32bits(x)) }

// Scalar returns a register holding the float32 argument at operand arg (for example
// "lr+48(FP)") in all four lanes.
func (r *Regs) Scalar(arg string) V {
	if v, ok := r.consts[arg]; ok {
		return v
	}
	v := r.constReg(arg)
	r.setup.I("FMOVS %s, %s", arg, v.F())
	r.setup.I("VDUP %s, %s", v.Lane(0), v.S4())
	return v
}

func (r *Regs) constReg(key string) V {
	if r.high < r.low {
		panic("neon: out of SIMD registers")
	}
	v := V(r.high)
	r.high--
	r.consts[key] = v
	return v
}

// Body emits the computation for one vector of every stream: in holds the loaded
// input registers, the result the registers to store, one per output stream.
type Body func(s *Seq, r *Regs, in []V) []V

// Stream is one slice a streaming kernel walks: Ptr is the general register used as
// its cursor (post-incremented).
type Stream struct {
	Ptr string
}

// mapLoop describes one streaming loop over n elements, counted down in Count.
type mapLoop struct {
	Count   string   // general register holding the number of elements left
	In, Out []Stream // cursors; an in-place slice has one cursor in each list
	Unroll  int      // vectors per stream per iteration of the main loop
	Body    Body
	Sum     bool   // the body's last result is summed (see prepareSums), not stored
	Prefix  string // of the labels, so that one function can hold several loops
	sumRegs []V    // per-copy vector accumulators, when Sum
	sumTail V      // scalar accumulator of the one-float loop, when Sum
}

// emit appends the three loops to s. Registers for the accumulators of Sum are
// allocated and zeroed by the caller through prepareSums.
func (l *mapLoop) emit(s *Seq, r *Regs) {
	p := l.Prefix
	copies := func(u int, scalar bool) {
		load := func(st Stream, v V) string { return fmt.Sprintf("FMOVS.P 4(%s), %s", st.Ptr, v.F()) }
		store := func(st Stream, v V) string { return fmt.Sprintf("FMOVS.P %s, 4(%s)", v.F(), st.Ptr) }
		base := r.low
		// Stream-major allocation: the u registers of one stream are consecutive, so
		// the unrolled loop loads them with one multi-register VLD1.
		ins := make([][]V, u)
		for range l.In {
			for c := 0; c < u; c++ {
				ins[c] = append(ins[c], r.Temp())
			}
		}
		for i, st := range l.In {
			var regs []V
			for c := 0; c < u; c++ {
				regs = append(regs, ins[c][i])
			}
			if scalar {
				s.I("%s", load(st, regs[0]))
			} else {
				emitGroups(s, regs, func(g string, n int) string { return fmt.Sprintf("VLD1.P %d(%s), [%s]", 16*n, st.Ptr, g) })
			}
		}
		var bodies []Seq
		var outs [][]V
		for c := 0; c < u; c++ {
			var b Seq
			out := l.Body(&b, r, ins[c])
			if l.Sum {
				y := out[len(out)-1]
				out = out[:len(out)-1]
				if scalar {
					b.I("FADDS %s, %s, %s", y.F(), l.sumTail.F(), l.sumTail.F())
				} else {
					b.W(FADD(l.sumRegs[c], l.sumRegs[c], y))
				}
			}
			if len(out) != len(l.Out) {
				panic(fmt.Sprintf("neon: body returned %d results for %d output streams", len(out), len(l.Out)))
			}
			bodies = append(bodies, b)
			outs = append(outs, out)
		}
		s.Interleave(bodies...)
		for i, st := range l.Out {
			var regs []V
			for c := 0; c < u; c++ {
				regs = append(regs, outs[c][i])
			}
			if scalar {
				s.I("%s", store(st, regs[0]))
			} else {
				emitGroups(s, regs, func(g string, n int) string { return fmt.Sprintf("VST1.P [%s], %d(%s)", g, 16*n, st.Ptr) })
			}
		}
		r.low = base
	}
	if l.Unroll > 1 {
		step := 4 * l.Unroll
		s.I("CMP $%d, %s", step, l.Count)
		s.I("BLT %svec", p)
		s.Label(p + "unrolled")
		copies(l.Unroll, false)
		s.I("SUB $%d, %s", step, l.Count)
		s.I("CMP $%d, %s", step, l.Count)
		s.I("BGE %sunrolled", p)
		s.Label(p + "vec")
	}
	s.I("CMP $4, %s", l.Count)
	s.I("BLT %stail", p)
	s.Label(p + "vecloop")
	copies(1, false)
	s.I("SUB $4, %s", l.Count)
	s.I("CMP $4, %s", l.Count)
	s.I("BGE %svecloop", p)
	s.Label(p + "tail")
	s.I("CBZ %s, %sdone", l.Count, p)
	s.Label(p + "one")
	copies(1, true)
	s.I("SUBS $1, %s", l.Count)
	s.I("BNE %sone", p)
	s.Label(p + "done")
}

// prepareSums allocates and zeroes the accumulators of a summing loop (they live
// across the whole loop, so they come from the constant end of the register file).
func (l *mapLoop) prepareSums(s *Seq, r *Regs) {
	for c := 0; c < l.Unroll; c++ {
		v := r.constReg(fmt.Sprintf("sum%d", c))
		s.I("VEOR %s, %s, %s", v.B16(), v.B16(), v.B16())
		l.sumRegs = append(l.sumRegs, v)
	}
	l.sumTail = r.constReg("sumtail")
	s.I("VEOR %s, %s, %s", l.sumTail.B16(), l.sumTail.B16(), l.sumTail.B16())
}

// reduceSums leaves the total of every accumulator in lane 0 of the returned register.
func (l *mapLoop) reduceSums(s *Seq) V {
	acc := l.sumRegs[0]
	for _, v := range l.sumRegs[1:] {
		s.W(FADD(acc, acc, v))
	}
	s.W(FADDP(acc, acc, acc))
	s.W(FADDP(acc, acc, acc))
	s.I("FADDS %s, %s, %s", l.sumTail.F(), acc.F(), acc.F())
	return acc
}

// streamKernel builds a one-dimensional streaming kernel: the element count is the
// length of the first slice parameter, ins and outs name the slices read and
// written (a slice in both is updated in place).
func streamKernel(name, doc string, params, results []Param, ins, outs []string, unroll int, body func(f *Func, r *Regs) Body) *Func {
	f := NewFunc(name, doc, params, results)
	r := newRegs()
	var loop Seq
	l := &mapLoop{Count: "R0", Unroll: unroll, Body: body(f, r)}
	var prologue Seq
	prologue.I("MOVD %s, R0", f.Arg(params[0].Name+"_len"))
	reg := 1
	for _, in := range ins {
		prologue.I("MOVD %s, R%d", f.Arg(in+"_base"), reg)
		l.In = append(l.In, Stream{fmt.Sprintf("R%d", reg)})
		reg++
	}
	for _, out := range outs {
		prologue.I("MOVD %s, R%d", f.Arg(out+"_base"), reg)
		l.Out = append(l.Out, Stream{fmt.Sprintf("R%d", reg)})
		reg++
	}
	l.emit(&loop, r)
	f.Seq = append(f.Seq, prologue...)
	f.Seq = append(f.Seq, r.setup...)
	f.Seq = append(f.Seq, loop...)
	f.I("RET")
	return f
}

// emitGroups emits one multi-register load or store per run of up to four
// consecutive registers of regs (the only lists VLD1 and VST1 accept).
func emitGroups(s *Seq, regs []V, insn func(list string, n int) string) {
	for i := 0; i < len(regs); {
		n := 1
		for n < 4 && i+n < len(regs) && regs[i+n] == regs[i]+V(n) {
			n++
		}
		list := ""
		for j := 0; j < n; j++ {
			if j > 0 {
				list += ", "
			}
			list += regs[i+j].S4()
		}
		s.I("%s", insn(list, n))
		i += n
	}
}

// Derived returns a register computed once, before the loops, by emit from
// registers allocated earlier (for example 1-beta from the constant 1 and a scalar).
func (r *Regs) Derived(key string, emit func(s *Seq, v V)) V {
	if v, ok := r.consts[key]; ok {
		return v
	}
	v := r.constReg(key)
	emit(&r.setup, v)
	return v
}
