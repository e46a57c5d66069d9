package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// xentCase is one SoftmaxCrossEntropy call: logits (m rows of n, leading dimension
// ld) and labels, with the optional outputs switched on or off.
type xentCase struct {
	name              string
	m, n, ld          int
	logits            func(i, j int) float32
	labels            []int32
	scale             float32
	withGrad, withRow bool
	alias             bool // grad is the logits buffer (ldg == ldl)
}

// checkXent runs c and compares everything with the float64 reference:
//   - rowLoss within (n+16)*eps32*(1 + |x_label - max| + loss) of logsumexp - x_label
//     (n roundings in the sum of exponentials, a few in exp and log, and the rounding
//     of the shifted label logit);
//   - grad within |scale|*eps32*((n+16)*p_j*(1 + |x_j - max|) + 1) of
//     scale*(p_j - [j == label]): relative to p_j, whose exponent's argument x_j - max
//     is itself rounded, plus one ulp of |scale| absolutely for the label's p - 1;
//   - the number of rows whose first largest logit is at the label, exactly;
//   - the guard bands, the padding and the read-only operands.
func checkXent(c xentCase) error {
	var lg, gr, rl matBuf
	lg.reset(c.m, c.n, c.ld, c.logits)
	labels := vecInt32(c.labels)
	ref := make([]float64, c.m)
	p := make([][]float64, c.m)
	wantCorrect := 0
	for i := 0; i < c.m; i++ {
		p[i] = make([]float64, c.n)
		var arg int
		ref[i], arg = softmaxRef(lg.s[i*c.ld:i*c.ld+c.n], int(c.labels[i]), p[i])
		if arg == int(c.labels[i]) {
			wantCorrect++
		}
	}
	orig := append([]float32(nil), lg.s...)
	var grad, rowLoss []float32
	ldg := c.ld
	if c.withGrad {
		if c.alias {
			grad = lg.s
		} else {
			ldg = c.n + 1
			gr.reset(c.m, c.n, ldg, func(int, int) float32 { return nan32 })
			grad = gr.s
		}
	}
	if c.withRow {
		rl.reset(1, c.m, max(c.m, 1), func(int, int) float32 { return nan32 })
		rowLoss = rl.s
	}
	if !c.alias {
		lg.save()
	}
	labels.save()

	got := kernels.SoftmaxCrossEntropy(c.m, c.n, lg.s, c.ld, c.labels, grad, ldg, c.scale, rowLoss)

	if got != wantCorrect {
		return fmt.Errorf("correct = %d, want %d", got, wantCorrect)
	}
	if err := labels.checkUnchanged(); err != nil {
		return fmt.Errorf("labels: %v", err)
	}
	if c.alias {
		if err := lg.checkOutside(); err != nil {
			return fmt.Errorf("logits/grad: %v", err)
		}
	} else if err := lg.checkUnchanged(); err != nil {
		return fmt.Errorf("logits (read-only): %v", err)
	}
	if c.withRow {
		if err := rl.checkOutside(); err != nil {
			return fmt.Errorf("rowLoss: %v", err)
		}
		for i := 0; i < c.m; i++ {
			row := orig[i*c.ld : i*c.ld+c.n]
			mx := slicesMax(row)
			d := math.Abs(float64(row[c.labels[i]]) - mx)
			bound := float64(c.n+16) * eps32 * (1 + d + math.Abs(ref[i]))
			if g := float64(rl.s[i]); !(math.Abs(g-ref[i]) <= bound) || math.IsInf(g, 0) {
				return fmt.Errorf("rowLoss[%d] = %v, want %v (bound %.3g)", i, g, ref[i], bound)
			}
		}
	}
	if c.withGrad {
		g, ld := grad, ldg
		if !c.alias {
			if err := gr.checkOutside(); err != nil {
				return fmt.Errorf("grad: %v", err)
			}
		}
		sc := float64(c.scale)
		for i := 0; i < c.m; i++ {
			row := orig[i*c.ld : i*c.ld+c.n]
			mx := slicesMax(row)
			for j := 0; j < c.n; j++ {
				want := sc * p[i][j]
				if j == int(c.labels[i]) {
					want -= sc
				}
				bound := math.Abs(sc) * eps32 * (float64(c.n+16)*p[i][j]*(1+math.Abs(float64(row[j])-mx)) + 1)
				if got := float64(g[i*ld+j]); !(math.Abs(got-want) <= bound) {
					return fmt.Errorf("grad(%d,%d) = %v, want %v (bound %.3g)", i, j, got, want, bound)
				}
			}
		}
	}
	return nil
}

func slicesMax(row []float32) float64 {
	mx := float64(row[0])
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	return mx
}

// int32Buf is a guarded []int32: a matBuf of the same bits.
type int32Buf struct{ f matBuf }

func vecInt32(v []int32) *int32Buf {
	b := &int32Buf{}
	b.f.reset(1, len(v), max(len(v), 1), func(_, j int) float32 { return math.Float32frombits(uint32(v[j])) })
	return b
}
func (b *int32Buf) save()                 { b.f.save() }
func (b *int32Buf) checkUnchanged() error { return b.f.checkUnchanged() }

func (c xentCase) run(t testing.TB) {
	t.Helper()
	for _, opt := range [][3]bool{{true, true, false}, {true, true, true}, {false, true, false}, {true, false, false}, {false, false, false}} {
		c.withGrad, c.withRow, c.alias = opt[0], opt[1], opt[2]
		if err := checkXent(c); err != nil {
			t.Fatalf("SoftmaxCrossEntropy %s (m=%d n=%d ld=%d scale=%g grad=%v rowLoss=%v grad aliases logits=%v): %v",
				c.name, c.m, c.n, c.ld, c.scale, c.withGrad, c.withRow, c.alias, err)
		}
	}
}

