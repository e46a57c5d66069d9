package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/kernels"
)

// kernelSet is the kernels API as methods: the package's functions (serialSet, one
// goroutine) or a *kernels.Pool.
type kernelSet interface {
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	SgemmBiasAct(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, act kernels.Activation, c []float32, ldc int)
	AddBias(m, n int, x []float32, ldx int, bias []float32)
	Activate(act kernels.Activation, dst, src []float32)
	ActivateGrad(act kernels.Activation, dx, dy, y []float32)
	ColSums(m, n int, x []float32, ldx int, dst []float32)
	SoftmaxCrossEntropy(m, n int, logits []float32, ldl int, labels []int32, grad []float32, ldg int, scale float32, rowLoss []float32) int
	SGD(w, g []float32, lr float32)
	Adam(w, g, m, v []float32, lrT, beta1, beta2, eps float32)
	Adagrad(w, g, acc []float32, lr, eps float32, epsInside bool)
	RMSProp(w, g, s []float32, lr, rho, eps float32, epsInside bool)
}

type serialSet struct{}

func (serialSet) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
func (serialSet) SgemmBiasAct(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, act kernels.Activation, c []float32, ldc int) {
	kernels.SgemmBiasAct(transA, transB, m, n, k, a, lda, b, ldb, bias, act, c, ldc)
}
func (serialSet) AddBias(m, n int, x []float32, ldx int, bias []float32) {
	kernels.AddBias(m, n, x, ldx, bias)
}
func (serialSet) Activate(act kernels.Activation, dst, src []float32) {
	kernels.Activate(act, dst, src)
}
func (serialSet) ActivateGrad(act kernels.Activation, dx, dy, y []float32) {
	kernels.ActivateGrad(act, dx, dy, y)
}
func (serialSet) ColSums(m, n int, x []float32, ldx int, dst []float32) {
	kernels.ColSums(m, n, x, ldx, dst)
}
func (serialSet) SoftmaxCrossEntropy(m, n int, logits []float32, ldl int, labels []int32, grad []float32, ldg int, scale float32, rowLoss []float32) int {
	return kernels.SoftmaxCrossEntropy(m, n, logits, ldl, labels, grad, ldg, scale, rowLoss)
}
func (serialSet) SGD(w, g []float32, lr float32) { kernels.SGD(w, g, lr) }
func (serialSet) Adam(w, g, m, v []float32, lrT, beta1, beta2, eps float32) {
	kernels.Adam(w, g, m, v, lrT, beta1, beta2, eps)
}
func (serialSet) Adagrad(w, g, acc []float32, lr, eps float32, epsInside bool) {
	kernels.Adagrad(w, g, acc, lr, eps, epsInside)
}
func (serialSet) RMSProp(w, g, s []float32, lr, rho, eps float32, epsInside bool) {
	kernels.RMSProp(w, g, s, lr, rho, eps, epsInside)
}

// poolGemmShape is a GEMM of the split tests, with leading dimensions padded by pad.
type poolGemmShape struct {
	tA, tB      bool
	m, n, k     int
	alpha, beta float32
	pad         int
}

// poolGemmShapes: the trainer's products at batch 64 and some at 512 (the B-in-place
// and packed paths of the amd64 GEMM), and odd shapes with padded leading
// dimensions, every transpose, alpha and beta not 0 or 1, M on both sides of the
// amd64 in-place limit and K across the block depths.
func poolGemmShapes(short bool) []poolGemmShape {
	var s []poolGemmShape
	for _, batch := range []int{64, 512} {
		for _, c := range [][5]int{{0, 0, batch, 600, 784}, {1, 0, 784, 600, batch}, {0, 1, batch, 600, 200}, {0, 0, batch, 200, 600}, {1, 0, 200, 10, batch}} {
			if short && batch == 512 {
				break
			}
			s = append(s, poolGemmShape{tA: c[0] == 1, tB: c[1] == 1, m: c[2], n: c[3], k: c[4], alpha: 1})
		}
	}
	for i, tr := range transposes {
		for _, d := range [][3]int{{37, 517, 129}, {200, 97, 600}, {130, 250, 520}, {3, 1000, 7}} {
			s = append(s, poolGemmShape{tA: tr[0], tB: tr[1], m: d[0], n: d[1], k: d[2], alpha: -0.5, beta: 0.7, pad: 3 + i})
		}
	}
	return s
}

