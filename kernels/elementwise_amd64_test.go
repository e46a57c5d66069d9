//go:build amd64 && !purego && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tests specific to the generated elementwise kernels (asm/elementwise), run on
// the avx2 and avx512 backends by name. The kernels that only multiply, add, divide
// and take square roots must round exactly like the Go expressions they document:
// they are compared bit for bit with references written here with explicit float32
// conversions (which forbid fused multiply-adds), at every length from 0 to three
// AVX-512 vectors + 1 and beyond, with guard bands that must stay untouched.

// forEachSIMD runs f on each generated backend by name, skipping those the machine
// lacks.
func forEachSIMD(t *testing.T, f func(t *testing.T, b *impl)) {
	for _, name := range []string{"avx2", "avx512"} {
		t.Run(name, func(t *testing.T) {
			for _, r := range registry {
				if r.impl.name != name {
					continue
				}
				if !r.available {
					t.Skipf("backend %s: %s", name, r.why)
				}
				f(t, r.impl)
				return
			}
			t.Fatalf("backend %s is not registered", name)
		})
	}
}

// ewLengths crosses every tail length of both vector widths, the unrolled loops'
// boundaries, and a few sizes of the trainer.
func ewLengths() []int {
	var ns []int
	for n := 0; n <= 3*16+1; n++ {
		ns = append(ns, n)
	}
	ns = append(ns, 63, 64, 65, 127, 128, 129, 255, 257, 600, 1000, 4099)
	if !testing.Short() {
		ns = append(ns, 64*600+7, 784*600+600)
	}
	return ns
}

const (
	ewGuard        = 40         // sentinel elements on each side of every slice
	ewSentinelBits = 0x7fa5c3e1 // a signalling NaN no arithmetic produces
)

// ewGuarded returns a slice of n elements inside a buffer of sentinels; the slice's
// capacity ends at its last element.
func ewGuarded(n int) (buf, s []float32) {
	buf = make([]float32, n+2*ewGuard)
	for i := range buf {
		buf[i] = math.Float32frombits(ewSentinelBits)
	}
	return buf, buf[ewGuard : ewGuard+n : ewGuard+n]
}

// ewCheckGuards reports a ewGuard element that is no longer the sentinel.
func ewCheckGuards(buf []float32, n int) error {
	for i, v := range buf {
		if i >= ewGuard && i < ewGuard+n {
			continue
		}
		if math.Float32bits(v) != ewSentinelBits {
			return fmt.Errorf("guard element %d (slice of %d at %d) was written: %v", i, n, ewGuard, v)
		}
	}
	return nil
}

// sameBits reports whether a and b are the sameBits float32 (bit for bit, any NaN matching
// any NaN: which operand's payload a NaN result carries depends on operand order).
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// ewSpecials are mixed into the random data: zeros of both signs, infinities, NaN,
// subnormals, the limits of the normal range.
var ewSpecials = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
	1e-40, -1e-40, 0x1p-126, -0x1p-126, 1.1e-38, math.MaxFloat32, -math.MaxFloat32, 1e-20, -3e-23,
}

// value draws a float32: mostly uniform in [-scale, scale], sometimes a special.
func ewValue(r *rand.Rand, scale float32, withSpecials bool) float32 {
	if withSpecials && r.IntN(8) == 0 {
		return ewSpecials[r.IntN(len(ewSpecials))]
	}
	return (2*r.Float32() - 1) * scale
}

// streamCase is one kernel over k slices of equal length: ref computes the expected
// contents of every slice afterwards, in place.
type streamCase struct {
	name   string
	slices int
	gen    func(r *rand.Rand, k int) float32 // value of slice k
	run    func(b *impl, s [][]float32)
	ref    func(s [][]float32)
	// close, when set, replaces the bit-for-bit comparison (sigmoid, tanh).
	close func(got, want float32) bool
}

func toF32(x float64) float32 { return float32(x) }

