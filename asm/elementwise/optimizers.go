package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The optimizer updates round exactly as the Go expressions of the generic backend
// (no fused multiply-add: a product is rounded before it is added), so every backend
// computes the same weights and optimizer state bit for bit, and the moments that
// fall below the smallest normal float32 are stored as +0 by the same rule, so late
// epochs never run into subnormal arithmetic. For the same reason the square of a
// gradient too small for (1-beta2)*g*g (Adam; (1-rho)*g*g for RMSprop, g*g for
// Adagrad) to be a normal float32 counts as zero: late in training many gradients
// are that small (1e-18 and below, from confidently classified samples), and their
// subnormal squares made Adam's update 20% slower by epoch 10 on this machine. Such
// a square is below the smallest normal float32 and could move the state only where
// the state itself is about to be flushed.

// squareThreshold returns a register holding sqrt(2^-126 / c) in every lane: |g|
// below it makes c*g*g smaller than the smallest normal float32.
func (s *isa) squareThreshold(c reg.VecVirtual) reg.VecVirtual {
	t := s.vec()
	VDIVPS(c, s.cr("minnormal"), t)
	VSQRTPS(t, t)
	return t
}

// oneMinus returns a register holding 1-c in every lane, c a register.
func (s *isa) oneMinus(c reg.VecVirtual) reg.VecVirtual {
	r := s.vec()
	VSUBPS(c, s.cr("one"), r)
	return r
}

func genOptimizers(s *isa) {
	s.kernel("sgd", "(w, g []float32, lr float32)", `
%[1]s applies plain gradient descent with %[2]s:

	for i := range w {
		w[i] -= lr * g[i]
	}
`)
	{
		w, g, n := loadPtr("w"), loadPtr("g"), loadLen("w")
		lr := s.broadcast(param("lr"))
		s.stream("loop", n, []reg.GPVirtual{w, g}, s.unrollCheap, func(off int, k *mask) {
			d := s.loadOrMasked(at(g, off), k)
			VMULPS(lr, d, d)
			x := s.loadOrMasked(at(w, off), k)
			VSUBPS(d, x, x)
			s.storeOrMasked(x, at(w, off), k)
		})
		ret()
	}

	s.kernel("adam", "(w, g, m, v []float32, lrT, beta1, beta2, eps float32)", `
%[1]s applies one Adam step with %[2]s, storing moments below the smallest normal
float32 as +0 (flushSubnormal), rounding as the Go loop:

	c1, c2 := 1-beta1, 1-beta2
	thr := float32(math.Sqrt(float64(0x1p-126 / c2)))
	for i := range w {
		mi := flushSubnormal(beta1*m[i] + c1*g[i])
		t := c2 * g[i]
		if abs(g[i]) < thr {
			t = 0 // c2*g*g would be subnormal
		}
		vi := flushSubnormal(beta2*v[i] + t*g[i])
		m[i], v[i] = mi, vi
		w[i] -= lrT * mi / (float32(math.Sqrt(float64(vi))) + eps)
	}
`)
	{
		w, g, m, v, n := loadPtr("w"), loadPtr("g"), loadPtr("m"), loadPtr("v"), loadLen("w")
		lr, b1, b2, eps := s.broadcast(param("lrT")), s.broadcast(param("beta1")), s.broadcast(param("beta2")), s.broadcast(param("eps"))
		c1, c2 := s.oneMinus(b1), s.oneMinus(b2)
		thr := s.squareThreshold(c2)
		lrScaled := s.vec()
		VMULPS(s.c("two64"), lr, lrScaled)
		s.stream("loop", n, []reg.GPVirtual{w, g, m, v}, s.unrollHeavy, func(off int, k *mask) {
			gv := s.loadOrMasked(at(g, off), k)
			// m = beta1*m + c1*g
			mv, t := s.loadOrMasked(at(m, off), k), s.vec()
			VMULPS(c1, gv, t)
			VMULPS(b1, mv, mv)
			VADDPS(t, mv, mv)
			s.flushSubnormal(mv)
			s.storeOrMasked(mv, at(m, off), k)
			// v = beta2*v + c2*g*g
			vv := s.loadOrMasked(at(v, off), k)
			VMULPS(c2, gv, t)
			s.keepWhere(t, cmpNLTU, s.abs(gv), thr) // c2*g*g would be subnormal: 0
			VMULPS(gv, t, t)
			VMULPS(b2, vv, vv)
			VADDPS(t, vv, vv)
			s.flushSubnormal(vv)
			s.storeOrMasked(vv, at(v, off), k)
			// w -= lrT*m / (sqrt(v) + eps)
			VSQRTPS(vv, vv)
			VADDPS(eps, vv, vv)
			x := s.loadOrMasked(at(w, off), k)
			s.skipNegligibleSteps(mv, x, vv, lrScaled)
			VMULPS(lr, mv, mv)
			VDIVPS(vv, mv, mv)
			VSUBPS(mv, x, x)
			s.storeOrMasked(x, at(w, off), k)
		})
		ret()
	}

	s.kernel("adagrad", "(w, g, acc []float32, lr, eps float32, epsInside bool)", `
%[1]s applies one Adagrad step with %[2]s, rounding as the Go loop:

	for i := range w {
		gg := g[i]
		if abs(g[i]) < 0x1p-63 {
			gg = 0 // g*g would be subnormal
		}
		a := acc[i] + g[i]*gg
		acc[i] = a
		if epsInside {
			w[i] -= lr * g[i] / float32(math.Sqrt(float64(a+eps)))
		} else {
			w[i] -= lr * g[i] / (float32(math.Sqrt(float64(a))) + eps)
		}
	}
`)
	{
		w, g, acc, n := loadPtr("w"), loadPtr("g"), loadPtr("acc"), loadLen("w")
		lr, eps := s.broadcast(param("lr")), s.broadcast(param("eps"))
		thr := s.squareThreshold(s.cr("one"))
		s.epsForms(func(prefix string, inside bool) {
			s.stream(prefix, n, []reg.GPVirtual{w, g, acc}, s.unrollHeavy, func(off int, k *mask) {
				gv := s.loadOrMasked(at(g, off), k)
				a := s.vec()
				VMOVAPS(gv, a)
				s.keepWhere(a, cmpNLTU, s.abs(gv), thr) // g*g would be subnormal: 0
				VMULPS(gv, a, a)
				VADDPS(s.loadOrMasked(at(acc, off), k), a, a)
				s.storeOrMasked(a, at(acc, off), k)
				s.rootStep(w, off, k, gv, a, lr, eps, inside)
			})
		})
	}

	s.kernel("rmsprop", "(w, g, s []float32, lr, rho, eps float32, epsInside bool)", `
%[1]s applies one RMSprop step (no momentum) with %[2]s, storing mean squares
below the smallest normal float32 as +0 (flushSubnormal), rounding as the Go loop:

	c := 1 - rho
	thr := float32(math.Sqrt(float64(0x1p-126 / c)))
	for i := range w {
		t := c * g[i]
		if abs(g[i]) < thr {
			t = 0 // c*g*g would be subnormal
		}
		si := flushSubnormal(rho*s[i] + t*g[i])
		s[i] = si
		if epsInside {
			w[i] -= lr * g[i] / float32(math.Sqrt(float64(si+eps)))
		} else {
			w[i] -= lr * g[i] / (float32(math.Sqrt(float64(si))) + eps)
		}
	}
`)
	{
		w, g, sq, n := loadPtr("w"), loadPtr("g"), loadPtr("s"), loadLen("w")
		lr, rho, eps := s.broadcast(param("lr")), s.broadcast(param("rho")), s.broadcast(param("eps"))
		c := s.oneMinus(rho)
		thr := s.squareThreshold(c)
		s.epsForms(func(prefix string, inside bool) {
			s.stream(prefix, n, []reg.GPVirtual{w, g, sq}, s.unrollHeavy, func(off int, k *mask) {
				gv := s.loadOrMasked(at(g, off), k)
				t, sv := s.vec(), s.loadOrMasked(at(sq, off), k)
				VMULPS(c, gv, t)
				s.keepWhere(t, cmpNLTU, s.abs(gv), thr) // c*g*g would be subnormal: 0
				VMULPS(gv, t, t)
				VMULPS(rho, sv, sv)
				VADDPS(t, sv, sv)
				s.flushSubnormal(sv)
				s.storeOrMasked(sv, at(sq, off), k)
				s.rootStep(w, off, k, gv, sv, lr, eps, inside)
			})
		})
	}
}

