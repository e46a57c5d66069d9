//go:build amd64 && !purego && !noasm

package kernels

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// The exhaustive accuracy tests of the generated vector exp and of the sigmoid and
// tanh built on it, for each instruction set by name. They call the assembly
// directly (expAVX2 exists for this test), visit every float32 of the working
// range (every 63rd under -short) and compare with float64 math.

// expKernels are the generated kernels of one instruction set under test.
type expKernels struct {
	name               string
	ok                 bool
	exp, sigmoid, tanh func(dst, src []float32)
}

func expSets() []expKernels {
	avx2 := cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3)
	avx512 := avx2 && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL)
	return []expKernels{
		{"avx2", avx2, expAVX2, sigmoidAVX2, tanhAVX2},
		{"avx512", avx512, expAVX512, sigmoidAVX512, tanhAVX512},
	}
}

// ulpOf is the spacing of float32 numbers at the magnitude of the exact value r
// (its binade's, so an error is never measured against the larger spacing of the
// binade r rounds into): 2^(e-24) for |r| in [2^(e-1), 2^e), 2^-149 for subnormals.
func ulpOf(r float64) float64 {
	b := math.Float64bits(r) & 0x7ff0000000000000 // 2^e for |r| in [2^e, 2^(e+1))
	if b < 0x3810000000000000 {                   // below 2^-126
		return 0x1p-149
	}
	return math.Float64frombits(b) * 0x1p-23
}

// errStats accumulates the largest error of a function over the inputs visited.
type errStats struct {
	inputs   int64
	maxUlp   float64 // relative, in ulps, where the exact value is a normal float32
	ulpX     float32
	maxAbs   float64 // absolute, everywhere finite
	absX     float32
	maxSub   float64 // absolute, in units of 2^-149, where the exact value is subnormal
	subX     float32
	failures []string
	nfail    int64
}

func (s *errStats) fail(format string, args ...any) {
	s.nfail++
	if len(s.failures) < 10 {
		s.failures = append(s.failures, fmt.Sprintf(format, args...))
	}
}

func (s *errStats) merge(o *errStats) {
	s.inputs += o.inputs
	if o.maxUlp > s.maxUlp {
		s.maxUlp, s.ulpX = o.maxUlp, o.ulpX
	}
	if o.maxAbs > s.maxAbs {
		s.maxAbs, s.absX = o.maxAbs, o.absX
	}
	if o.maxSub > s.maxSub {
		s.maxSub, s.subX = o.maxSub, o.subX
	}
	s.nfail += o.nfail
	for _, f := range o.failures {
		if len(s.failures) < 10 {
			s.failures = append(s.failures, f)
		}
	}
}

// measure records the error of y against the exact value ref for input x and
// returns it in ulps of ref (in units of 2^-149 where ref is subnormal).
func (s *errStats) measure(x, y float32, ref float64) float64 {
	d := math.Abs(float64(y) - ref)
	if d > s.maxAbs {
		s.maxAbs, s.absX = d, x
	}
	u := d / ulpOf(ref)
	if math.Abs(ref) >= expMinNormal {
		if u > s.maxUlp {
			s.maxUlp, s.ulpX = u, x
		}
	} else if u > s.maxSub {
		s.maxSub, s.subX = u, x
	}
	return u
}

const expMinNormal = 0x1p-126

// sweepSpec is one function's exhaustive test.
type sweepSpec struct {
	to  uint32                // every float32 whose magnitude's bits are <= to
	ref func(float64) float64 // the exact value, in float64
	// Below tinyBelow (magnitude bits) the correctly rounded result is known
	// without computing ref: tinyConst, or x itself when tinyIdentity.
	tinyBelow    uint32
	tinyConst    float32
	tinyIdentity bool
	// check measures a result that is not the correctly rounded one and decides
	// whether it fails.
	check func(st *errStats, x, y float32, ref float64)
}

