package main

import "fmt"

// The elementwise kernels. Each is a streaming kernel (stream.go) whose body is the
// per-vector computation below; the Go declarations' doc comments give the loop in
// plain Go that each one computes. The update kernels evaluate their formulas in the
// generic kernels' order of operations; where a product feeds a sum they use one
// fused multiply-add (as the Go compiler itself does on arm64).

var (
	pDst  = Param{"dst", "[]float32"}
	pSrc  = Param{"src", "[]float32"}
	pDx   = Param{"dx", "[]float32"}
	pDy   = Param{"dy", "[]float32"}
	pY    = Param{"y", "[]float32"}
	pW    = Param{"w", "[]float32"}
	pG    = Param{"g", "[]float32"}
	unary = []Param{pDst, pSrc}
	grad  = []Param{pDx, pDy, pY}
)

// The unroll factors: the cheap kernels are bound by memory and get four vectors per
// stream per iteration; the exp-based ones need more registers per copy.
const (
	unrollCheap = 4
	unrollExp   = 2
)

func genElementwise() *File {
	return &File{Base: "elementwise", Funcs: []*Func{
		reluKernel(),
		reluGradKernel(),
		sigmoidKernel(),
		tanhKernel(),
		expKernel(),
		sigmoidGradKernel(),
		tanhGradKernel(),
		addBiasKernel(),
		colSumsKernel(),
		expShiftKernel(true),
		expShiftKernel(false),
		scaleKernel(),
		sgdKernel(),
		adamKernel(),
		adagradKernel(true),
		adagradKernel(false),
		rmspropKernel(true),
		rmspropKernel(false),
	}}
}

func reluKernel() *Func {
	return streamKernel("reluNEON", `reluNEON sets dst[i] = max(src[i], 0) for i < len(dst), keeping NaN and -0 as they
are, like the generic kernel:

	for i := range dst {
		if x := src[i]; x < 0 {
			dst[i] = 0
		} else {
			dst[i] = x
		}
	}`, unary, nil, []string{"src"}, []string{"dst"}, unrollCheap,
		func(f *Func, r *Regs) Body {
			return func(s *Seq, r *Regs, in []V) []V {
				x, neg := in[0], r.Temp()
				s.W(FCMLTZ(neg, x)) // false for NaN and -0
				s.W(BIC(x, x, neg))
				return []V{x}
			}
		})
}

func reluGradKernel() *Func {
	return streamKernel("reluGradNEON", `reluGradNEON sets dx[i] = dy[i] where the activation's output y[i] > 0, else 0,
for i < len(dx) (dx may alias dy):

	for i := range dx {
		if y[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}`, grad, nil, []string{"dy", "y"}, []string{"dx"}, unrollCheap,
		func(f *Func, r *Regs) Body {
			return func(s *Seq, r *Regs, in []V) []V {
				dy, y := in[0], in[1]
				s.W(FCMGTZ(y, y)) // false for NaN
				s.I("VAND %s, %s, %s", y.B16(), dy.B16(), dy.B16())
				return []V{dy}
			}
		})
}

func sigmoidKernel() *Func {
	return streamKernel("sigmoidNEON", `sigmoidNEON sets dst[i] = 1/(1+exp(-src[i])) for i < len(dst), through the vector
exp of asm/neon/exp.go: within 1e-6 absolute (measured by the tests), exactly 0 at
-Inf and for x below -88.73, exactly 1 once exp(-x) is below half an ulp of 1:

	for i := range dst {
		dst[i] = float32(1 / (1 + math.Exp(-float64(src[i]))))
	}`, unary, nil, []string{"src"}, []string{"dst"}, unrollExp,
		func(f *Func, r *Regs) Body {
			c := newExpConsts(r)
			return func(s *Seq, r *Regs, in []V) []V { return []V{c.sigmoid(s, r, in[0])} }
		})
}

