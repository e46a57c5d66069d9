package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// gemmCase is one Sgemm call of the differential tests.
type gemmCase struct {
	tA, tB           bool
	m, n, k          int
	alpha, beta      float32
	padA, padB, padC int  // leading dimension minus row length, per operand
	ints             bool // small-integer data: every product and partial sum is exact
	seed             uint64
	rows             []int // the rows of C to check against the reference (nil: all)
}

func (c gemmCase) String() string {
	return fmt.Sprintf("Sgemm(%s m=%d n=%d k=%d alpha=%g beta=%g, ld padding A+%d B+%d C+%d, ints=%v seed=%d)",
		transName(c.tA, c.tB), c.m, c.n, c.k, c.alpha, c.beta, c.padA, c.padB, c.padC, c.ints, c.seed)
}

func transName(tA, tB bool) string {
	s := [2]string{"N", "T"}
	return s[b2i(tA)] + s[b2i(tB)]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// transposes are the four op(A), op(B) combinations.
var transposes = [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}

// gemmTester runs gemmCases on the current backend, reusing its buffers.
type gemmTester struct {
	a, b, c  matBuf
	ref      gemmRef
	failures int
}

// cSpecials fill C when beta is 0: none of them may reach the result.
var cSpecials = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32, float32(math.NaN())}

// powerOfTwoOrZero reports whether multiplying by x is exact for the tests' values.
func powerOfTwoOrZero(x float32) bool {
	return x == 0 || math.Float32bits(x)&0x007fffff == 0
}

// run makes the operands, computes the reference, calls Sgemm and compares. The
// bound on |got - ref| is (k+4)*eps32*mag, mag = |alpha|*sum_p |a_ip*b_pj| + |beta*c_ij|:
// twice the first-order worst case of any summation order of k rounded products
// ((k+3)*eps32/2 with alpha and beta applied, with or without FMA). With integer data
// and alpha, beta powers of two or 0 every intermediate value is exact in float32,
// so the result must equal the reference exactly, whatever the order.
func (g *gemmTester) run(c gemmCase) error {
	rng := rand.New(rand.NewPCG(c.seed, uint64(c.m)<<32|uint64(c.n)<<16|uint64(c.k)))
	val := func(int, int) float32 {
		if c.alpha == 0 {
			return float32(math.NaN()) // alpha == 0: A and B must not be read
		}
		if c.ints {
			return float32(rng.IntN(9) - 4)
		}
		return rng.Float32()*2 - 1
	}
	ar, ac := c.m, c.k
	if c.tA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.tB {
		br, bc = c.n, c.k
	}
	g.a.reset(ar, ac, max(ac, 1)+c.padA, val)
	g.b.reset(br, bc, max(bc, 1)+c.padB, val)
	g.c.reset(c.m, c.n, max(c.n, 1)+c.padC, func(i, j int) float32 {
		switch {
		case c.beta == 0: // C must be written without being read
			return cSpecials[(i*7+j)%len(cSpecials)]
		case c.ints:
			return float32(rng.IntN(17) - 8)
		}
		return rng.Float32()*2 - 1
	})
	g.a.save()
	g.b.save()
	ref, mag := g.ref.run(c.tA, c.tB, c.m, c.n, c.k, c.alpha, g.a.s, g.a.ld, g.b.s, g.b.ld, c.beta, g.c.s, g.c.ld, c.rows)

	kernels.Sgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, g.a.s, g.a.ld, g.b.s, g.b.ld, c.beta, g.c.s, g.c.ld)

	if err := g.a.checkUnchanged(); err != nil {
		return fmt.Errorf("A (read-only): %v", err)
	}
	if err := g.b.checkUnchanged(); err != nil {
		return fmt.Errorf("B (read-only): %v", err)
	}
	if err := g.c.checkOutside(); err != nil {
		return fmt.Errorf("C: %v", err)
	}
	exact := c.ints && powerOfTwoOrZero(c.alpha) && (c.beta == 0 || c.beta == 1)
	tol := float64(c.k+4) * eps32
	check := func(i int) error {
		for j := 0; j < c.n; j++ {
			got, want := float64(g.c.at(i, j)), ref[i*c.n+j]
			bound := tol * mag[i*c.n+j]
			if exact {
				bound = 0
			}
			if !closeTo(got, want, bound) {
				return fmt.Errorf("C(%d,%d) = %v, want %v (|error| %.3g > bound %.3g, scale %.3g)",
					i, j, float32(got), want, math.Abs(got-want), bound, mag[i*c.n+j])
			}
		}
		return nil
	}
	if c.rows == nil {
		for i := 0; i < c.m; i++ {
			if err := check(i); err != nil {
				return err
			}
		}
	} else {
		for _, i := range c.rows {
			if err := check(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// closeTo reports whether got is within bound of want; NaN and infinities must match
// exactly (the reference says where they belong).
func closeTo(got, want, bound float64) bool {
	if d := got - want; d <= bound && d >= -bound { // false when either is NaN or Inf
		return true
	}
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return math.IsNaN(want) && math.IsNaN(got) || got == want
	}
	return math.Abs(got-want) <= bound // false for NaN or Inf got
}

// check runs c and reports a failure; after several failing cases it stops the test,
// since one bug usually fails thousands of shapes.
func (g *gemmTester) check(t testing.TB, c gemmCase) {
	t.Helper()
	if err := g.run(c); err != nil {
		t.Errorf("%v: %v", c, err)
		if g.failures++; g.failures >= 6 {
			t.Fatalf("stopping after %d failing cases", g.failures)
		}
	}
}