// skipNegligibleSteps zeroes the lanes of m (Adam's updated first moment) whose
// step lrT*m/den provably leaves w unchanged while lrT*m would be a subnormal
// number. A moment decaying toward the flush threshold (a weight whose gradient has
// become zero) spends some 65 steps between 2^-126 and 2^-126/lrT, and a subnormal
// product there takes a slow microcoded path, up to ten times slower per vector on
// this machine; zeroing m first avoids it without changing any result:
//
//	|lrT*m| < 2^-126 (tested as |(lrT*2^64)*m| < 2^-62, a normal product),
//	den >= 2^-30 and |w| >= 2^-70   =>   |step| <= 2^-96 < ulp(w)/2,
//
// so w - step rounds to w, exactly what w - 0 gives. NaN lanes fail the tests and
// take the ordinary path.
func (s *isa) skipNegligibleSteps(m, w, den, lrScaled reg.VecVirtual) {
	p := s.vec()
	VMULPS(lrScaled, m, p)
	VANDPS(s.c("absmask"), p, p)
	s.zeroWhereAll(m,
		test{p, cmpLT, "p2m62"},
		test{s.abs(w), cmpGE, "p2m70"},
		test{den, cmpGE, "p2m30"},
	)
}

// epsForms emits the loop twice, for eps inside and outside the square root,
// selected once by the epsInside parameter.
func (s *isa) epsForms(loop func(prefix string, inside bool)) {
	flag := GP32()
	Load(Param("epsInside"), flag)
	TESTL(flag, flag)
	JZ(LabelRef("outside"))
	loop("inside", true)
	ret()
	Label("outside")
	loop("outside", false)
	ret()
}

// rootStep emits w -= lr*g / sqrt(a+eps) (inside) or lr*g / (sqrt(a)+eps) for the
// vector at off; a is clobbered.
func (s *isa) rootStep(w reg.GPVirtual, off int, k *mask, g, a, lr, eps reg.VecVirtual, inside bool) {
	if inside {
		VADDPS(eps, a, a)
		VSQRTPS(a, a)
	} else {
		VSQRTPS(a, a)
		VADDPS(eps, a, a)
	}
	num := s.vec()
	VMULPS(lr, g, num)
	VDIVPS(a, num, num)
	x := s.loadOrMasked(at(w, off), k)
	VSUBPS(num, x, x)
	s.storeOrMasked(x, at(w, off), k)
}
