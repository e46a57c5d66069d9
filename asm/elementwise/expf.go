package main

import (
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/reg"
)

// The vector exp:
//
//	x = clamp(x, explo, exphi)     NaN passes; -Inf -> explo, +Inf -> exphi
//	k = round(x * log2(e))
//	r = x - k*ln2                  two fused steps, ln2 = ln2hi + ln2lo
//	exp(x) = 2^k * (1 + r + r*r*Q(r))
//
// Q is the polynomial of fit.go. The final scaling rounds once, so results in the
// subnormal range are rounded correctly from the polynomial's value, exp(x) is +Inf
// for x > 88.72 and 0 for x < -103.97.
//
// Measured over every float32 with |x| <= 104 against float64 math.Exp
// (kernels/exp_amd64_test.go, both instruction sets give the same bits): at most
// 1.08 ulp where the result is a normal float32, at most 0.75 * 2^-149 where it is
// subnormal, exactly +Inf, 0 and NaN where float64 exp rounds to those. sigmoid:
// at most 2.49 ulp where the result is normal (x >= -87.3), 8.9e-8 absolute
// everywhere; tanh: at most 2.46 ulp, 8.9e-8 absolute.

// clamp sets x = min(max(x, lo), hi) with constants lo and hi, keeping NaN lanes
// NaN: VMAXPS and VMINPS return their second source operand when either is NaN, so
// x goes there.
func (s *isa) clamp(x reg.VecVirtual, lo, hi string) {
	if lo != "" {
		VMAXPS(x, s.cr(lo), x)
	}
	VMINPS(x, s.cr(hi), x)
}

// reduce returns k = round(x*log2(e)) and sets x to r = x - k*ln2.
func (s *isa) reduce(x reg.VecVirtual) reg.VecVirtual {
	k := s.vec()
	VMULPS(s.c("log2e"), x, k)
	s.round(k)
	VFNMADD231PS(s.c("ln2hi"), k, x) // exact: the fused product is not rounded
	VFNMADD231PS(s.c("ln2lo"), k, x)
	return k
}

// expm1Reduced returns r + r*r*Q(r), that is exp(r)-1, for a reduced argument r.
func (s *isa) expm1Reduced(r reg.VecVirtual) reg.VecVirtual {
	r2 := s.vec()
	VMULPS(r, r, r2)
	q := s.cr("q4")
	for _, c := range []string{"q3", "q2", "q1", "q0"} {
		VFMADD213PS(s.c(c), r, q) // q = q*r + c
	}
	VFMADD213PS(r, r2, q) // q = q*r2 + r
	return q
}

// exp returns exp(x); x is clobbered.
func (s *isa) exp(x reg.VecVirtual) reg.VecVirtual {
	s.clamp(x, "explo", "exphi")
	k := s.reduce(x)
	p := s.expm1Reduced(x)
	VADDPS(s.c("one"), p, p)
	s.scale2k(p, k)
	return p
}

// expm1 returns exp(x)-1 for x in [0, 2*tanhhi], with full relative accuracy near 0:
// exp(x)-1 = 2^k*(exp(r)-1) + (2^k-1), one rounding in the fused step. x is
// clobbered.
func (s *isa) expm1(x reg.VecVirtual) reg.VecVirtual {
	k := s.reduce(x)
	e := s.expm1Reduced(x)
	p := s.pow2(k)
	m := s.vec()
	VSUBPS(s.c("one"), p, m)
	VFMADD231PS(e, p, m) // m = p*e + m
	return m
}

// sigmoid returns 1/(1+exp(-x)); x is clobbered. For x below -88.72, exp(-x) is
// +Inf and the result 0 (the true value is below 3e-39, a subnormal).
func (s *isa) sigmoid(x reg.VecVirtual) reg.VecVirtual {
	VXORPS(s.c("signmask"), x, x)
	e := s.exp(x)
	VADDPS(s.c("one"), e, e)
	y := s.vec()
	VDIVPS(e, s.cr("one"), y)
	return y
}

// tanh returns tanh(x) = sign(x) * e/(e+2) with e = expm1(2|x|): no cancellation
// near 0 (tanh(x) = x to the last bit for tiny x, -0 stays -0), and |x| clamped to
// tanhhi, where the quotient is exactly 1. x is clobbered.
func (s *isa) tanh(x reg.VecVirtual) reg.VecVirtual {
	sign := s.vec()
	VANDPS(s.c("signmask"), x, sign)
	VANDPS(s.c("absmask"), x, x)
	s.clamp(x, "", "tanhhi")
	VADDPS(x, x, x)
	e := s.expm1(x)
	d := s.vec()
	VADDPS(s.c("two"), e, d)
	VDIVPS(d, e, e)
	VORPS(sign, e, e)
	return e
}