func tanhKernel() *Func {
	return streamKernel("tanhNEON", `tanhNEON sets dst[i] = tanh(src[i]) for i < len(dst), as sign(x)*m/(m+2) with
m = expm1(2|x|) from the vector exp of asm/neon/exp.go: within 1e-6 absolute and a
few ulps relative near 0 (measured by the tests), exactly +-1 for |x| >= 10:

	for i := range dst {
		dst[i] = float32(math.Tanh(float64(src[i])))
	}`, unary, nil, []string{"src"}, []string{"dst"}, unrollExp,
		func(f *Func, r *Regs) Body {
			c := newExpConsts(r)
			two, hi := r.ConstF(2), r.ConstF(tanhHi)
			sign := r.Const(1 << 31)
			return func(s *Seq, r *Regs, in []V) []V { return []V{c.tanh(s, r, in[0], two, sign, hi)} }
		})
}

func expKernel() *Func {
	return streamKernel("expNEON", fmt.Sprintf(`expNEON sets dst[i] = exp(src[i]) for i < len(dst): the vector exp the sigmoid,
tanh and softmax kernels share, exported to the tests that measure its error. +Inf
above %v, 0 below %v (where the true result is subnormal):

	for i := range dst {
		dst[i] = float32(math.Exp(float64(src[i])))
	}`, expHi, expLo), unary, nil, []string{"src"}, []string{"dst"}, unrollExp,
		func(f *Func, r *Regs) Body {
			c := newExpConsts(r)
			return func(s *Seq, r *Regs, in []V) []V { return []V{c.exp(s, r, in[0], true)} }
		})
}

func sigmoidGradKernel() *Func {
	return streamKernel("sigmoidGradNEON", `sigmoidGradNEON sets dx[i] = dy[i]*y[i]*(1-y[i]) for i < len(dx), in that order
of operations (dx may alias dy):

	for i := range dx {
		dx[i] = dy[i] * y[i] * (1 - y[i])
	}`, grad, nil, []string{"dy", "y"}, []string{"dx"}, unrollCheap,
		func(f *Func, r *Regs) Body {
			one := r.ConstF(1)
			return func(s *Seq, r *Regs, in []V) []V {
				dy, y, t := in[0], in[1], r.Temp()
				s.W(FSUB(t, one, y))
				s.W(FMUL(dy, dy, y))
				s.W(FMUL(dy, dy, t))
				return []V{dy}
			}
		})
}

func tanhGradKernel() *Func {
	return streamKernel("tanhGradNEON", `tanhGradNEON sets dx[i] = dy[i]*(1-y[i]*y[i]) for i < len(dx), 1-y*y in one fused
step (dx may alias dy):

	for i := range dx {
		dx[i] = dy[i] * (1 - y[i]*y[i])
	}`, grad, nil, []string{"dy", "y"}, []string{"dx"}, unrollCheap,
		func(f *Func, r *Regs) Body {
			one := r.ConstF(1)
			return func(s *Seq, r *Regs, in []V) []V {
				dy, y, t := in[0], in[1], r.Temp()
				s.I("VMOV %s, %s", one.B16(), t.B16())
				s.I("VFMLS %s, %s, %s", y.S4(), y.S4(), t.S4()) // t = 1 - y*y
				s.W(FMUL(dy, dy, t))
				return []V{dy}
			}
		})
}

func sgdKernel() *Func {
	return streamKernel("sgdNEON", `sgdNEON sets w[i] -= lr*g[i] for i < len(w), one fused step:

	for i := range w {
		w[i] -= lr * g[i]
	}`, []Param{pW, pG, {"lr", "float32"}}, nil, []string{"w", "g"}, []string{"w"}, unrollCheap,
		func(f *Func, r *Regs) Body {
			lr := r.Scalar(f.Arg("lr"))
			return func(s *Seq, r *Regs, in []V) []V {
				w, g := in[0], in[1]
				s.I("VFMLS %s, %s, %s", lr.S4(), g.S4(), w.S4())
				return []V{w}
			}
		})
}

