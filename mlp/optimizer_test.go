package mlp

import (
	"math"
	"testing"
)

// oneStep runs the trainer's optimizer code path (Normalize for the Keras defaults,
// newOptimizer, step) on one scalar weight starting at 0 and returns the step taken.
func oneStep(t *testing.T, o Optimizer, g float32) float64 {
	t.Helper()
	c := DefaultConfig()
	c.Optimizer = o
	if err := c.Normalize(); err != nil {
		t.Fatal(err)
	}
	opt := newOptimizer(c.Optimizer, 1)
	w := []float32{0}
	opt.step(nil, w, []float32{g})
	return float64(w[0])
}

// TestOptimizerGoldenSteps checks the golden single steps of protocol.md (t = 1, Keras
// defaults). The goldens carry 6 significant digits.
func TestOptimizerGoldenSteps(t *testing.T) {
	cases := []struct {
		name string
		opt  Optimizer
		g    float32
		want float64
	}{
		{"adam g=1e-6", Optimizer{Name: "adam"}, 1e-6, -2.40253e-4},
		{"adam g=1e-4", Optimizer{Name: "adam"}, 1e-4, -9.69347e-4},
		{"adagrad g=0.01", Optimizer{Name: "adagrad"}, 0.01, -3.16070e-5},
		{"rmsprop g=1", Optimizer{Name: "rmsprop"}, 1, -3.16228e-3},
		{"rmsprop g=1e-5", Optimizer{Name: "rmsprop"}, 1e-5, -3.16212e-5},
		// sgd: w -= lr*g with Keras's lr 0.01.
		{"sgd g=0.5", Optimizer{Name: "sgd"}, 0.5, -0.005},
	}
	forEachBackend(t, func(t *testing.T) {
		for _, c := range cases {
			got := oneStep(t, c.opt, c.g)
			if math.Abs(got-c.want) > 1e-5*math.Abs(c.want) {
				t.Errorf("%s: step %.6g, want %.6g", c.name, got, c.want)
			}
		}
	})
}

// TestOptimizerEpsOutside checks the older eps placement against protocol.md's
// formulas evaluated in float64, at gradients where the placement matters.
func TestOptimizerEpsOutside(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		g := 1e-4
		// adagrad: a = 0.1 + g^2; w -= lr*g/(sqrt(a)+eps)
		want := -0.001 * g / (math.Sqrt(0.1+g*g) + 1e-7)
		got := oneStep(t, Optimizer{Name: "adagrad", EpsOutside: true}, float32(g))
		if math.Abs(got-want) > 1e-5*math.Abs(want) {
			t.Errorf("adagrad eps outside: %.7g, want %.7g", got, want)
		}
		// rmsprop at g = 1e-4: s = 0.1*g^2 = 1e-9; inside: g/sqrt(1.1e-9), outside:
		// g/(sqrt(1e-9)+1e-7): the two differ by a factor of about 3.
		g = 1e-4
		s := 0.1 * g * g
		wantOut := -0.001 * g / (math.Sqrt(s) + 1e-7)
		wantIn := -0.001 * g / math.Sqrt(s+1e-7)
		gotOut := oneStep(t, Optimizer{Name: "rmsprop", EpsOutside: true}, float32(g))
		gotIn := oneStep(t, Optimizer{Name: "rmsprop"}, float32(g))
		if math.Abs(gotOut-wantOut) > 1e-5*math.Abs(wantOut) || math.Abs(gotIn-wantIn) > 1e-5*math.Abs(wantIn) {
			t.Errorf("rmsprop: outside %.7g want %.7g; inside %.7g want %.7g", gotOut, wantOut, gotIn, wantIn)
		}
	})
}

// TestAdamStepCounting runs three Adam steps and compares with protocol.md's formulas
// in float64, so the bias correction must use t = 1, 2, 3.
func TestAdamStepCounting(t *testing.T) {
	c := DefaultConfig()
	if err := c.Normalize(); err != nil {
		t.Fatal(err)
	}
	opt := newOptimizer(c.Optimizer, 1)
	w := []float32{0.5}
	gs := []float64{0.3, -0.1, 0.05}
	wr, m, v := 0.5, 0.0, 0.0
	for i, g := range gs {
		opt.step(nil, w, []float32{float32(g)})
		tt := float64(i + 1)
		m = 0.9*m + 0.1*g
		v = 0.999*v + 0.001*g*g
		lrT := 0.001 * math.Sqrt(1-math.Pow(0.999, tt)) / (1 - math.Pow(0.9, tt))
		wr -= lrT * m / (math.Sqrt(v) + 1e-7)
		if math.Abs(float64(w[0])-wr) > 1e-6 {
			t.Fatalf("step %d: w = %.9g, want %.9g", i+1, w[0], wr)
		}
	}
}

// TestAdagradInitialAccumulator: the accumulator starts at InitialAccumulator, so a
// first step with g = 0.3 divides by sqrt(0.1 + 0.09).
func TestAdagradInitialAccumulator(t *testing.T) {
	got := oneStep(t, Optimizer{Name: "adagrad", InitialAccumulator: 0.5}, 0.3)
	want := -0.001 * 0.3 / math.Sqrt(0.5+0.09+1e-7)
	if math.Abs(got-want) > 1e-5*math.Abs(want) {
		t.Fatalf("adagrad with accumulator 0.5: %.7g, want %.7g", got, want)
	}
}
