//go:build amd64 && !purego && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// softmaxRef is the float64 reference of one row: loss, the probabilities, and the
// first index of the largest logit.
func softmaxRef(z []float32, label int) (loss float64, p []float64, arg int) {
	mx := z[0]
	for j, v := range z {
		if v > mx {
			arg, mx = j, v
		}
	}
	p = make([]float64, len(z))
	var sum float64
	for j, v := range z {
		p[j] = math.Exp(float64(v) - float64(mx))
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
	return math.Log(sum) - (float64(z[label]) - float64(mx)), p, arg
}

// softmaxRow draws a row of logits of one of several kinds: ordinary, with the
// maximum repeated (first-argmax ties), all equal, huge spreads whose exp underflow.
func softmaxRow(r *rand.Rand, z []float32, kind int) {
	switch kind % 5 {
	case 0, 1:
		for j := range z {
			z[j] = ewValue(r, 6, false)
		}
	case 2: // ties at the maximum
		for j := range z {
			z[j] = float32(r.IntN(4))
		}
	case 3:
		c := ewValue(r, 50, false)
		for j := range z {
			z[j] = c
		}
	case 4: // spreads of 1e30: every term but the largest underflows
		for j := range z {
			z[j] = ewValue(r, 1e30, false)
		}
	}
}

// TestSoftmaxXent checks the row softmax cross-entropy against the float64 reference
// over shapes that cross every tail, the 64-row chunks of the Go wrapper and padded
// rows: the count of correct rows exactly (first argmax), each row's loss (finite
// for finite logits, even for spreads of 1e30) and gradient within a few float32
// roundings, with the gradient separate, absent, or written over the logits.
func TestSoftmaxXent(t *testing.T) {
	forEachSIMD(t, func(t *testing.T, b *impl) {
		r := rand.New(rand.NewPCG(4, 5))
		var ns []int
		for n := 1; n <= 3*16+1; n++ {
			ns = append(ns, n)
		}
		ns = append(ns, 64, 100, 784)
		for _, m := range []int{1, 2, 3, 63, 64, 65, 130} {
			for _, n := range ns {
				for mode := range 3 { // 0: separate grad, 1: no grad, 2: grad over logits
					if err := checkSoftmax(r, b, m, n, mode); err != nil {
						t.Fatalf("m=%d n=%d mode %d: %v", m, n, mode, err)
					}
				}
			}
		}
	})
}

func checkSoftmax(r *rand.Rand, b *impl, m, n, mode int) error {
	ldl := n + (m+n)%5
	ldg := ldl
	if mode == 0 {
		ldg = n + 3
	}
	lsize, gsize := (m-1)*ldl+n, (m-1)*ldg+n
	lbuf, logits := ewGuarded(lsize)
	labels := make([]int32, m)
	for i := range m {
		softmaxRow(r, logits[i*ldl:i*ldl+n], r.IntN(5))
		labels[i] = int32(r.IntN(n))
	}
	orig := append([]float32(nil), logits...)
	saved := append([]float32(nil), lbuf...)
	var gbuf, grad []float32
	switch mode {
	case 0:
		gbuf, grad = ewGuarded(gsize)
	case 2:
		gbuf, grad = lbuf, logits
	}
	lossBuf, rowLoss := ewGuarded(m)
	scale := float32(1) / float32(m)
	if m%2 == 1 {
		scale = -2.5
	}

	correct := b.softmaxXent(m, n, logits, ldl, labels, grad, ldg, scale, rowLoss)

	want := 0
	for i := range m {
		z := orig[i*ldl : i*ldl+n]
		loss, p, arg := softmaxRef(z, int(labels[i]))
		if arg == int(labels[i]) {
			want++
		}
		got := float64(rowLoss[i])
		if math.IsInf(got, 0) || math.IsNaN(got) || math.Abs(got-loss) > 1e-6*(1+math.Abs(loss)+float64(n)/8) {
			return fmt.Errorf("row %d: loss %v, want %.9g (logits %v, label %d)", i, got, loss, z, labels[i])
		}
		if grad == nil {
			continue
		}
		for j := range n {
			ref := p[j]
			if j == int(labels[i]) {
				ref -= 1
			}
			ref *= float64(scale)
			g := float64(grad[i*ldg+j])
			tol := math.Abs(float64(scale)) * ((5e-7+float64(n)*6e-8)*p[j] + 1.2e-7)
			if !(math.Abs(g-ref) <= tol) {
				return fmt.Errorf("row %d: grad[%d] = %v, want %.9g (tolerance %.3g)", i, j, g, ref, tol)
			}
		}
	}
	if correct != want {
		return fmt.Errorf("correct = %d, want %d", correct, want)
	}
	if err := ewCheckGuards(lossBuf, m); err != nil {
		return fmt.Errorf("rowLoss: %v", err)
	}
	if mode != 2 { // logits are read only
		for e, v := range lbuf {
			if math.Float32bits(v) != math.Float32bits(saved[e]) {
				return fmt.Errorf("logits buffer element %d changed from %v to %v", e, saved[e], v)
			}
		}
	}
	if grad != nil {
		ld := ldg
		for e := range gsize {
			if e%ld >= n && math.Float32bits(grad[e]) != ewSentinelBits {
				return fmt.Errorf("grad padding element %d was written", e)
			}
		}
		if err := ewCheckGuards(gbuf, gsize); err != nil {
			return fmt.Errorf("grad: %v", err)
		}
	}
	return nil
}

// TestSoftmaxXentNaN checks that a NaN logit gives a NaN loss for its row only, and
// that the other rows are unaffected.
func TestSoftmaxXentNaN(t *testing.T) {
	forEachSIMD(t, func(t *testing.T, b *impl) {
		for _, n := range []int{1, 7, 10, 16, 17, 33} {
			for pos := range n {
				logits := make([]float32, 2*n)
				for j := range logits {
					logits[j] = float32(j % 3)
				}
				logits[pos] = float32(math.NaN())
				loss := make([]float32, 2)
				b.softmaxXent(2, n, logits, n, []int32{0, 0}, nil, n, 1, loss)
				want1, _, _ := softmaxRef(logits[n:], 0)
				if loss[0] == loss[0] || math.Abs(float64(loss[1])-want1) > 1e-6 {
					t.Fatalf("n=%d NaN at %d: losses %v, want NaN and %.7g", n, pos, loss, want1)
				}
			}
		}
	})
}
