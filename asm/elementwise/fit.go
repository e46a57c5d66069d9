package main

import (
	"fmt"
	"math"
)

// The exp kernels reduce x to r = x - k*ln2 with k = round(x*log2(e)), so |r| <=
// ln2/2 (a little more, because k is computed in float32), and evaluate
//
//	exp(r) = 1 + r + r*r*Q(r)
//
// where Q approximates (exp(r)-1-r)/r^2 on [-expReduced, expReduced]. Keeping the
// first two terms exact makes exp(r) exact to the rounding of the last addition for
// small r and gives expm1 (for tanh) with full relative accuracy near 0.
const (
	expReduced = 0.3466 + 0.0005 // ln2/2 plus slack for k's float32 rounding
	expQDegree = 4               // Q's degree: exp's polynomial is of degree 6
)

// expQ holds Q's coefficients, lowest degree first, as float32 bit patterns: the
// output of fitExpQ (go run . -fit), written here so that generation never depends
// on floating-point details of the machine running it.
var expQ = [expQDegree + 1]uint32{0x3f000000, 0x3e2aaa6e, 0x3d2aaa8c, 0x3c090612, 0x3ab688e0}

// fitExpQ interpolates Q at the Chebyshev nodes of [-expReduced, expReduced] (close
// to the minimax polynomial), rounds the coefficients to float32 and reports the
// largest relative error of 1 + r + r*r*Q(r) against exp(r), evaluated in float64 on
// a fine grid: the approximation's share of the kernels' error budget.
func fitExpQ() ([expQDegree + 1]uint32, float64) {
	const n = expQDegree + 1
	q := func(r float64) float64 { // (exp(r)-1-r)/r^2 without cancellation
		if math.Abs(r) < 1e-2 {
			s, term := 0.0, 0.5
			for j := 0; j < 12; j++ {
				s += term
				term *= r / float64(j+3)
			}
			return s
		}
		return (math.Expm1(r) - r) / (r * r)
	}
	// Solve the Vandermonde system at the nodes by Gaussian elimination.
	var a [n][n + 1]float64
	for i := 0; i < n; i++ {
		r := expReduced * math.Cos(float64(2*i+1)*math.Pi/float64(2*n))
		p := 1.0
		for j := 0; j < n; j++ {
			a[i][j] = p
			p *= r
		}
		a[i][n] = q(r)
	}
	for c := 0; c < n; c++ {
		piv := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		a[c], a[piv] = a[piv], a[c]
		for r := 0; r < n; r++ {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k <= n; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	var bits [n]uint32
	var coef [n]float64
	for i := 0; i < n; i++ {
		c := float32(a[i][n] / a[i][i])
		bits[i] = math.Float32bits(c)
		coef[i] = float64(c)
	}
	worst := 0.0
	for i := -100000; i <= 100000; i++ {
		r := expReduced * float64(i) / 100000
		s := 0.0
		for j := n - 1; j >= 0; j-- {
			s = s*r + coef[j]
		}
		if e := math.Abs((1+r+r*r*s)/math.Exp(r) - 1); e > worst {
			worst = e
		}
	}
	return bits, worst
}

func printFit() {
	bits, worst := fitExpQ()
	fmt.Printf("var expQ = [expQDegree + 1]uint32{")
	for i, b := range bits {
		if i > 0 {
			fmt.Print(", ")
		}
		fmt.Printf("%#08x", b)
	}
	fmt.Printf("}\n// max relative error of the polynomial in float64: %.3g (%.3f ulp of float32)\n", worst, worst/math.Pow(2, -24))
}
