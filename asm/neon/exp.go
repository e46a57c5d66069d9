package main

import (
	"fmt"
	"math"
)

// The vector exp, and sigmoid and tanh built on it:
//
//	k = round(x * log2(e))                 FRINTN, ties to even
//	r = x - k*ln2                          two fused steps, ln2 = ln2hi + ln2lo, |r| <= ~ln2/2
//	exp(r) - 1 = r + r*r*Q(r)              Q(r) = sum over j <= 5 of r^j/(j+2)!
//	exp(x) = 2^k * (1 + (exp(r) - 1))      2^k added to the exponent field as an integer
//
// Q is the Taylor series of (exp(r)-1-r)/r^2 cut after r^5: for |r| <= 0.35 the first
// term left out, r^6/8!, is below 5e-8 of the r*r*Q(r) term's size, well under
// float32 rounding, so the error is that of the float32 evaluation (measured by the
// tests). Keeping r apart from r*r*Q(r) keeps exp(r)-1 accurate to a few ulps
// relative even for tiny r, which tanh needs near 0.
//
// Range: the result is +Inf for x > expHi (the largest float32 whose exp is finite)
// when the caller asks for it, else exp(expHi); it is 0 for x < expLo = ln(2^-126),
// whose true results are subnormal (below 1.2e-38): they are flushed rather than
// rounded. NaN gives NaN (FMIN passes NaN on; the integer step leaves NaN's
// exponent field all ones).

const (
	qDegree = 5
	tanhHi  = 10 // tanh(10) = 1 - 4e-9 rounds to 1: |x| beyond it gives +-1 exactly
)

var (
	// expHi is the largest float32 x with exp(x) <= MaxFloat32 after rounding.
	expHi = lastBelow(math.Log(math.MaxFloat32))
	// expLo is the smallest float32 x with exp(x) >= 2^-126, the smallest normal.
	expLo = -lastBelow(-math.Log(0x1p-126))
)

// lastBelow returns the largest float32 not above v (v > 0).
func lastBelow(v float64) float32 {
	f := float32(v)
	if float64(f) > v {
		f = math.Nextafter32(f, 0)
	}
	return f
}

func fact(n int) float64 {
	f := 1.0
	for i := 2; i <= n; i++ {
		f *= float64(i)
	}
	return f
}

// expConsts are the constant registers the exp kernels share.
type expConsts struct {
	hi, lo, log2e, ln2hi, ln2lo, one, inf V
	q                                     [qDegree + 1]V
}

func newExpConsts(r *Regs) *expConsts {
	const ln2hi = 0.693359375 // 355/512: k*ln2hi is exact for |k| < 2^15
	c := &expConsts{
		hi:    r.ConstF(expHi),
		lo:    r.ConstF(expLo),
		log2e: r.ConstF(float32(math.Log2E)),
		ln2hi: r.ConstF(ln2hi),
		ln2lo: r.ConstF(float32(math.Ln2 - ln2hi)),
		one:   r.ConstF(1),
		inf:   r.ConstF(float32(math.Inf(1))),
	}
	for j := range c.q {
		c.q[j] = r.ConstF(float32(1 / fact(j+2)))
	}
	return c
}

// reduce sets k = round(y*log2(e)) into a new register and y to r = y - k*ln2.
func (c *expConsts) reduce(s *Seq, r *Regs, y V) (k V) {
	k = r.Temp()
	s.W(FMUL(k, y, c.log2e))
	s.W(FRINTN(k, k))
	s.I("VFMLS %s, %s, %s", c.ln2hi.S4(), k.S4(), y.S4()) // y -= k*ln2hi, exact
	s.I("VFMLS %s, %s, %s", c.ln2lo.S4(), k.S4(), y.S4()) // y -= k*ln2lo
	return k
}