// flushSubnormal zeroes the lanes of x whose magnitude is below the smallest normal
// float32 (NaN is kept: the compare is false for it), like the generic kernels.
func flushSubnormal(s *Seq, r *Regs, x, tmp V) {
	s.W(FACGT(tmp, r.Const(0x00800000), x)) // |2^-126| > |x|
	s.W(BIC(x, x, tmp))
}

// squareThreshold returns a register holding sqrt(2^-126/c): a gradient below it in
// magnitude has a square c*g*g below the smallest normal float32, which counts as
// zero (as in the generic kernels: subnormal arithmetic is slow on many cores).
func squareThreshold(r *Regs, key string, c V) V {
	minNormal := r.Const(0x00800000)
	return r.Derived("thr("+key+")", func(s *Seq, v V) {
		s.W(FDIV(v, minNormal, c))
		s.W(FSQRT(v, v))
	})
}

// dropTinySquare zeroes the lanes of t (c*g, about to be multiplied by g) where
// |g| < thr.
func dropTinySquare(s *Seq, t, g, thr, tmp V) {
	s.W(FACGT(tmp, thr, g)) // |thr| > |g|
	s.W(BIC(t, t, tmp))
}

// oneMinus returns a register holding 1 - the scalar argument arg.
func oneMinus(f *Func, r *Regs, arg string) V {
	one, b := r.ConstF(1), r.Scalar(f.Arg(arg))
	return r.Derived("1-"+arg, func(s *Seq, v V) { s.W(FSUB(v, one, b)) })
}

func adamKernel() *Func {
	return streamKernel("adamNEON", `adamNEON applies one Adam step for i < len(w), storing moments below the smallest
normal float32 as 0 and counting a subnormal (1-beta2)*g*g as 0 (as the generic kernel
does):

	thr := float32(math.Sqrt(float64(0x1p-126 / (1 - beta2))))
	for i := range w {
		mi := flushSubnormal(beta1*m[i] + (1-beta1)*g[i])
		t := (1 - beta2) * g[i]
		if abs(g[i]) < thr {
			t = 0
		}
		vi := flushSubnormal(beta2*v[i] + t*g[i])
		m[i], v[i] = mi, vi
		w[i] -= lrT * mi / (float32(math.Sqrt(float64(vi))) + eps)
	}`, []Param{pW, pG, {"m", "[]float32"}, {"v", "[]float32"},
		{"lrT", "float32"}, {"beta1", "float32"}, {"beta2", "float32"}, {"eps", "float32"}}, nil,
		[]string{"w", "g", "m", "v"}, []string{"w", "m", "v"}, unrollExp,
		func(f *Func, r *Regs) Body {
			lrT, eps := r.Scalar(f.Arg("lrT")), r.Scalar(f.Arg("eps"))
			b1, b2 := r.Scalar(f.Arg("beta1")), r.Scalar(f.Arg("beta2"))
			c1, c2 := oneMinus(f, r, "beta1"), oneMinus(f, r, "beta2")
			thr := squareThreshold(r, "1-beta2", c2)
			return func(s *Seq, r *Regs, in []V) []V {
				w, g, m, v := in[0], in[1], in[2], in[3]
				t, u := r.Temp(), r.Temp()
				s.W(FMUL(m, m, b1))
				s.I("VFMLA %s, %s, %s", c1.S4(), g.S4(), m.S4()) // m = beta1*m + c1*g
				flushSubnormal(s, r, m, t)
				s.W(FMUL(t, g, c2))
				dropTinySquare(s, t, g, thr, u)
				s.W(FMUL(v, v, b2))
				s.I("VFMLA %s, %s, %s", g.S4(), t.S4(), v.S4()) // v = beta2*v + (c2*g)*g
				flushSubnormal(s, r, v, u)
				s.W(FSQRT(t, v))
				s.W(FADD(t, t, eps))
				s.W(FMUL(u, m, lrT))
				s.W(FDIV(u, u, t))
				s.W(FSUB(w, w, u))
				return []V{w, m, v}
			}
		})
}

