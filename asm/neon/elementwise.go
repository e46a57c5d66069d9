package main

// The elementwise kernels. Each is a streaming kernel (stream.go) whose body is the
// per-vector computation below; the Go declarations' doc comments give the loop in
// plain Go that each one computes.

var (
	pDst  = Param{"dst", "[]float32"}
	pSrc  = Param{"src", "[]float32"}
	pDx   = Param{"dx", "[]float32"}
	pDy   = Param{"dy", "[]float32"}
	pY    = Param{"y", "[]float32"}
	pLr   = Param{"lr", "float32"}
	pW    = Param{"w", "[]float32"}
	pG    = Param{"g", "[]float32"}
	unary = []Param{pDst, pSrc}
	grad  = []Param{pDx, pDy, pY}
)

func genElementwise() *File {
	return &File{Base: "elementwise", Funcs: []*Func{
		reluKernel(),
		reluGradKernel(),
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
	}`, unary, nil, []string{"src"}, []string{"dst"}, 4,
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
	}`, grad, nil, []string{"dy", "y"}, []string{"dx"}, 4,
		func(f *Func, r *Regs) Body {
			return func(s *Seq, r *Regs, in []V) []V {
				dy, y := in[0], in[1]
				s.W(FCMGTZ(y, y)) // false for NaN
				s.I("VAND %s, %s, %s", y.B16(), dy.B16(), dy.B16())
				return []V{dy}
			}
		})
}