// expm1Reduced sets r to exp(r)-1 = r + r*r*Q(r).
func (c *expConsts) expm1Reduced(s *Seq, r *Regs, x V) {
	r2, acc, t := r.Temp(), r.Temp(), r.Temp()
	s.W(FMUL(r2, x, x))
	s.I("VMOV %s, %s", c.q[qDegree-1].B16(), acc.B16())
	s.I("VFMLA %s, %s, %s", c.q[qDegree].S4(), x.S4(), acc.S4()) // acc = q4 + q5*r
	for j := qDegree - 2; j >= 0; j-- {
		s.I("VMOV %s, %s", c.q[j].B16(), t.B16())
		s.I("VFMLA %s, %s, %s", acc.S4(), x.S4(), t.S4()) // t = q_j + acc*r
		acc, t = t, acc
	}
	s.I("VFMLA %s, %s, %s", acc.S4(), r2.S4(), x.S4()) // r += r*r*Q(r)
}

// scale2k adds k (integral floats) to the exponent of p: p *= 2^k, exact while the
// result is normal.
func scale2k(s *Seq, p, k V) {
	s.W(FCVTZS(k, k))
	s.I("VSHL $23, %s, %s", k.S4(), k.S4())
	s.I("VADD %s, %s, %s", k.S4(), p.S4(), p.S4())
}

// exp returns a new register holding exp(x); x is kept. With overflowInf, x above
// expHi gives +Inf; without, exp(expHi).
func (c *expConsts) exp(s *Seq, r *Regs, x V, overflowInf bool) V {
	y := r.Temp()
	s.W(FMIN(y, x, c.hi)) // NaN stays NaN, +Inf becomes expHi
	k := c.reduce(s, r, y)
	c.expm1Reduced(s, r, y)
	s.W(FADD(y, y, c.one))
	scale2k(s, y, k)
	s.W(FCMGT(k, c.lo, x)) // x < expLo, -Inf included: the result is flushed to 0
	s.W(BIC(y, y, k))
	if overflowInf {
		s.W(FCMGT(k, x, c.hi))
		s.I("VBIT %s, %s, %s", k.B16(), c.inf.B16(), y.B16()) // y = +Inf where x > expHi
	}
	return y
}

// sigmoid returns a new register holding 1/(1+exp(-x)): exactly 0 at -Inf (exp(-x)
// is +Inf below -expHi) and 1 once exp(-x) is below half an ulp of 1.
func (c *expConsts) sigmoid(s *Seq, r *Regs, x V) V {
	nx := r.Temp()
	s.W(FNEG(nx, x))
	e := c.exp(s, r, nx, true)
	s.W(FADD(e, e, c.one))
	s.W(FDIV(nx, c.one, e))
	return nx
}

// tanh returns a new register holding tanh(x) = sign(x) * m/(m+2), m = expm1(2|x|):
// no cancellation near 0 (m is accurate relative to 2|x|), exactly +-1 from
// |x| = tanhHi on (m/(m+2) rounds to 1 there), -0 for -0.
func (c *expConsts) tanh(s *Seq, r *Regs, x V, two, sign, hi V) V {
	y := r.Temp()
	s.W(FABS(y, x))
	s.W(FMIN(y, y, hi)) // NaN stays NaN
	s.W(FADD(y, y, y))  // 2|x|, exact
	k := c.reduce(s, r, y)
	c.expm1Reduced(s, r, y) // y = exp(r)-1
	p := r.Temp()
	s.I("VMOV %s, %s", c.one.B16(), p.B16())
	scale2k(s, p, k) // p = 2^k
	m := r.Temp()
	s.W(FSUB(m, p, c.one))                          // 2^k - 1, exact
	s.I("VFMLA %s, %s, %s", p.S4(), y.S4(), m.S4()) // m = 2^k*(exp(r)-1) + 2^k - 1 = expm1(2|x|)
	s.W(FADD(p, m, two))
	s.W(FDIV(m, m, p))
	s.I("VBIT %s, %s, %s", sign.B16(), x.B16(), m.B16()) // copy x's sign bit
	return m
}

func init() {
	if expLo > -87.33 || expLo < -87.34 || expHi < 88.72 || expHi > 88.73 {
		panic(fmt.Sprintf("neon: exp range [%v, %v] is off", expLo, expHi))
	}
}