// update emits w -= lr*g/d where d = sqrt(acc+eps) (epsInside) or sqrt(acc)+eps.
func update(s *Seq, w, g, acc, t V, lr, eps V, epsInside bool) {
	if epsInside {
		s.W(FADD(t, acc, eps))
		s.W(FSQRT(t, t))
	} else {
		s.W(FSQRT(t, acc))
		s.W(FADD(t, t, eps))
	}
	s.W(FMUL(g, g, lr))
	s.W(FDIV(g, g, t))
	s.W(FSUB(w, w, g))
}

func epsName(epsInside bool) (name, formula string) {
	if epsInside {
		return "EpsInside", "float32(math.Sqrt(float64(%s + eps)))"
	}
	return "EpsOutside", "(float32(math.Sqrt(float64(%s))) + eps)"
}

func adagradKernel(epsInside bool) *Func {
	suffix, d := epsName(epsInside)
	return streamKernel("adagrad"+suffix+"NEON", fmt.Sprintf(`adagrad%sNEON applies one Adagrad step for i < len(w), acc += g*g fused:

	for i := range w {
		gg := g[i]
		if abs(g[i]) < 0x1p-63 {
			gg = 0 // g*g would be subnormal
		}
		a := acc[i] + g[i]*gg
		acc[i] = a
		w[i] -= lr * g[i] / %s
	}`, suffix, fmt.Sprintf(d, "a")), []Param{pW, pG, {"acc", "[]float32"}, {"lr", "float32"}, {"eps", "float32"}}, nil,
		[]string{"w", "g", "acc"}, []string{"w", "acc"}, unrollCheap,
		func(f *Func, r *Regs) Body {
			lr, eps := r.Scalar(f.Arg("lr")), r.Scalar(f.Arg("eps"))
			thr := squareThreshold(r, "1", r.ConstF(1))
			return func(s *Seq, r *Regs, in []V) []V {
				w, g, acc, t, u := in[0], in[1], in[2], r.Temp(), r.Temp()
				s.I("VMOV %s, %s", g.B16(), u.B16()) // u = g
				dropTinySquare(s, u, g, thr, t)
				s.I("VFMLA %s, %s, %s", g.S4(), u.S4(), acc.S4())
				update(s, w, g, acc, t, lr, eps, epsInside)
				return []V{w, acc}
			}
		})
}

func rmspropKernel(epsInside bool) *Func {
	suffix, d := epsName(epsInside)
	return streamKernel("rmsprop"+suffix+"NEON", fmt.Sprintf(`rmsprop%sNEON applies one RMSprop step for i < len(w), storing s below the
smallest normal float32 as 0 and counting a subnormal (1-rho)*g*g as 0 (as the generic
kernel does):

	thr := float32(math.Sqrt(float64(0x1p-126 / (1 - rho))))
	for i := range w {
		t := (1 - rho) * g[i]
		if abs(g[i]) < thr {
			t = 0
		}
		si := flushSubnormal(rho*s[i] + t*g[i])
		s[i] = si
		w[i] -= lr * g[i] / %s
	}`, suffix, fmt.Sprintf(d, "si")), []Param{pW, pG, {"s", "[]float32"}, {"lr", "float32"}, {"rho", "float32"}, {"eps", "float32"}}, nil,
		[]string{"w", "g", "s"}, []string{"w", "s"}, unrollCheap,
		func(f *Func, r *Regs) Body {
			lr, eps, rho := r.Scalar(f.Arg("lr")), r.Scalar(f.Arg("eps")), r.Scalar(f.Arg("rho"))
			c := oneMinus(f, r, "rho")
			thr := squareThreshold(r, "1-rho", c)
			return func(s *Seq, r *Regs, in []V) []V {
				w, g, sq, t, u := in[0], in[1], in[2], r.Temp(), r.Temp()
				s.W(FMUL(t, g, c))
				dropTinySquare(s, t, g, thr, u)
				s.W(FMUL(sq, sq, rho))
				s.I("VFMLA %s, %s, %s", g.S4(), t.S4(), sq.S4()) // s = rho*s + (c*g)*g
				flushSubnormal(s, r, sq, t)
				update(s, w, g, sq, t, lr, eps, epsInside)
				return []V{w, sq}
			}
		})
}

