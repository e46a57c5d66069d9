package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// protocol.md's optimizer defaults.
const (
	adamLR, adamB1, adamB2, adamEps = 0.001, 0.9, 0.999, 1e-7
	sgdLR                           = 0.01
	adagradLR, adagradInit, agEps   = 0.001, 0.1, 1e-7
	rmsLR, rmsRho, rmsEps           = 0.001, 0.9, 1e-7
)

// goldenBound is how far a step may be from a golden value printed with six
// significant digits: half a unit in the sixth digit, plus float32 rounding.
func goldenBound(golden float64) float64 {
	unit := math.Pow(10, math.Floor(math.Log10(math.Abs(golden)))-5)
	return unit/2 + 8*eps32*math.Abs(golden)
}

// exactStep is protocol.md's single step (t = 1, weight 0, fresh state) in float64
// with the decimal constants exactly as written: the computation its golden values
// come from.
func exactStep(name string, g float64) float64 {
	switch name {
	case "adam":
		lrT := adamLR * math.Sqrt(1-adamB2) / (1 - adamB1)
		return -lrT * (1 - adamB1) * g / (math.Sqrt((1-adamB2)*g*g) + adamEps)
	case "adagrad":
		return -adagradLR * g / math.Sqrt(adagradInit+g*g+agEps)
	case "rmsprop":
		return -rmsLR * g / math.Sqrt((1-rmsRho)*g*g+rmsEps)
	}
	panic(name)
}

// TestOptimizerGoldenSteps: protocol.md's single steps (one weight at 0, t = 1).
// The goldens come from the decimal constants; the kernels receive them as float32,
// and float32(0.999) = 0.99900001287 makes 1-beta2 larger by 1.29e-5 relative, which
// moves an Adam step by up to half that (Keras, whose constants are float32 too,
// moves the same way). So: the exact float64 formula must give the goldens to six
// digits; the float64 reference with the float32 constants must match the kernels
// to a few float32 ulps; and the kernels must match the goldens to six digits plus
// the computed effect of the constants' rounding. Every lane of vectors of several
// lengths is checked (the two gradients alternate).
func TestOptimizerGoldenSteps(t *testing.T) {
	type golden struct {
		name string
		g    [2]float32
		want [2]float64
		ref  func(g float32) float64 // float64, with the float32 constants
		step func(w, g []float32)    // the kernel, one step from fresh state
	}
	lrT := adamLRT(adamLR, adamB1, adamB2, 1)
	goldens := []golden{
		{name: "adam", g: [2]float32{1e-6, 1e-4}, want: [2]float64{-2.40253e-4, -9.69347e-4},
			ref: func(g float32) float64 { w, _, _ := adamRef(0, g, 0, 0, lrT, adamB1, adamB2, adamEps); return w },
			step: func(w, g []float32) {
				kernels.Adam(w, g, make([]float32, len(w)), make([]float32, len(w)), lrT, adamB1, adamB2, adamEps)
			}},
		{name: "adagrad", g: [2]float32{0.01, 0.01}, want: [2]float64{-3.16070e-5, -3.16070e-5},
			ref: func(g float32) float64 { w, _ := adagradRef(0, g, adagradInit, adagradLR, agEps, true); return w },
			step: func(w, g []float32) {
				acc := make([]float32, len(w))
				for i := range acc {
					acc[i] = adagradInit
				}
				kernels.Adagrad(w, g, acc, adagradLR, agEps, true)
			}},
		{name: "rmsprop", g: [2]float32{1, 1e-5}, want: [2]float64{-3.16228e-3, -3.16212e-5},
			ref:  func(g float32) float64 { w, _ := rmspropRef(0, g, 0, rmsLR, rmsRho, rmsEps, true); return w },
			step: func(w, g []float32) { kernels.RMSProp(w, g, make([]float32, len(w)), rmsLR, rmsRho, rmsEps, true) }},
	}
	var constEffect [3][2]float64
	for gi, gd := range goldens {
		for k := 0; k < 2; k++ {
			exact := exactStep(gd.name, float64(gd.g[k]))
			if math.Abs(exact-gd.want[k]) > goldenBound(gd.want[k]) {
				t.Fatalf("%s g=%g: the exact formula gives %.6g, protocol.md says %.6g", gd.name, gd.g[k], exact, gd.want[k])
			}
			constEffect[gi][k] = math.Abs(gd.ref(gd.g[k]) - exact)
			t.Logf("%s g=%g: golden %.6g, exact %.9g, with float32 constants %.9g", gd.name, gd.g[k], gd.want[k], exact, gd.ref(gd.g[k]))
		}
	}
	forEachBackend(t, func(t testing.TB, _ string) {
		for gi, gd := range goldens {
			for _, n := range []int{1, 2, 15, 16, 17, 33, 67} {
				w, g := make([]float32, n), make([]float32, n)
				for i := range g {
					g[i] = gd.g[i%2]
				}
				gd.step(w, g)
				for i, wi := range w {
					k := i % 2
					ref := gd.ref(g[i])
					if math.Abs(float64(wi)-ref) > 8*eps32*math.Abs(ref) {
						t.Fatalf("%s n=%d lane %d, g=%g: step %.9g, reference %.9g", gd.name, n, i, g[i], wi, ref)
					}
					if want := gd.want[k]; math.Abs(float64(wi)-want) > goldenBound(want)+constEffect[gi][k] {
						t.Fatalf("%s n=%d lane %d, g=%g: step %.6g, protocol.md says %.6g", gd.name, n, i, g[i], wi, want)
					}
				}
			}
		}
	})
}

