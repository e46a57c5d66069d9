//go:build amd64 && !purego && !noasm

package kernels

import (
	"math"
	"testing"
)

// TestElementwiseNoAllocs asserts that every elementwise kernel, called through the
// exported API on each generated backend, allocates nothing (the softmax wrapper's
// per-row buffer lives on the stack: the assembly is declared noescape).
func TestElementwiseNoAllocs(t *testing.T) {
	forEachSIMD(t, func(t *testing.T, b *impl) {
		prev := Backend()
		if err := Use(b.name); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = Use(prev) }()
		const m, n = 130, 37 // more rows than one softmax chunk; every kind of tail
		x, y, d := make([]float32, m*n), make([]float32, m*n), make([]float32, m*n)
		for i := range x {
			x[i] = float32(i%17) - 8
			y[i] = float32(i%5) / 5
		}
		w, g, s1, s2 := make([]float32, m*n), make([]float32, m*n), make([]float32, m*n), make([]float32, m*n)
		bias, sums, loss := make([]float32, n), make([]float32, n), make([]float32, m)
		labels := make([]int32, m)
		calls := map[string]func(){
			"AddBias":  func() { AddBias(m, n, x, n, bias) },
			"ColSums":  func() { ColSums(m, n, x, n, sums) },
			"Softmax":  func() { SoftmaxCrossEntropy(m, n, x, n, labels, d, n, 1.0/m, loss) },
			"SGD":      func() { SGD(w, g, 0.01) },
			"Adam":     func() { Adam(w, g, s1, s2, 1e-3, 0.9, 0.999, 1e-7) },
			"Adagrad":  func() { Adagrad(w, g, s1, 1e-3, 1e-7, true) },
			"RMSProp":  func() { RMSProp(w, g, s1, 1e-3, 0.9, 1e-7, false) },
			"Activate": func() { Activate(ReLU, d, x); Activate(Sigmoid, d, x); Activate(Tanh, d, x) },
			"ActivateGrad": func() {
				ActivateGrad(ReLU, d, x, y)
				ActivateGrad(Sigmoid, d, x, y)
				ActivateGrad(Tanh, d, x, y)
			},
		}
		for name, f := range calls {
			if a := testing.AllocsPerRun(20, f); a != 0 {
				t.Errorf("%s allocates %v times per call on %s", name, a, b.name)
			}
		}
	})
}

// TestOptimizerStateNeverSubnormal runs Adam and RMSprop long enough for moments of
// weights whose gradient becomes zero (or subnormal) to decay through the whole
// subnormal range, and checks after every step that no state value is subnormal:
// the flush keeps later steps off the slow subnormal paths of the FPU.
func TestOptimizerStateNeverSubnormal(t *testing.T) {
	forEachSIMD(t, func(t *testing.T, b *impl) {
		const n = 37
		w, g, m, v, s := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			w[i] = 0.5
			m[i] = float32(i+1) * 1e-36           // decays by 0.9 a step: subnormal within ~50 steps
			v[i] = 1.2e-38 * (1 + float32(i)/100) // decays by 0.999 a step: subnormal within ~330
			s[i] = float32(i+1) * 1e-36
			if i%3 == 1 {
				g[i] = 1e-39 // a subnormal gradient: g*g underflows
			}
		}
		subnormal := func(x float32) bool { return x != 0 && math.Abs(float64(x)) < 0x1p-126 }
		for step := range 3000 {
			b.adam(w, g, m, v, 1e-3, 0.9, 0.999, 1e-7)
			b.rmsprop(w, g, s, 1e-3, 0.9, 1e-7, true)
			for i := range n {
				if subnormal(m[i]) || subnormal(v[i]) || subnormal(s[i]) {
					t.Fatalf("step %d element %d: m=%g v=%g s=%g, subnormal state", step, i, m[i], v[i], s[i])
				}
			}
		}
		for i := range n {
			if m[i] != 0 || v[i] != 0 || s[i] != 0 {
				t.Errorf("element %d did not decay to zero: m=%g v=%g s=%g", i, m[i], v[i], s[i])
			}
		}
	})
}
