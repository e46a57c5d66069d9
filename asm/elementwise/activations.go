package main

import (
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/reg"
)

// unary emits base(dst, src []float32): dst[i] = f(src[i]) for i < len(dst), where
// f emits the work of one vector.
func (s *isa) unary(base, doc string, unroll int, f func(x reg.VecVirtual) reg.VecVirtual) {
	s.kernel(base, "(dst, src []float32)", doc)
	dst, src, n := loadPtr("dst"), loadPtr("src"), loadLen("dst")
	s.stream("loop", n, []reg.GPVirtual{dst, src}, unroll, func(off int, k *mask) {
		x := s.loadOrMasked(at(src, off), k)
		s.storeOrMasked(f(x), at(dst, off), k)
	})
	ret()
}

// gradient emits base(dx, dy, y []float32): dx[i] = f(dy[i], y[i]) for i < len(dx).
func (s *isa) gradient(base, doc string, f func(dy, y reg.VecVirtual) reg.VecVirtual) {
	s.kernel(base, "(dx, dy, y []float32)", doc)
	dx, dy, y, n := loadPtr("dx"), loadPtr("dy"), loadPtr("y"), loadLen("dx")
	s.stream("loop", n, []reg.GPVirtual{dx, dy, y}, s.unrollCheap, func(off int, k *mask) {
		g := s.loadOrMasked(at(dy, off), k)
		v := s.loadOrMasked(at(y, off), k)
		s.storeOrMasked(f(g, v), at(dx, off), k)
	})
	ret()
}

// zero returns a zeroed register (a dependency-free idiom, cheap inside loops).
func (s *isa) zero() reg.VecVirtual {
	z := s.vec()
	VXORPS(z, z, z)
	return z
}

func genActivations(s *isa) {
	s.unary("relu", `
%[1]s sets dst[i] = max(src[i], 0) with %[2]s, keeping NaN and -0:

	for i := range dst {
		x := src[i]
		if x < 0 {
			x = 0
		}
		dst[i] = x
	}
`, s.unrollCheap, func(x reg.VecVirtual) reg.VecVirtual {
		VMAXPS(x, s.zero(), x) // 0 > x ? 0 : x, so NaN and -0 pass
		return x
	})

	s.unary("sigmoid", `
%[1]s sets dst[i] = 1/(1+exp(-src[i])) with %[2]s: measured within 8.9e-8
(absolute) of the exact value, 2.5 ulp (relative) where the result is normal; exactly
0 and 1 at -Inf and +Inf and beyond about -88.7 and +17.4; NaN for NaN:

	for i := range dst {
		dst[i] = float32(1 / (1 + math.Exp(-float64(src[i]))))
	}
`, s.unrollHeavy, s.sigmoid)

	s.unary("tanh", `
%[1]s sets dst[i] = tanh(src[i]) with %[2]s: measured within 8.9e-8 (absolute)
and 2.5 ulp (relative) of the exact value, x itself for |x| < 2^-25, exactly -1 and
1 for |x| >= 9.5, NaN for NaN:

	for i := range dst {
		dst[i] = float32(math.Tanh(float64(src[i])))
	}
`, s.unrollHeavy, s.tanh)

	s.unary("exp", `
%[1]s sets dst[i] = exp(src[i]) with %[2]s: the vector exp of sigmoid, tanh and
softmax, exposed for its exhaustive accuracy test: measured within 1.08 ulp where
the result is normal, +Inf above 88.72, 0 below -103.97, NaN for NaN:

	for i := range dst {
		dst[i] = float32(math.Exp(float64(src[i])))
	}
`, s.unrollHeavy, s.exp)

	s.gradient("reluGrad", `
%[1]s sets dx[i] = dy[i] where y[i] > 0, else 0, with %[2]s:

	for i := range dx {
		if y[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
`, func(dy, y reg.VecVirtual) reg.VecVirtual {
		s.keepWhere(dy, cmpGT, y, s.zero())
		return dy
	})

	s.gradient("sigmoidGrad", `
%[1]s sets dx[i] = dy[i]*y[i]*(1-y[i]) with %[2]s, rounding as the Go expression:

	for i := range dx {
		dx[i] = dy[i] * y[i] * (1 - y[i])
	}
`, func(dy, y reg.VecVirtual) reg.VecVirtual {
		t := s.vec()
		VSUBPS(y, s.cr("one"), t) // 1 - y
		VMULPS(y, dy, dy)
		VMULPS(t, dy, dy)
		return dy
	})

	s.gradient("tanhGrad", `
%[1]s sets dx[i] = dy[i]*(1-y[i]*y[i]) with %[2]s, rounding as the Go expression
(not fused):

	for i := range dx {
		dx[i] = dy[i] * (1 - y[i]*y[i])
	}
`, func(dy, y reg.VecVirtual) reg.VecVirtual {
		VMULPS(y, y, y)
		t := s.vec()
		VSUBPS(y, s.cr("one"), t)
		VMULPS(t, dy, dy)
		return dy
	})
}