// stateBound is the allowed error of a state update a*s + b*g^2 (or a*m + b*g): three
// roundings relative to the magnitudes of the two terms (they may cancel for m).
// An absolute 2^-149 covers a g*g that underflows.
func stateBound(t1, t2 float64) float64 {
	return 2*eps32*(math.Abs(t1)+math.Abs(t2)) + math.SmallestNonzeroFloat32
}

// checkState compares an optimizer state value with the reference, applying the
// documented flush of subnormal results, and rejects any subnormal that was stored.
func checkState(name string, i int, got float32, want, bound float64) error {
	if got != 0 && math.Abs(float64(got)) < minNormal32 {
		return fmt.Errorf("%s[%d] = %g is subnormal: the API flushes those to 0", name, i, got)
	}
	w, either := flushRef(want)
	if either && got == 0 {
		return nil
	}
	if !(math.Abs(float64(got)-w) <= bound) {
		return fmt.Errorf("%s[%d] = %g, want %g (bound %.3g)", name, i, got, w, bound)
	}
	return nil
}

// optimizerValues returns n gradients, weights and states: normal values of several
// scales, zeros, and every fifth element tiny, so that updated states fall below the
// smallest normal float32 and must be flushed (seeded states just above it, and
// subnormal ones, with zero or tiny gradients).
func optimizerValues(rng *rand.Rand, n int) (w, g, s1, s2 []float32) {
	w, g, s1, s2 = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	tiny := []float32{1.2e-38, 1.5e-38, minNormal32, 3e-38, 1e-39, math.SmallestNonzeroFloat32, 0, -1.2e-38}
	for i := range w {
		w[i] = float32(rng.NormFloat64())
		scale := math.Pow(10, float64(rng.IntN(9)-8))
		g[i] = float32(rng.NormFloat64() * scale)
		s1[i] = float32(rng.NormFloat64() * scale)
		s2[i] = float32(math.Abs(rng.NormFloat64()) * scale * scale)
		if i%5 == 3 {
			s1[i] = tiny[(i/5)%len(tiny)]
			s2[i] = float32(math.Abs(float64(tiny[(i/5+3)%len(tiny)])))
			g[i] = []float32{0, 1e-30, -1e-25, 1e-20}[(i/5)%4]
		}
	}
	return
}

// stepBound is the allowed error of a weight update w - d: the rounding of w and a
// few roundings of the step d (products, a square root, a division), plus what the
// allowed error dState of the state the step is proportional to contributes.
func stepBound(w2, w, dState float64) float64 {
	return eps32*math.Abs(w2) + 8*eps32*math.Abs(w2-w) + dState
}