func sqrt32r(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func flush32(x float32) float32 {
	if math.Float32bits(x)&0x7fffffff < 0x00800000 {
		return 0
	}
	return x
}

// The optimizer constants of the tests: Keras's defaults, and a bias-corrected
// Adam learning rate of a late step.
const (
	tLR, tB1, tB2, tEps, tRho = float32(0.001), float32(0.9), float32(0.999), float32(1e-7), float32(0.9)
	tLRT                      = float32(0.00123)
)

// refAdam is Adam's step on s = {w, g, m, v}, rounded as the API documents.
func refAdam(s [][]float32, lrT, eps float32) {
	w, g, m, v := s[0], s[1], s[2], s[3]
	c1, c2 := 1-tB1, 1-tB2
	thr := sqrt32r(0x1p-126 / c2) // the API: a subnormal c2*g*g counts as 0
	for i := range w {
		mi := flush32(float32(tB1*m[i]) + float32(c1*g[i]))
		t := float32(c2 * g[i])
		if math.Abs(float64(g[i])) < float64(thr) {
			t = 0
		}
		vi := flush32(float32(tB2*v[i]) + float32(t*g[i]))
		m[i], v[i] = mi, vi
		w[i] -= float32(lrT*mi) / (sqrt32r(vi) + eps)
	}
}

func streamCases() []streamCase {
	anyv := func(r *rand.Rand, _ int) float32 { return ewValue(r, 4, true) }
	nonneg := func(r *rand.Rand, k int) float32 { return float32(math.Abs(float64(ewValue(r, 4, true)))) }
	unit := func(r *rand.Rand, k int) float32 { return ewValue(r, 1, true) }
	actClose := func(got, want float32) bool {
		return got == want || (got != got && want != want) || math.Abs(float64(got)-float64(want)) <= 1e-6
	}
	cases := []streamCase{
		{name: "relu", slices: 2, gen: anyv,
			run: func(b *impl, s [][]float32) { b.relu(s[0], s[1]) },
			ref: func(s [][]float32) {
				for i, x := range s[1] {
					if x < 0 {
						x = 0
					}
					s[0][i] = x
				}
			}},
		{name: "relu/inplace", slices: 1, gen: anyv,
			run: func(b *impl, s [][]float32) { b.relu(s[0], s[0]) },
			ref: func(s [][]float32) {
				for i, x := range s[0] {
					if x < 0 {
						s[0][i] = 0
					}
				}
			}},
		{name: "sigmoid", slices: 2, gen: func(r *rand.Rand, _ int) float32 { return ewValue(r, 30, true) }, close: actClose,
			run: func(b *impl, s [][]float32) { b.sigmoid(s[0], s[1]) },
			ref: func(s [][]float32) {
				for i, x := range s[1] {
					s[0][i] = toF32(1 / (1 + math.Exp(-float64(x))))
				}
			}},
		{name: "tanh/inplace", slices: 1, gen: func(r *rand.Rand, _ int) float32 { return ewValue(r, 12, true) }, close: actClose,
			run: func(b *impl, s [][]float32) { b.tanh(s[0], s[0]) },
			ref: func(s [][]float32) {
				for i, x := range s[0] {
					s[0][i] = toF32(math.Tanh(float64(x)))
				}
			}},
		{name: "reluGrad", slices: 3, gen: anyv,
			run: func(b *impl, s [][]float32) { b.reluGrad(s[0], s[1], s[2]) },
			ref: func(s [][]float32) {
				for i, y := range s[2] {
					if y > 0 {
						s[0][i] = s[1][i]
					} else {
						s[0][i] = 0
					}
				}
			}},
		{name: "sigmoidGrad/inplace", slices: 2, gen: unit,
			run: func(b *impl, s [][]float32) { b.sigmoidGrad(s[0], s[0], s[1]) },
			ref: func(s [][]float32) {
				for i, y := range s[1] {
					s[0][i] = float32(s[0][i]*y) * float32(1-y)
				}
			}},
		{name: "tanhGrad", slices: 3, gen: unit,
			run: func(b *impl, s [][]float32) { b.tanhGrad(s[0], s[1], s[2]) },
			ref: func(s [][]float32) {
				for i, y := range s[2] {
					s[0][i] = s[1][i] * (1 - float32(y*y))
				}
			}},
		{name: "sgd", slices: 2, gen: anyv,
			run: func(b *impl, s [][]float32) { b.sgd(s[0], s[1], tLR) },
			ref: func(s [][]float32) {
				for i, g := range s[1] {
					s[0][i] -= float32(tLR * g)
				}
			}},
		{name: "adam", slices: 4, gen: func(r *rand.Rand, k int) float32 {
			if k == 3 { // v >= 0
				return nonneg(r, k)
			}
			return anyv(r, k)
		},
			run: func(b *impl, s [][]float32) { b.adam(s[0], s[1], s[2], s[3], tLRT, tB1, tB2, tEps) },
			ref: func(s [][]float32) { refAdam(s, tLRT, tEps) }},
		// Adam with decaying moments (zero or tiny gradients, m between 2^-126 and
		// 2^-116, where lrT*m is subnormal): the kernel's shortcut for steps that
		// cannot move w must give the same bits, including for tiny w and v = 0.
		{name: "adam/decaying", slices: 4, gen: func(r *rand.Rand, k int) float32 {
			switch k {
			case 0: // w: mostly normal, sometimes tiny, subnormal, zero, NaN
				if r.IntN(4) == 0 {
					return ewSpecials[r.IntN(len(ewSpecials))] * float32(math.Pow(2, -float64(r.IntN(100))))
				}
				return ewValue(r, 2, false)
			case 1: // g: mostly 0
				if r.IntN(4) == 0 {
					return ewValue(r, 1e-20, true)
				}
				return 0
			case 2: // m: log-uniform in [2^-127, 2^-112], both signs
				m := float32(math.Pow(2, -112-15*r.Float64()))
				if r.IntN(2) == 0 {
					m = -m
				}
				return m
			}
			if r.IntN(3) == 0 { // v: zero or small
				return 0
			}
			return float32(math.Pow(2, -20-120*r.Float64()))
		},
			run: func(b *impl, s [][]float32) { b.adam(s[0], s[1], s[2], s[3], tLRT, tB1, tB2, tEps) },
			ref: func(s [][]float32) { refAdam(s, tLRT, tEps) }},
		{name: "adam/decaying/eps0", slices: 4, gen: func(r *rand.Rand, k int) float32 {
			if k == 2 {
				return float32(math.Pow(2, -112-15*r.Float64()))
			}
			if k == 3 && r.IntN(2) == 0 {
				return 0 // with eps = 0: 0/0 steps must stay NaN
			}
			return ewValue(r, 1e-10, true)
		},
			run: func(b *impl, s [][]float32) { b.adam(s[0], s[1], s[2], s[3], tLRT, tB1, tB2, 0) },
			ref: func(s [][]float32) { refAdam(s, tLRT, 0) }},
	}
	for _, inside := range []bool{true, false} {
		suffix := "/epsOutside"
		if inside {
			suffix = "/epsInside"
		}
		cases = append(cases,
			streamCase{name: "adagrad" + suffix, slices: 3, gen: func(r *rand.Rand, k int) float32 {
				if k == 2 {
					return nonneg(r, k)
				}
				return anyv(r, k)
			},
				run: func(b *impl, s [][]float32) { b.adagrad(s[0], s[1], s[2], tLR, tEps, inside) },
				ref: func(s [][]float32) {
					w, g, acc := s[0], s[1], s[2]
					for i := range w {
						gg := g[i]
						if math.Abs(float64(gg)) < 0x1p-63 { // the API: a subnormal g*g counts as 0
							gg = 0
						}
						a := acc[i] + float32(g[i]*gg)
						acc[i] = a
						if inside {
							w[i] -= float32(tLR*g[i]) / sqrt32r(a+tEps)
						} else {
							w[i] -= float32(tLR*g[i]) / (sqrt32r(a) + tEps)
						}
					}
				}},
			streamCase{name: "rmsprop" + suffix, slices: 3, gen: func(r *rand.Rand, k int) float32 {
				if k == 2 {
					return nonneg(r, k)
				}
				return anyv(r, k)
			},
				run: func(b *impl, s [][]float32) { b.rmsprop(s[0], s[1], s[2], tLR, tRho, tEps, inside) },
				ref: func(s [][]float32) {
					w, g, sq := s[0], s[1], s[2]
					c := 1 - tRho
					thr := sqrt32r(0x1p-126 / c) // the API: a subnormal c*g*g counts as 0
					for i := range w {
						t := float32(c * g[i])
						if math.Abs(float64(g[i])) < float64(thr) {
							t = 0
						}
						si := flush32(float32(tRho*sq[i]) + float32(t*g[i]))
						sq[i] = si
						if inside {
							w[i] -= float32(tLR*g[i]) / sqrt32r(si+tEps)
						} else {
							w[i] -= float32(tLR*g[i]) / (sqrt32r(si) + tEps)
						}
					}
				}},
		)
	}
	return cases
}

// TestStreamKernels runs every streaming kernel at every test length against its
// reference: bit for bit (sigmoid and tanh within 1e-6), ewGuard bands untouched.
func TestStreamKernels(t *testing.T) {
	forEachSIMD(t, func(t *testing.T, b *impl) {
		for _, c := range streamCases() {
			t.Run(c.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(1, uint64(len(c.name))))
				for _, n := range ewLengths() {
					bufs := make([][]float32, c.slices)
					got := make([][]float32, c.slices)
					want := make([][]float32, c.slices)
					for k := range c.slices {
						bufs[k], got[k] = ewGuarded(n)
						want[k] = make([]float32, n)
						for i := range n {
							got[k][i] = c.gen(r, k)
						}
						copy(want[k], got[k])
					}
					c.run(b, got)
					c.ref(want)
					for k := range c.slices {
						if err := ewCheckGuards(bufs[k], n); err != nil {
							t.Fatalf("n=%d slice %d: %v", n, k, err)
						}
						for i := range n {
							ok := sameBits(got[k][i], want[k][i])
							if c.close != nil {
								ok = c.close(got[k][i], want[k][i])
							}
							if !ok {
								t.Fatalf("n=%d slice %d element %d: got %v (%#08x), want %v (%#08x)",
									n, k, i, got[k][i], math.Float32bits(got[k][i]), want[k][i], math.Float32bits(want[k][i]))
							}
						}
					}
				}
			})
		}
	})
}