// sweep runs each kernel on every float32 of sp's range (every stride-th
// magnitude, both signs), in chunks spread over the CPUs, and returns each
// kernel's statistics. A result equal to the exact value rounded to float32 is
// correct (within half an ulp) and only counted; any other goes to sp.check. Most
// results are correctly rounded, and the reference of a chunk is computed once for
// all kernels, so the test's time goes to the reference and the kernels.
func sweep(sp sweepSpec, stride uint32, kernels []func(dst, src []float32)) []errStats {
	const chunk = 1 << 16
	workers := runtime.GOMAXPROCS(0)
	all := make([][]errStats, workers)
	var wg sync.WaitGroup
	total := uint64(sp.to)/uint64(stride) + 1 // magnitudes visited
	for w := range workers {
		all[w] = make([]errStats, len(kernels))
		wg.Add(1)
		go func() {
			defer wg.Done()
			xs := make([]float32, 2*chunk)
			ys := make([][]float32, len(kernels))
			for k := range ys {
				ys[k] = make([]float32, 2*chunk)
			}
			for c := uint64(w) * chunk; c < total; c += uint64(workers) * chunk {
				hi := min(c+chunk, total)
				n := 0
				for i := c; i < hi; i++ {
					u := uint32(i * uint64(stride))
					xs[n], xs[n+1] = math.Float32frombits(u), math.Float32frombits(u|1<<31)
					n += 2
				}
				tiny := (hi-1)*uint64(stride) < uint64(sp.tinyBelow)
				for k, kernel := range kernels {
					kernel(ys[k][:n], xs[:n])
					st := &all[w][k]
					st.inputs += int64(n)
					if !tiny {
						continue
					}
					for i, x := range xs[:n] {
						want := sp.tinyConst
						if sp.tinyIdentity {
							want = x
						}
						if y := ys[k][i]; math.Float32bits(y) != math.Float32bits(want) {
							sp.check(st, x, y, sp.ref(float64(x)))
						}
					}
				}
				if tiny {
					continue
				}
				for i, x := range xs[:n] {
					r := sp.ref(float64(x))
					r32 := float32(r)
					for k := range kernels {
						if y := ys[k][i]; y != r32 {
							sp.check(&all[w][k], x, y, r)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	for w := 1; w < workers; w++ {
		for k := range kernels {
			all[0][k].merge(&all[w][k])
		}
	}
	return all[0]
}

func exhaustiveStride() uint32 {
	if testing.Short() {
		return 63 // odd: every residue of the low mantissa bits is still visited
	}
	return 1
}

// expRef is exp(x) in float64; below 2^-10 the Taylor polynomial, exact to far
// below float32 resolution there and much cheaper.
func expRef(x float64) float64 {
	if math.Abs(x) < 0x1p-10 {
		return 1 + x*(1+x*(1./2+x*(1./6+x*(1./24))))
	}
	return math.Exp(x)
}

func sigmoidRef64(x float64) float64 {
	if math.Abs(x) < 0x1p-10 {
		x2 := x * x
		return 0.5 + x*(1./4+x2*(-1./48+x2*(1./480)))
	}
	return 1 / (1 + math.Exp(-x))
}

func tanhRef64(x float64) float64 {
	if math.Abs(x) < 0x1p-10 {
		x2 := x * x
		return x * (1 + x2*(-1./3+x2*(2./15)))
	}
	return math.Tanh(x)
}

// The bounds this file asserts and the package documents.
const (
	expMaxUlp     = 2    // exp, where the result is a normal float32
	expMaxSubUlp  = 1    // exp, absolute in units of 2^-149 where it is subnormal
	actMaxAbs     = 1e-6 // sigmoid and tanh, absolute, everywhere
	sigmoidMaxUlp = 3    // relative, where the result is a normal float32 >= 3e-39
	tanhMaxUlp    = 3    // relative, everywhere the result is normal
)

// runSweep runs sp over the kernel pick chooses from each instruction set the
// machine has, and reports each in a subtest named after the backend.
func runSweep(t *testing.T, fn string, sp sweepSpec, pick func(expKernels) func(dst, src []float32), special map[float32]float32) {
	var sets []expKernels
	var kernels []func(dst, src []float32)
	for _, k := range expSets() {
		if k.ok {
			sets = append(sets, k)
			kernels = append(kernels, pick(k))
		}
	}
	stats := sweep(sp, exhaustiveStride(), kernels)
	for _, k := range expSets() {
		t.Run(k.name, func(t *testing.T) {
			i := slices.IndexFunc(sets, func(s expKernels) bool { return s.name == k.name })
			if i < 0 {
				t.Skipf("the CPU or OS lacks %s", k.name)
			}
			reportErrors(t, fn, &stats[i])
			checkSpecial(t, fn, pick(k), special)
		})
	}
}

func reportErrors(t *testing.T, fn string, st *errStats) {
	t.Logf("%s: %d inputs; max error %.3f ulp (x = %v) where normal, %.3g absolute (x = %v), %.3f x 2^-149 where subnormal (x = %v)",
		fn, st.inputs, st.maxUlp, st.ulpX, st.maxAbs, st.absX, st.maxSub, st.subX)
	for _, f := range st.failures {
		t.Error(f)
	}
	if st.nfail > int64(len(st.failures)) {
		t.Errorf("... %d failures in all", st.nfail)
	}
}

// TestExpExhaustive checks exp over its working range, every float32 with |x| <=
// 104 (beyond it the result is 0 or +Inf, checked too): within expMaxUlp where the
// exact value is a normal float32, exactly +Inf where it rounds above the largest
// float32 and exactly 0 where it rounds to 0, within one subnormal spacing between.
// Below 2^-25 in magnitude the correctly rounded result is exactly 1.
func TestExpExhaustive(t *testing.T) {
	runSweep(t, "exp", sweepSpec{
		to: math.Float32bits(104), ref: expRef,
		tinyBelow: math.Float32bits(0x1p-25), tinyConst: 1,
		check: func(st *errStats, x, y float32, ref float64) {
			r32 := float32(ref)
			switch {
			case math.IsInf(float64(r32), 1):
				if !math.IsInf(float64(y), 1) {
					st.fail("exp(%v) = %v, want +Inf (exact %g)", x, y, ref)
				}
			case r32 == 0:
				if y != 0 {
					st.fail("exp(%v) = %v, want 0 (exact %g)", x, y, ref)
				}
			default:
				u := st.measure(x, y, ref)
				if (ref >= expMinNormal && u > expMaxUlp) || (ref < expMinNormal && u > expMaxSubUlp) || y != y {
					st.fail("exp(%v) = %v, want %.9g (error %.3g ulp)", x, y, ref, u)
				}
			}
		},
	}, func(k expKernels) func(dst, src []float32) { return k.exp }, map[float32]float32{
		inf32(1): inf32(1), inf32(-1): 0, 0: 1, negZero(): 1, 89: inf32(1), -104: 0,
		math.MaxFloat32: inf32(1), -math.MaxFloat32: 0,
	})
}

// TestSigmoidAccuracy checks sigmoid over every float32 with |x| <= 104, beyond
// which it is exactly 0 or 1: within actMaxAbs absolute everywhere and within
// sigmoidMaxUlp where the result is normal and at least 3e-39 (below, exp(-x)
// overflows and the result is 0: an absolute error under 3e-39). Below 2^-24 in
// magnitude the correctly rounded result is exactly 0.5.
func TestSigmoidAccuracy(t *testing.T) {
	runSweep(t, "sigmoid", sweepSpec{
		to: math.Float32bits(104), ref: sigmoidRef64,
		tinyBelow: math.Float32bits(0x1p-24), tinyConst: 0.5,
		check: func(st *errStats, x, y float32, ref float64) {
			if x >= 18 && y != 1 || x <= -88.8 && y != 0 {
				st.fail("sigmoid(%v) = %v, want exactly %v", x, y, float32(ref))
				return
			}
			if x < -87.3 { // result subnormal or flushed: absolute error only
				if d := math.Abs(float64(y) - ref); d > 3e-39 {
					st.fail("sigmoid(%v) = %v, want %.9g", x, y, ref)
				}
				return
			}
			u := st.measure(x, y, ref)
			if u > sigmoidMaxUlp || math.Abs(float64(y)-ref) > actMaxAbs || y != y {
				st.fail("sigmoid(%v) = %v, want %.9g (error %.3g ulp)", x, y, ref, u)
			}
		},
	}, func(k expKernels) func(dst, src []float32) { return k.sigmoid }, map[float32]float32{
		inf32(1): 1, inf32(-1): 0, 0: 0.5, negZero(): 0.5, 200: 1, -200: 0,
		math.MaxFloat32: 1, -math.MaxFloat32: 0,
	})
}

// TestTanhAccuracy checks tanh over every float32 with |x| <= 10 (beyond, exactly
// +-1): within actMaxAbs absolute and tanhMaxUlp relative everywhere the result is
// normal. Below 2^-12 in magnitude tanh(x) rounds to x itself (the shortcut of the
// sweep); the kernel's x(1+x) may be an ulp above, which is measured, but below
// 2^-25 (-0 and subnormals included) it must be x exactly.
func TestTanhAccuracy(t *testing.T) {
	runSweep(t, "tanh", sweepSpec{
		to: math.Float32bits(10), ref: tanhRef64,
		tinyBelow: math.Float32bits(0x1p-12), tinyIdentity: true,
		check: func(st *errStats, x, y float32, ref float64) {
			if math.Abs(float64(x)) >= 9.5 && y != float32(ref) {
				st.fail("tanh(%v) = %v, want exactly %v", x, y, float32(ref))
				return
			}
			u := st.measure(x, y, ref)
			if math.Abs(float64(x)) < 0x1p-25 || math.Abs(ref) < expMinNormal {
				st.fail("tanh(%v) = %v, want %v (x itself)", x, y, x)
				return
			}
			if u > tanhMaxUlp || math.Abs(float64(y)-ref) > actMaxAbs || y != y {
				st.fail("tanh(%v) = %v, want %.9g (error %.3g ulp)", x, y, ref, u)
			}
		},
	}, func(k expKernels) func(dst, src []float32) { return k.tanh }, map[float32]float32{
		inf32(1): 1, inf32(-1): -1, 0: 0, negZero(): negZero(), 10: 1, -10: -1,
		math.MaxFloat32: 1, -math.MaxFloat32: -1,
	})
}

// checkSpecial checks exact results (bits, so -0 differs from 0) and that NaN gives
// NaN, each input alone in a slice so the tail path is used too.
func checkSpecial(t *testing.T, fn string, kernel func(dst, src []float32), want map[float32]float32) {
	t.Helper()
	x := make([]float32, 1)
	y := make([]float32, 1)
	for in, w := range want {
		x[0] = in
		kernel(y, x)
		if math.Float32bits(y[0]) != math.Float32bits(w) {
			t.Errorf("%s(%v) = %v, want %v", fn, in, y[0], w)
		}
	}
	for _, nan := range []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa5c3e1} {
		x[0] = math.Float32frombits(nan)
		kernel(y, x)
		if y[0] == y[0] {
			t.Errorf("%s(NaN %#08x) = %v, want NaN", fn, nan, y[0])
		}
	}
}

func inf32(sign int) float32 { return float32(math.Inf(sign)) }
func negZero() float32       { return math.Float32frombits(1 << 31) }