func scaleKernel() *Func {
	return streamKernel("scaleNEON", `scaleNEON sets x[i] *= a for i < len(x):

	for i := range x {
		x[i] *= a
	}`, []Param{{"x", "[]float32"}, {"a", "float32"}}, nil, []string{"x"}, []string{"x"}, unrollCheap,
		func(f *Func, r *Regs) Body {
			a := r.Scalar(f.Arg("a"))
			return func(s *Seq, r *Regs, in []V) []V {
				s.W(FMUL(in[0], in[0], a))
				return []V{in[0]}
			}
		})
}

// expShiftKernel is the softmax's exponential pass over one row: with store, dst[i] =
// exp(src[i]-shift) and the sum is returned; without, only the sum.
func expShiftKernel(store bool) *Func {
	name, params := "sumExpShiftNEON", []Param{pSrc, {"shift", "float32"}}
	doc := `sumExpShiftNEON returns the sum of exp(src[i]-shift) over src (the vector exp of
asm/neon/exp.go, summed in float32 in four lanes per unrolled copy, any order):

	var sum float32
	for _, x := range src {
		sum += float32(math.Exp(float64(x - shift)))
	}
	return sum`
	if store {
		name, params = "expShiftNEON", []Param{pDst, pSrc, {"shift", "float32"}}
		doc = `expShiftNEON sets dst[i] = exp(src[i]-shift) for i < len(dst) and returns their sum
(the vector exp of asm/neon/exp.go, summed in float32 in any order); dst may alias
src:

	var sum float32
	for i := range dst {
		dst[i] = float32(math.Exp(float64(src[i] - shift)))
		sum += dst[i]
	}
	return sum`
	}
	f := NewFunc(name, doc, params, []Param{{"sum", "float32"}})
	r := newRegs()
	c := newExpConsts(r)
	shift := r.Scalar(f.Arg("shift"))
	l := &mapLoop{Count: "R0", Unroll: unrollExp, Sum: true, In: []Stream{{"R1"}},
		Body: func(s *Seq, r *Regs, in []V) []V {
			s.W(FSUB(in[0], in[0], shift))
			y := c.exp(s, r, in[0], false)
			if store {
				return []V{y, y}
			}
			return []V{y}
		}}
	if store {
		l.Out = []Stream{{"R2"}}
	}
	var loop Seq
	l.prepareSums(&loop, r)
	l.emit(&loop, r)
	f.I("MOVD %s, R0", f.Arg(params[0].Name+"_len"))
	f.I("MOVD %s, R1", f.Arg("src_base"))
	if store {
		f.I("MOVD %s, R2", f.Arg("dst_base"))
	}
	f.Seq = append(f.Seq, r.setup...)
	f.Seq = append(f.Seq, loop...)
	total := l.reduceSums(&f.Seq)
	f.I("FMOVS %s, %s", total.F(), f.Arg("sum"))
	f.I("RET")
	return f
}

func addBiasKernel() *Func {
	f := NewFunc("addBiasNEON", `addBiasNEON adds bias[j] to column j of the m x n matrix x (row i starts at
x[i*ldx]):

	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			x[i*ldx+j] += bias[j]
		}
	}`, []Param{{"m", "int"}, {"n", "int"}, {"x", "[]float32"}, {"ldx", "int"}, {"bias", "[]float32"}}, nil)
	r := newRegs()
	l := &mapLoop{Count: "R0", Unroll: unrollCheap, In: []Stream{{"R1"}, {"R2"}}, Out: []Stream{{"R3"}}, Prefix: "row",
		Body: func(s *Seq, r *Regs, in []V) []V {
			s.W(FADD(in[0], in[0], in[1]))
			return []V{in[0]}
		}}
	var loop Seq
	loop.Label("rows")
	loop.I("MOVD R11, R0")
	loop.I("MOVD R12, R1")
	loop.I("MOVD R14, R2")
	loop.I("MOVD R12, R3")
	l.emit(&loop, r)
	loop.I("ADD R13, R12")
	loop.I("SUBS $1, R10")
	loop.I("BNE rows")
	f.I("MOVD %s, R10", f.Arg("m"))
	f.I("MOVD %s, R11", f.Arg("n"))
	f.I("MOVD %s, R12", f.Arg("x_base"))
	f.I("MOVD %s, R13", f.Arg("ldx"))
	f.I("LSL $2, R13")
	f.I("MOVD %s, R14", f.Arg("bias_base"))
	f.I("CBZ R10, done")
	f.I("CBZ R11, done")
	f.Seq = append(f.Seq, r.setup...)
	f.Seq = append(f.Seq, loop...)
	f.Label("done")
	f.I("RET")
	return f
}