// ewMatrixShapes are the m x n x ld shapes of the bias and column-sum tests: every
// column tail of both widths, the colSums block boundaries (8 vectors), padded rows.
func ewMatrixShapes() [][3]int {
	var shapes [][3]int
	for _, m := range []int{1, 2, 3, 7} {
		for n := 1; n <= 3*16+1; n++ {
			shapes = append(shapes, [3]int{m, n, n}, [3]int{m, n, n + 3})
		}
		for _, n := range []int{63, 64, 65, 127, 128, 129, 136, 200, 257, 600} {
			shapes = append(shapes, [3]int{m, n, n}, [3]int{m, n, n + 17})
		}
	}
	return append(shapes, [3]int{64, 600, 600}, [3]int{64, 10, 16}, [3]int{512, 200, 200}, [3]int{33, 784, 800})
}

// TestAddBiasColSums checks addBias and colSums bit for bit against the Go loops
// (colSums adds the rows in order), the row padding and ewGuard bands untouched.
func TestAddBiasColSums(t *testing.T) {
	forEachSIMD(t, func(t *testing.T, b *impl) {
		r := rand.New(rand.NewPCG(2, 3))
		for _, sh := range ewMatrixShapes() {
			m, n, ld := sh[0], sh[1], sh[2]
			size := (m-1)*ld + n
			xbuf, x := ewGuarded(size)
			want := make([]float32, size)
			for i := range m {
				for j := range n {
					x[i*ld+j] = ewValue(r, 10, true)
				}
			}
			copy(want, x)
			bbuf, bias := ewGuarded(n)
			for j := range bias {
				bias[j] = ewValue(r, 10, true)
			}
			sbuf, sums := ewGuarded(n)

			b.colSums(m, n, x, ld, sums)
			for j := range n {
				s := x[j]
				for i := 1; i < m; i++ {
					s += x[i*ld+j]
				}
				if !sameBits(sums[j], s) {
					t.Fatalf("colSums %dx%d ld %d: column %d = %v, want %v", m, n, ld, j, sums[j], s)
				}
			}
			if err := ewCheckGuards(sbuf, n); err != nil {
				t.Fatalf("colSums %dx%d ld %d: %v", m, n, ld, err)
			}

			b.addBias(m, n, x, ld, bias)
			for i := range m {
				for j := range n {
					want[i*ld+j] += bias[j]
				}
			}
			for e := range x {
				if e%ld >= n { // row padding
					if math.Float32bits(x[e]) != ewSentinelBits {
						t.Fatalf("addBias %dx%d ld %d: padding element %d was written", m, n, ld, e)
					}
					continue
				}
				if !sameBits(x[e], want[e]) {
					t.Fatalf("addBias %dx%d ld %d: element %d = %v, want %v", m, n, ld, e, x[e], want[e])
				}
			}
			for _, c := range []struct {
				buf []float32
				n   int
			}{{xbuf, size}, {bbuf, n}} {
				if err := ewCheckGuards(c.buf, c.n); err != nil {
					t.Fatalf("addBias %dx%d ld %d: %v", m, n, ld, err)
				}
			}
		}
	})
}