// bufs holds a workload's outputs by name, in the order they were made.
type bufs struct {
	names []string
	vals  [][]float32
}

func (b *bufs) add(name string, v []float32) []float32 {
	b.names = append(b.names, name)
	b.vals = append(b.vals, v)
	return v
}

// mixedSlice returns n values from rng: normal-ish values of mixed magnitudes, with a
// few zeros and negative zeros (relu and its gradient branch on them).
func mixedSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		switch rng.IntN(16) {
		case 0:
			s[i] = 0
		case 1:
			s[i] = float32(math.Copysign(0, -1))
		default:
			s[i] = float32(rng.NormFloat64() * math.Exp2(float64(rng.IntN(9)-4)))
		}
	}
	return s
}

// poolWorkload calls every kernel of ks on fixed pseudo-random inputs and returns
// every output. Run with a serial set and with pools of any size, it must give the
// same bits.
func poolWorkload(ks kernelSet, short bool) *bufs {
	out := &bufs{}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, s := range poolGemmShapes(short) {
		ar, ac, br, bc := s.m, s.k, s.k, s.n
		if s.tA {
			ar, ac = s.k, s.m
		}
		if s.tB {
			br, bc = s.n, s.k
		}
		lda, ldb, ldc := ac+s.pad, bc+s.pad, s.n+s.pad
		a, b := mixedSlice(rng, matSize(ar, ac, lda)), mixedSlice(rng, matSize(br, bc, ldb))
		c := mixedSlice(rng, matSize(s.m, s.n, ldc))
		name := fmt.Sprintf("Sgemm %s %dx%dx%d", transName(s.tA, s.tB), s.m, s.n, s.k)
		ks.Sgemm(s.tA, s.tB, s.m, s.n, s.k, s.alpha, a, lda, b, ldb, s.beta, out.add(name, c), ldc)
		bias := mixedSlice(rng, s.n)
		for _, act := range activations {
			c := mixedSlice(rng, len(c))
			ks.SgemmBiasAct(s.tA, s.tB, s.m, s.n, s.k, a, lda, b, ldb, bias, act, out.add(fmt.Sprintf("SgemmBiasAct(%v) %s", act, name), c), ldc)
		}
		c = mixedSlice(rng, len(c))
		ks.SgemmBiasAct(s.tA, s.tB, s.m, s.n, s.k, a, lda, b, ldb, nil, kernels.ReLU, out.add("SgemmBiasAct(relu, no bias) "+name, c), ldc)
	}
	for _, d := range [][3]int{{1, 1, 1}, {3, 65, 70}, {64, 600, 600}, {300, 200, 203}, {1000, 37, 40}} {
		m, n, ld := d[0], d[1], d[2]
		x := out.add(fmt.Sprintf("AddBias %dx%d", m, n), mixedSlice(rng, matSize(m, n, ld)))
		ks.AddBias(m, n, x, ld, mixedSlice(rng, n))
		ks.ColSums(m, n, x, ld, out.add(fmt.Sprintf("ColSums %dx%d", m, n), mixedSlice(rng, n)))
		labels := make([]int32, m)
		for i := range labels {
			labels[i] = int32(rng.IntN(n))
		}
		logits := mixedSlice(rng, len(x))
		grad := out.add(fmt.Sprintf("SoftmaxCrossEntropy grad %dx%d", m, n), mixedSlice(rng, len(x)))
		rowLoss := out.add(fmt.Sprintf("SoftmaxCrossEntropy rowLoss %dx%d", m, n), make([]float32, m))
		correct := ks.SoftmaxCrossEntropy(m, n, logits, ld, labels, grad, ld, 1/float32(m), rowLoss)
		out.add(fmt.Sprintf("SoftmaxCrossEntropy correct %dx%d", m, n), []float32{float32(correct)})
		// In place, loss only.
		correct = ks.SoftmaxCrossEntropy(m, n, logits, ld, labels, logits, ld, 0.5, nil)
		out.add(fmt.Sprintf("SoftmaxCrossEntropy in place %dx%d", m, n), logits)
		out.add(fmt.Sprintf("SoftmaxCrossEntropy in place correct %dx%d", m, n), []float32{float32(correct)})
	}
	lens := []int{0, 1, 63, 64, 65, 1000, 4099, 100003}
	if short {
		lens = lens[:len(lens)-1]
	}
	for _, n := range lens {
		for _, act := range activations {
			src := mixedSlice(rng, n)
			ks.Activate(act, out.add(fmt.Sprintf("Activate(%v) %d", act, n), make([]float32, n)), src)
			ks.Activate(act, src, src)
			out.add(fmt.Sprintf("Activate(%v) in place %d", act, n), src)
			y := mixedSlice(rng, n)
			ks.Activate(act, y, y)
			ks.ActivateGrad(act, out.add(fmt.Sprintf("ActivateGrad(%v) %d", act, n), make([]float32, n)), mixedSlice(rng, n), y)
		}
		w, g := out.add(fmt.Sprintf("SGD w %d", n), mixedSlice(rng, n)), mixedSlice(rng, n)
		ks.SGD(w, g, 0.01)
		w, m, v := out.add(fmt.Sprintf("Adam w %d", n), mixedSlice(rng, n)), out.add(fmt.Sprintf("Adam m %d", n), mixedSlice(rng, n)), out.add(fmt.Sprintf("Adam v %d", n), mixedSlice(rng, n))
		for i := range v {
			v[i] = v[i] * v[i]
		}
		for step := range 3 {
			ks.Adam(w, mixedSlice(rng, n), m, v, 1e-3/float32(step+1), 0.9, 0.999, 1e-7)
		}
		for _, inside := range []bool{false, true} {
			w, acc := out.add(fmt.Sprintf("Adagrad w %d %v", n, inside), mixedSlice(rng, n)), out.add(fmt.Sprintf("Adagrad acc %d %v", n, inside), make([]float32, n))
			ks.Adagrad(w, mixedSlice(rng, n), acc, 1e-2, 1e-7, inside)
			w, s := out.add(fmt.Sprintf("RMSProp w %d %v", n, inside), mixedSlice(rng, n)), out.add(fmt.Sprintf("RMSProp s %d %v", n, inside), make([]float32, n))
			ks.RMSProp(w, mixedSlice(rng, n), s, 1e-3, 0.9, 1e-7, inside)
		}
	}
	return out
}