func TestOptimizersRandom(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, n := range vecLens {
			for _, epsInside := range []bool{true, false} {
				for _, name := range []string{"sgd", "adam", "adagrad", "rmsprop"} {
					w0, g0, s10, s20 := optimizerValues(rng, n)
					w, g := vecBuf(n, func(i int) float32 { return w0[i] }), vecBuf(n, func(i int) float32 { return g0[i] })
					s1, s2 := vecBuf(n, func(i int) float32 { return s10[i] }), vecBuf(n, func(i int) float32 { return s20[i] })
					g.save()
					lrT := adamLRT(adamLR, adamB1, adamB2, 1+n%7)
					switch name {
					case "sgd":
						kernels.SGD(w.s, g.s, sgdLR)
					case "adam":
						kernels.Adam(w.s, g.s, s1.s, s2.s, lrT, adamB1, adamB2, adamEps)
					case "adagrad":
						kernels.Adagrad(w.s, g.s, s2.s, adagradLR, agEps, epsInside)
					case "rmsprop":
						kernels.RMSProp(w.s, g.s, s2.s, rmsLR, rmsRho, rmsEps, epsInside)
					}
					what := fmt.Sprintf("%s n=%d epsInside=%v", name, n, epsInside)
					for _, b := range []*matBuf{w, s1, s2} {
						if err := b.checkOutside(); err != nil {
							t.Fatalf("%s: %v", what, err)
						}
					}
					if err := g.checkUnchanged(); err != nil {
						t.Fatalf("%s: g (read-only): %v", what, err)
					}
					for i := 0; i < n; i++ {
						if err := checkOptimizerElement(name, i, epsInside, lrT, w0[i], g0[i], s10[i], s20[i], w.s[i], s1.s[i], s2.s[i]); err != nil {
							t.Fatalf("%s: %v", what, err)
						}
					}
				}
			}
		}
	})
}

// checkOptimizerElement checks one element after a step: its weight and states.
func checkOptimizerElement(name string, i int, epsInside bool, lrT, w, g, s1, s2, gotW, gotS1, gotS2 float32) error {
	fg := float64(g)
	switch name {
	case "sgd":
		w2 := float64(w) - float64(float32(sgdLR))*fg
		if b := eps32 * (math.Abs(w2) + math.Abs(float64(sgdLR)*fg)); !(math.Abs(float64(gotW)-w2) <= b) {
			return fmt.Errorf("w[%d] = %g, want %g (w=%g g=%g)", i, gotW, w2, w, g)
		}
	case "adam":
		w2, m2, v2 := adamRef(w, g, s1, s2, lrT, adamB1, adamB2, adamEps)
		mb := stateBound(adamB1*float64(s1), (1-adamB1)*fg)
		if err := checkState("m", i, gotS1, m2, mb); err != nil {
			return err
		}
		if err := checkState("v", i, gotS2, v2, stateBound(adamB2*float64(s2), (1-adamB2)*fg*fg)); err != nil {
			return err
		}
		mf, either := flushRef(m2)
		vf, _ := flushRef(v2)
		dm := float64(lrT) * mb / (math.Sqrt(vf) + adamEps)
		if either { // the kernel may have kept or flushed m: either step is right
			dm += float64(lrT) * math.Abs(mf) / (math.Sqrt(vf) + adamEps)
		}
		if b := stepBound(w2, float64(w), dm); !(math.Abs(float64(gotW)-w2) <= b) {
			return fmt.Errorf("w[%d] = %g, want %g (bound %.3g; w=%g g=%g m=%g v=%g)", i, gotW, w2, b, w, g, s1, s2)
		}
	case "adagrad":
		w2, a2 := adagradRef(w, g, s2, adagradLR, agEps, epsInside)
		if !(math.Abs(float64(gotS2)-a2) <= stateBound(float64(s2), fg*fg)) {
			return fmt.Errorf("acc[%d] = %g, want %g", i, gotS2, a2)
		}
		if b := stepBound(w2, float64(w), 0); !(math.Abs(float64(gotW)-w2) <= b) {
			return fmt.Errorf("w[%d] = %g, want %g (bound %.3g; w=%g g=%g acc=%g)", i, gotW, w2, b, w, g, s2)
		}
	case "rmsprop":
		w2, s2n := rmspropRef(w, g, s2, rmsLR, rmsRho, rmsEps, epsInside)
		if err := checkState("s", i, gotS2, s2n, stateBound(rmsRho*float64(s2), (1-rmsRho)*fg*fg)); err != nil {
			return err
		}
		_, either := flushRef(s2n)
		var ds float64
		if either { // a kept or flushed s changes sqrt(s) by at most sqrt(2^-126)
			ds = float64(rmsLR) * math.Abs(fg) * math.Abs(1/rootEps(0, rmsEps, epsInside)-1/rootEps(minNormal32, rmsEps, epsInside))
		}
		if b := stepBound(w2, float64(w), ds); !(math.Abs(float64(gotW)-w2) <= b) {
			return fmt.Errorf("w[%d] = %g, want %g (bound %.3g; w=%g g=%g s=%g)", i, gotW, w2, b, w, g, s2)
		}
	}
	return nil
}