// TestSoftmaxCrossEntropyRandom: every class count up to 70 and a few larger, with
// random logits and labels, several rows, padded rows, every output combination.
func TestSoftmaxCrossEntropyRandom(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		rng := rand.New(rand.NewPCG(5, 6))
		ns := vecLens[1:]
		if testing.Short() {
			ns = ns[:40]
		}
		for _, n := range ns {
			for _, m := range []int{1, 3, 17} {
				labels := make([]int32, m)
				for i := range labels {
					labels[i] = int32(rng.IntN(n))
				}
				vals := make([]float32, m*(n+2))
				for i := range vals {
					vals[i] = float32(rng.NormFloat64() * 6)
				}
				xentCase{
					name: "random", m: m, n: n, ld: n + m%3,
					logits: func(i, j int) float32 { return vals[i*(n+2)+j] },
					labels: labels, scale: 1 / float32(m),
				}.run(t)
			}
		}
	})
}

// TestSoftmaxCrossEntropyRows: rows chosen to break naive implementations: logits
// near and past float32 exp's overflow (88, 89, 100, 1e30, 1e38), all-equal rows and
// ties (the first largest is the prediction), a single class, and the class counts
// 10, 17 and 33 (a full vector plus tails). The loss stays finite for all of them.
func TestSoftmaxCrossEntropyRows(t *testing.T) {
	rows := map[string]func(n, j int) float32{
		"one huge":        func(n, j int) float32 { return pick(j == n/2, 1e30, -1e30) },
		"huge at end":     func(n, j int) float32 { return pick(j == n-1, 1e30, -1e30) },
		"1e38 spread":     func(n, j int) float32 { return pick(j%2 == 0, 1e38, -1e38) },
		"88 89 100":       func(n, j int) float32 { return []float32{88, 89, 100, -100, 0}[j%5] },
		"all 89":          func(n, j int) float32 { return 89 },
		"all equal":       func(n, j int) float32 { return 0.25 },
		"all -1e30":       func(n, j int) float32 { return -1e30 },
		"zeros, -0 first": func(n, j int) float32 { return pick(j == 0, negZ, 0) },
		"tie at 2 and last": func(n, j int) float32 {
			return pick(j == 2 || j == n-1, 7, float32(j%3))
		},
		"descending": func(n, j int) float32 { return float32(n - j) },
		"ascending":  func(n, j int) float32 { return float32(j) * 3 },
		"tiny":       func(n, j int) float32 { return float32(j) * 1e-30 },
	}
	forEachBackend(t, func(t testing.TB, _ string) {
		for name, f := range rows {
			for _, n := range []int{1, 2, 3, 10, 16, 17, 32, 33} {
				// One row per label: the loss of every class, and whether it is the prediction.
				m := n
				labels := make([]int32, m)
				for i := range labels {
					labels[i] = int32(i)
				}
				for _, pad := range []int{0, 5} {
					xentCase{
						name: name, m: m, n: n, ld: n + pad,
						logits: func(_, j int) float32 { return f(n, j) },
						labels: labels, scale: 1 / float32(m),
					}.run(t)
				}
				// Each row alone: the prediction of every row, not only their count.
				for l := 0; l < n; l++ {
					xentCase{name: name + " single row", m: 1, n: n, ld: n,
						logits: func(_, j int) float32 { return f(n, j) }, labels: []int32{int32(l)}, scale: 1}.run(t)
				}
				// scale 1 and -3: the gradient is scaled, not normalized.
				for _, sc := range []float32{1, -3} {
					xentCase{name: name, m: m, n: n, ld: n, logits: func(_, j int) float32 { return f(n, j) }, labels: labels, scale: sc}.run(t)
				}
			}
		}
	})
}

func pick(c bool, a, b float32) float32 {
	if c {
		return a
	}
	return b
}

// TestSoftmaxCrossEntropyExactValues pins a few results to closed forms: n equal
// logits give loss log(n) for every label and argmax 0; a single class has loss 0 and
// gradient 0.
func TestSoftmaxCrossEntropyExactValues(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, n := range []int{1, 10, 17, 33} {
			logits := make([]float32, n*n)
			labels := make([]int32, n)
			for i := range labels {
				labels[i] = int32(i)
			}
			grad := make([]float32, n*n)
			loss := make([]float32, n)
			correct := kernels.SoftmaxCrossEntropy(n, n, logits, n, labels, grad, n, 1, loss)
			if correct != 1 {
				t.Fatalf("n=%d equal logits: correct = %d, want 1 (only label 0 is the first largest)", n, correct)
			}
			for i, l := range loss {
				if math.Abs(float64(l)-math.Log(float64(n))) > 4*eps32*math.Log(float64(n)+1) {
					t.Fatalf("n=%d equal logits: loss[%d] = %v, want log(n) = %v", n, i, l, math.Log(float64(n)))
				}
			}
		}
	})
}

// TestSoftmaxCrossEntropyBadLabels: a label outside [0, n) panics, naming the row.
func TestSoftmaxCrossEntropyBadLabels(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		logits := make([]float32, 4*10)
		for _, bad := range []int32{-1, 10, 1 << 30} {
			labels := []int32{0, 9, 3, bad}
			msg := panicMessage(func() { kernels.SoftmaxCrossEntropy(4, 10, logits, 10, labels, nil, 10, 1, nil) })
			want := fmt.Sprintf("labels[3] = %d", bad)
			if !strings.Contains(msg, want) || !strings.Contains(msg, "SoftmaxCrossEntropy") {
				t.Fatalf("label %d: panic %q, want one naming SoftmaxCrossEntropy and %q", bad, msg, want)
			}
		}
	})
}

// panicMessage runs f and returns what it panicked with ("" if it did not).
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}