// sameBits reports the first element where got and want differ in bits, treating
// +0 and -0 as the same only where zeroSign allows it.
func sameBits(got, want []float32, zeroSign bool) (int, bool) {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(zeroSign && got[i] == 0 && want[i] == 0) {
			return i, false
		}
	}
	return 0, true
}

// TestPoolBitIdentical: every kernel computed by pools of 1 to 4 threads, with the
// split thresholds lowered so that even small problems are split, gives the same
// bits as the package's one-goroutine functions, on every backend. (A split that
// changed how any element is summed or rounded would show here.)
func TestPoolBitIdentical(t *testing.T) {
	defer kernels.SplitSmall()()
	forEachBackend(t, func(t testing.TB, _ string) {
		want := poolWorkload(serialSet{}, testing.Short())
		for threads := 1; threads <= 4; threads++ {
			p := kernels.NewPool(threads)
			got := poolWorkload(p, testing.Short())
			p.Close()
			for i, name := range want.names {
				// The in-place activations are zero-sign exact too: the same kernel
				// runs on the same elements.
				if j, ok := sameBits(got.vals[i], want.vals[i], false); !ok {
					t.Errorf("%d threads: %s: element %d is %g (%#08x), want %g (%#08x) as on one goroutine",
						threads, name, j, got.vals[i][j], math.Float32bits(got.vals[i][j]), want.vals[i][j], math.Float32bits(want.vals[i][j]))
					break
				}
			}
		}
	})
}