// TestOptimizerSubnormalFlush: states seeded just above the smallest normal float32
// decay below it in one step and must be stored as exactly 0 (the API documents the
// flush for Adam's m and v and RMSprop's s); states that stay normal are kept.
func TestOptimizerSubnormalFlush(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, n := range []int{1, 7, 16, 17, 33} {
			m := make([]float32, n)
			v := make([]float32, n)
			s := make([]float32, n)
			w := make([]float32, n)
			g := make([]float32, n)
			for i := range m {
				m[i] = 1.2e-38 // 0.9*m is subnormal
				v[i] = 1.1e-38 // subnormal seed, 0.999*v stays subnormal
				s[i] = 1.3e-38 // 0.9*s is subnormal
				if i%2 == 1 {
					m[i], s[i] = 2e-38, 2e-38 // 0.9 * 2e-38 = 1.8e-38 stays normal
				}
			}
			kernels.Adam(w, g, m, v, adamLRT(adamLR, adamB1, adamB2, 1), adamB1, adamB2, adamEps)
			kernels.RMSProp(w, g, s, rmsLR, rmsRho, rmsEps, true)
			for i := range m {
				wantM, wantS := float32(0), float32(0)
				if i%2 == 1 {
					wantM, wantS = adamB1*2e-38, rmsRho*2e-38
				}
				if math.Abs(float64(m[i]-wantM)) > 4*eps32*float64(wantM) || v[i] != 0 || math.Abs(float64(s[i]-wantS)) > 4*eps32*float64(wantS) {
					t.Fatalf("n=%d lane %d: after one step with g=0: m=%g v=%g s=%g, want m=%g v=0 s=%g (flushed below %g)",
						n, i, m[i], v[i], s[i], wantM, wantS, minNormal32)
				}
				if i%2 == 0 && w[i] != 0 { // m flushed: no step
					t.Fatalf("n=%d lane %d: w moved to %g with g=0 and m flushed", n, i, w[i])
				}
			}
		}
	})
}

// TestOptimizerEpsPlacement: with a gradient near sqrt(eps) the two placements of
// eps give very different steps (rmsprop, g=1e-5: -3.16212e-5 inside the root,
// -3.06534e-3 outside, with float32 rho); the flag must select the form.
func TestOptimizerEpsPlacement(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, inside := range []bool{true, false} {
			w, s := []float32{0}, []float32{0}
			kernels.RMSProp(w, []float32{1e-5}, s, rmsLR, rmsRho, rmsEps, inside)
			want, _ := rmspropRef(0, 1e-5, 0, rmsLR, rmsRho, rmsEps, inside)
			if math.Abs(float64(w[0])-want) > 8*eps32*math.Abs(want) {
				t.Fatalf("rmsprop g=1e-5 epsInside=%v: step %g, want %g", inside, w[0], want)
			}
			w, acc := []float32{0}, []float32{0}
			kernels.Adagrad(w, []float32{1e-4}, acc, adagradLR, agEps, inside)
			want, _ = adagradRef(0, 1e-4, 0, adagradLR, agEps, inside)
			if math.Abs(float64(w[0])-want) > 8*eps32*math.Abs(want) {
				t.Fatalf("adagrad g=1e-4 acc=0 epsInside=%v: step %g, want %g", inside, w[0], want)
			}
		}
		in, _ := rmspropRef(0, 1e-5, 0, rmsLR, rmsRho, rmsEps, true)
		out, _ := rmspropRef(0, 1e-5, 0, rmsLR, rmsRho, rmsEps, false)
		if math.Abs(in-(-3.16212e-5)) > goldenBound(-3.16212e-5) || math.Abs(out-(-3.06534e-3)) > goldenBound(-3.06534e-3) {
			t.Fatalf("reference rmsprop g=1e-5: eps inside %g, outside %g", in, out)
		}
	})
}