// colSumsKernel sums columns in blocks of 32, then 4, then 1 columns: for each block,
// the running sums stay in registers while the rows go by, added in row order, so
// the result is bit for bit the generic kernel's.
func colSumsKernel() *Func {
	f := NewFunc("colSumsNEON", `colSumsNEON sets dst[j] to the sum of column j of the m x n matrix x (row i starts
at x[i*ldx]), m >= 1, adding the rows in order:

	for j := 0; j < n; j++ {
		s := x[j]
		for i := 1; i < m; i++ {
			s += x[i*ldx+j]
		}
		dst[j] = s
	}`, []Param{{"m", "int"}, {"n", "int"}, {"x", "[]float32"}, {"ldx", "int"}, {"dst", "[]float32"}}, nil)
	f.I("MOVD %s, R10", f.Arg("m"))
	f.I("MOVD %s, R0", f.Arg("n"))
	f.I("MOVD %s, R12", f.Arg("x_base"))
	f.I("MOVD %s, R13", f.Arg("ldx"))
	f.I("LSL $2, R13")
	f.I("MOVD %s, R3", f.Arg("dst_base"))
	f.I("SUB $1, R10, R11") // rows after the first
	block := func(cols int) {
		name := fmt.Sprintf("cols%d", cols)
		nv := (cols + 3) / 4
		acc := make([]V, nv)
		row := make([]V, nv)
		for i := range acc {
			acc[i], row[i] = V(i), V(16+i)
		}
		f.Label(name)
		f.I("CMP $%d, R0", cols)
		f.I("BLT %send", name)
		f.I("MOVD R12, R1")
		f.I("MOVD R11, R2")
		load := func(regs []V) {
			if cols == 1 {
				f.I("FMOVS (R1), %s", regs[0].F())
				return
			}
			emitGroups(&f.Seq, regs, func(list string, n int) string { return fmt.Sprintf("VLD1.P %d(R1), [%s]", 16*n, list) })
		}
		load(acc)
		f.I("ADD R13, R12, R1")
		f.I("CBZ R2, %sstore", name)
		f.Label(name + "rows")
		if cols > 1 {
			f.I("MOVD R1, R5")
			f.I("ADD R13, R1")
			emitGroups(&f.Seq, row, func(list string, n int) string { return fmt.Sprintf("VLD1.P %d(R5), [%s]", 16*n, list) })
			for i := range acc {
				f.W(FADD(acc[i], acc[i], row[i]))
			}
		} else {
			f.I("FMOVS (R1), %s", row[0].F())
			f.I("ADD R13, R1")
			f.I("FADDS %s, %s, %s", row[0].F(), acc[0].F(), acc[0].F())
		}
		f.I("SUBS $1, R2")
		f.I("BNE %srows", name)
		f.Label(name + "store")
		if cols == 1 {
			f.I("FMOVS.P %s, 4(R3)", acc[0].F())
		} else {
			emitGroups(&f.Seq, acc, func(list string, n int) string { return fmt.Sprintf("VST1.P [%s], %d(R3)", list, 16*n) })
		}
		f.I("ADD $%d, R12", 4*cols)
		f.I("SUB $%d, R0", cols)
		f.I("B %s", name)
		f.Label(name + "end")
	}
	block(32)
	block(4)
	block(1)
	f.I("RET")
	return f
}