// TestPoolDefaultSplit: with the real thresholds, the trainer's large products are
// split (the pool is not silently serial) and still give the same bits.
func TestPoolDefaultSplit(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		want := poolWorkload(serialSet{}, true)
		p := kernels.NewPool(2)
		defer p.Close()
		got := poolWorkload(p, true)
		for i, name := range want.names {
			if j, ok := sameBits(got.vals[i], want.vals[i], false); !ok {
				t.Fatalf("%s: element %d differs", name, j)
			}
		}
		if !kernels.PoolSplits(p, 64, 600, 784) {
			t.Errorf("a 64x600x784 GEMM is not split over 2 threads")
		}
	})
}

// TestPoolZeroAllocations: pool calls allocate nothing once warm (the first GEMM
// call of each worker may fill the backend's workspace pool), split or not.
func TestPoolZeroAllocations(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, small := range []bool{false, true} {
			func() {
				if small {
					defer kernels.SplitSmall()()
				}
				p := kernels.NewPool(3)
				defer p.Close()
				rng := rand.New(rand.NewPCG(1, 2))
				for _, s := range poolGemmShapes(true)[:5] {
					ar, ac, br, bc := s.m, s.k, s.k, s.n
					if s.tA {
						ar, ac = s.k, s.m
					}
					if s.tB {
						br, bc = s.n, s.k
					}
					a, b, c := mixedSlice(rng, ar*ac), mixedSlice(rng, br*bc), make([]float32, s.m*s.n)
					bias := mixedSlice(rng, s.n)
					if n := testing.AllocsPerRun(3, func() { p.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, ac, b, bc, 0, c, s.n) }); n != 0 {
						t.Errorf("split=%v Pool.Sgemm %s %dx%dx%d: %v allocations, want 0", small, transName(s.tA, s.tB), s.m, s.n, s.k, n)
					}
					if n := testing.AllocsPerRun(3, func() {
						p.SgemmBiasAct(s.tA, s.tB, s.m, s.n, s.k, a, ac, b, bc, bias, kernels.ReLU, c, s.n)
					}); n != 0 {
						t.Errorf("split=%v Pool.SgemmBiasAct %dx%dx%d: %v allocations, want 0", small, s.m, s.n, s.k, n)
					}
				}
				n := 100003
				w, g, m, v := mixedSlice(rng, n), mixedSlice(rng, n), mixedSlice(rng, n), make([]float32, n)
				labels := make([]int32, 300)
				rowLoss := make([]float32, 300)
				calls := map[string]func(){
					"Adam":         func() { p.Adam(w, g, m, v, 1e-3, 0.9, 0.999, 1e-7) },
					"SGD":          func() { p.SGD(w, g, 1e-3) },
					"Adagrad":      func() { p.Adagrad(w, g, v, 1e-3, 1e-7, true) },
					"RMSProp":      func() { p.RMSProp(w, g, v, 1e-3, 0.9, 1e-7, true) },
					"Activate":     func() { p.Activate(kernels.Tanh, m, g) },
					"ActivateGrad": func() { p.ActivateGrad(kernels.ReLU, m, g, w) },
					"AddBias":      func() { p.AddBias(300, 300, w, 300, g) },
					"ColSums":      func() { p.ColSums(300, 300, w, 300, m) },
					"Softmax":      func() { p.SoftmaxCrossEntropy(300, 300, w, 300, labels, m, 300, 0.1, rowLoss) },
				}
				for name, f := range calls {
					if a := testing.AllocsPerRun(5, f); a != 0 {
						t.Errorf("split=%v Pool.%s: %v allocations, want 0", small, name, a)
					}
				}
			}()
		}
	})
}

