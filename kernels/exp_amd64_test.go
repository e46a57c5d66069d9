//go:build amd64 && !purego && !noasm

package kernels

import (
	"fmt"
	"math"
	"runtime"
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

// sweep runs kernel on every float32 whose magnitude's bits are in [0, to] (every
// stride-th), both signs, in chunks spread over the CPUs, and returns the merged
// statistics. A result equal to the exact value ref(x) rounded to float32 is
// correct (within half an ulp) and only counted; any other goes to check, which
// measures it and decides whether it fails. Most results are correctly rounded, so
// the test spends its time in the kernel and the reference, and stays fast.
func sweep(to uint32, stride uint32, kernel func(dst, src []float32), ref func(float64) float64, check func(st *errStats, x, y float32, ref float64)) *errStats {
	const chunk = 1 << 16
	workers := runtime.GOMAXPROCS(0)
	all := make([]errStats, workers)
	var wg sync.WaitGroup
	total := uint64(to)/uint64(stride) + 1 // magnitudes visited
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &all[w]
			xs, ys := make([]float32, 2*chunk), make([]float32, 2*chunk)
			for c := uint64(w) * chunk; c < total; c += uint64(workers) * chunk {
				n := 0
				for i := c; i < min(c+chunk, total); i++ {
					u := uint32(i * uint64(stride))
					xs[n], xs[n+1] = math.Float32frombits(u), math.Float32frombits(u|1<<31)
					n += 2
				}
				kernel(ys[:n], xs[:n])
				st.inputs += int64(n)
				for i, x := range xs[:n] {
					r := ref(float64(x))
					if y := ys[i]; y != float32(r) {
						check(st, x, y, r)
					}
				}
			}
		}()
	}
	wg.Wait()
	for w := 1; w < workers; w++ {
		all[0].merge(&all[w])
	}
	return &all[0]
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

func forEachExpSet(t *testing.T, f func(t *testing.T, k expKernels)) {
	for _, k := range expSets() {
		t.Run(k.name, func(t *testing.T) {
			if !k.ok {
				t.Skipf("the CPU or OS lacks %s", k.name)
			}
			f(t, k)
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
func TestExpExhaustive(t *testing.T) {
	forEachExpSet(t, func(t *testing.T, k expKernels) {
		st := sweep(math.Float32bits(104), exhaustiveStride(), k.exp, expRef, func(st *errStats, x, y float32, ref float64) {
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
		})
		reportErrors(t, "exp", st)
		if st.maxUlp > expMaxUlp || st.maxSub > expMaxSubUlp {
			t.Errorf("exp error above the documented bounds")
		}
		checkSpecial(t, "exp", k.exp, map[float32]float32{
			inf32(1): inf32(1), inf32(-1): 0, 0: 1, negZero(): 1, 89: inf32(1), -104: 0,
			math.MaxFloat32: inf32(1), -math.MaxFloat32: 0,
		})
	})
}

// TestSigmoidAccuracy checks sigmoid over every float32 with |x| <= 104, beyond
// which it is exactly 0 or 1: within actMaxAbs absolute everywhere and within
// sigmoidMaxUlp where the result is normal and at least 3e-39 (below, exp(-x)
// overflows and the result is 0: an absolute error under 3e-39).
func TestSigmoidAccuracy(t *testing.T) {
	forEachExpSet(t, func(t *testing.T, k expKernels) {
		st := sweep(math.Float32bits(104), exhaustiveStride(), k.sigmoid, sigmoidRef64, func(st *errStats, x, y float32, ref float64) {
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
		})
		reportErrors(t, "sigmoid", st)
		checkSpecial(t, "sigmoid", k.sigmoid, map[float32]float32{
			inf32(1): 1, inf32(-1): 0, 0: 0.5, negZero(): 0.5, 200: 1, -200: 0,
			math.MaxFloat32: 1, -math.MaxFloat32: 0,
		})
	})
}

// TestTanhAccuracy checks tanh over every float32 with |x| <= 10 (beyond, exactly
// +-1): within actMaxAbs absolute and tanhMaxUlp relative everywhere the result is
// normal (tiny x included: tanh(x) rounds to x), -0 kept.
func TestTanhAccuracy(t *testing.T) {
	forEachExpSet(t, func(t *testing.T, k expKernels) {
		st := sweep(math.Float32bits(10), exhaustiveStride(), k.tanh, tanhRef64, func(st *errStats, x, y float32, ref float64) {
			if math.Abs(float64(x)) >= 9.5 && y != float32(ref) {
				st.fail("tanh(%v) = %v, want exactly %v", x, y, float32(ref))
				return
			}
			u := st.measure(x, y, ref)
			if math.Abs(ref) < expMinNormal {
				if u > 1 { // subnormal x: tanh(x) rounds to x
					st.fail("tanh(%v) = %v, want %v", x, y, x)
				}
				return
			}
			if u > tanhMaxUlp || math.Abs(float64(y)-ref) > actMaxAbs || y != y {
				st.fail("tanh(%v) = %v, want %.9g (error %.3g ulp)", x, y, ref, u)
			}
		})
		reportErrors(t, "tanh", st)
		checkSpecial(t, "tanh", k.tanh, map[float32]float32{
			inf32(1): 1, inf32(-1): -1, 0: 0, negZero(): negZero(), 10: 1, -10: -1,
			math.MaxFloat32: 1, -math.MaxFloat32: -1,
		})
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