// TestPoolLifecycle: NewPool(0) uses the CPUs available; a nil or closed pool
// computes on the caller's goroutine; Close stops the workers and is idempotent.
func TestPoolLifecycle(t *testing.T) {
	if got, want := kernels.NewPool(0), kernels.DefaultThreads(); got.Threads() != want {
		t.Errorf("NewPool(0).Threads() = %d, want DefaultThreads() = %d", got.Threads(), want)
	} else {
		got.Close()
	}
	if d := kernels.DefaultThreads(); d < 1 || d > runtime.NumCPU() {
		t.Errorf("DefaultThreads() = %d, want 1..NumCPU (%d)", d, runtime.NumCPU())
	}
	var nilPool *kernels.Pool
	if nilPool.Threads() != 1 {
		t.Errorf("nil pool: Threads() = %d, want 1", nilPool.Threads())
	}
	before := settledGoroutines(0)
	p := kernels.NewPool(4)
	if after := runtime.NumGoroutine(); after < before+3 {
		t.Errorf("NewPool(4) started %d goroutines, want 3", after-before)
	}
	defer kernels.SplitSmall()()
	want := poolWorkload(serialSet{}, true)
	p.Close()
	p.Close()
	if p.Threads() != 1 {
		t.Errorf("closed pool: Threads() = %d, want 1", p.Threads())
	}
	for _, ks := range []kernelSet{p, nilPool} {
		got := poolWorkload(ks, true)
		for i, name := range want.names {
			if j, ok := sameBits(got.vals[i], want.vals[i], false); !ok {
				t.Fatalf("%s: element %d differs from the package function's", name, j)
			}
		}
	}
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines after Close, want %d (the workers must stop)", n, before)
	}
}

// settledGoroutines waits (up to 5 s) until the number of goroutines is at most
// target, or has not fallen for 100 ms (goroutines of pools closed by earlier tests
// exit asynchronously), and returns it.
func settledGoroutines(target int) int {
	n, since := runtime.NumGoroutine(), time.Now()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if n <= target || time.Since(since) > 100*time.Millisecond {
			break
		}
		time.Sleep(5 * time.Millisecond)
		if m := runtime.NumGoroutine(); m < n {
			n, since = m, time.Now()
		}
	}
	return n
}

// TestPoolPanics: a pool method panics with the message of the package function of
// the same name, before any worker sees the call, and the pool stays usable.
func TestPoolPanics(t *testing.T) {
	p := kernels.NewPool(2)
	defer p.Close()
	x := make([]float32, 10)
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"Sgemm", func() { p.Sgemm(false, false, -1, 2, 2, 1, x, 2, x, 2, 0, x, 2) }, "kernels.Sgemm: negative dimension"},
		{"Sgemm short C", func() { p.Sgemm(false, false, 3, 4, 1, 1, x, 1, x, 4, 0, x, 4) }, "kernels.Sgemm: C is 3x4"},
		{"SgemmBiasAct bias", func() { p.SgemmBiasAct(false, false, 1, 4, 1, x, 1, x, 4, x[:3], kernels.ReLU, x, 4) }, "kernels.SgemmBiasAct: bias has 3 elements"},
		{"SgemmBiasAct act", func() { p.SgemmBiasAct(false, false, 1, 4, 1, x, 1, x, 4, nil, 9, x, 4) }, "kernels.SgemmBiasAct: unknown activation 9"},
		{"Activate", func() { p.Activate(9, x, x) }, "kernels.Activate: unknown activation 9"},
		{"Adam", func() { p.Adam(x, x, x[:3], x, 1, 1, 1, 1) }, "kernels.Adam: m has 3 elements"},
		{"Softmax", func() { p.SoftmaxCrossEntropy(2, 5, x, 5, []int32{0, 5}, nil, 5, 1, nil) }, "kernels.SoftmaxCrossEntropy: labels[1] = 5"},
		{"ColSums", func() { p.ColSums(2, 5, x, 5, x[:4]) }, "kernels.ColSums: dst has 4 elements"},
	}
	for _, c := range cases {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, c.want) {
					t.Errorf("%s: panic %v, want one containing %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
	// Still usable after the panics (no lock left held).
	p.Adam(x, x, x, x, 1e-3, 0.9, 0.999, 1e-7)
}
