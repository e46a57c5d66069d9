package kernels_test

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/simdmlp/simdmlp/kernels"
)

// operand is one slice a kernel call takes. Every operand is described as float32s,
// so that the guard-band, page-boundary and allocation tests place them uniformly;
// SoftmaxCrossEntropy's labels are int32s stored in the same bits.
type operand struct {
	name string
	n    int // elements
	fill func(i int) float32
	out  bool // written by the kernel (else it must be left unchanged)
}

// kernelCall is one call of an exported kernel on operands the caller places.
type kernelCall struct {
	name string
	ops  []operand
	call func(s [][]float32)
}

// asInt32 reinterprets a float32 operand as the int32s it holds.
func asInt32(s []float32) []int32 {
	if len(s) == 0 {
		return []int32{}
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(&s[0])), len(s))
}

// label stores class l in a float32 operand.
func label(l int) float32 { return math.Float32frombits(uint32(int32(l))) }

func small(i int) float32 { return float32((i*37)%23-11) / 8 }
func positive(i int) float32 {
	return float32((i*29)%17+1) / 16
}

// gemmShapes are the (m, n, k) of the Sgemm calls for size n: all three dimensions
// equal to n (every tail in every dimension as n runs over 0..70), and skinny shapes.
func gemmShapes(n int) [][3]int {
	if n <= 70 {
		return [][3]int{{n, n, n}, {2, n, 1}, {n, 3, 9}}
	}
	return [][3]int{{3, n, 5}, {n, 3, 5}, {5, 5, n}}
}

// kernelCalls returns a call of every exported kernel whose vectors (or matrix
// rows) have n elements. Matrices have tight leading dimensions, so each operand's
// last element is the last element of its slice.
func kernelCalls(n int) []kernelCall {
	var calls []kernelCall
	for _, sh := range gemmShapes(n) {
		m, nn, k := sh[0], sh[1], sh[2]
		for _, tr := range transposes {
			for _, beta := range []float32{0, 0.5} {
				tA, tB := tr[0], tr[1]
				ar, ac, br, bc := m, k, k, nn
				if tA {
					ar, ac = k, m
				}
				if tB {
					br, bc = nn, k
				}
				lda, ldb, ldc := max(ac, 1), max(bc, 1), max(nn, 1)
				calls = append(calls, kernelCall{
					name: fmt.Sprintf("Sgemm %s m=%d n=%d k=%d beta=%g", transName(tA, tB), m, nn, k, beta),
					ops: []operand{
						{"A", matSize(ar, ac, lda), small, false},
						{"B", matSize(br, bc, ldb), small, false},
						{"C", matSize(m, nn, ldc), small, true},
					},
					call: func(s [][]float32) { kernels.Sgemm(tA, tB, m, nn, k, 1, s[0], lda, s[1], ldb, beta, s[2], ldc) },
				})
			}
		}
	}
	const m = 3
	ld := max(n, 1)
	calls = append(calls,
		kernelCall{"AddBias", []operand{{"x", matSize(m, n, ld), small, true}, {"bias", n, small, false}},
			func(s [][]float32) { kernels.AddBias(m, n, s[0], ld, s[1]) }},
		kernelCall{"ColSums", []operand{{"x", matSize(m, n, ld), small, false}, {"dst", n, small, true}},
			func(s [][]float32) { kernels.ColSums(m, n, s[0], ld, s[1]) }},
		kernelCall{"SGD", []operand{{"w", n, small, true}, {"g", n, small, false}},
			func(s [][]float32) { kernels.SGD(s[0], s[1], 0.01) }},
		kernelCall{"Adam", []operand{{"w", n, small, true}, {"g", n, small, false}, {"m", n, small, true}, {"v", n, positive, true}},
			func(s [][]float32) { kernels.Adam(s[0], s[1], s[2], s[3], 1e-3, 0.9, 0.999, 1e-7) }},
	)
	for _, inside := range []bool{false, true} {
		calls = append(calls,
			kernelCall{fmt.Sprintf("Adagrad epsInside=%v", inside), []operand{{"w", n, small, true}, {"g", n, small, false}, {"acc", n, positive, true}},
				func(s [][]float32) { kernels.Adagrad(s[0], s[1], s[2], 1e-3, 1e-7, inside) }},
			kernelCall{fmt.Sprintf("RMSProp epsInside=%v", inside), []operand{{"w", n, small, true}, {"g", n, small, false}, {"s", n, positive, true}},
				func(s [][]float32) { kernels.RMSProp(s[0], s[1], s[2], 1e-3, 0.9, 1e-7, inside) }},
		)
	}
	for _, act := range activations {
		calls = append(calls,
			kernelCall{fmt.Sprintf("Activate(%v)", act), []operand{{"dst", n, small, true}, {"src", n, small, false}},
				func(s [][]float32) { kernels.Activate(act, s[0], s[1]) }},
			kernelCall{fmt.Sprintf("Activate(%v) in place", act), []operand{{"x", n, small, true}},
				func(s [][]float32) { kernels.Activate(act, s[0], s[0]) }},
			kernelCall{fmt.Sprintf("ActivateGrad(%v)", act), []operand{{"dx", n, small, true}, {"dy", n, small, false}, {"y", n, positive, false}},
				func(s [][]float32) { kernels.ActivateGrad(act, s[0], s[1], s[2]) }},
		)
	}
	if n > 0 {
		lab := func(i int) float32 { return label((i * 7) % n) }
		calls = append(calls,
			kernelCall{"SoftmaxCrossEntropy", []operand{
				{"logits", matSize(m, n, ld), small, false}, {"labels", m, lab, false},
				{"grad", matSize(m, n, ld), small, true}, {"rowLoss", m, small, true}},
				func(s [][]float32) { kernels.SoftmaxCrossEntropy(m, n, s[0], ld, asInt32(s[1]), s[2], ld, 1.0/m, s[3]) }},
			kernelCall{"SoftmaxCrossEntropy grad aliasing logits", []operand{
				{"logits", matSize(m, n, ld), small, true}, {"labels", m, lab, false}},
				func(s [][]float32) { kernels.SoftmaxCrossEntropy(m, n, s[0], ld, asInt32(s[1]), s[0], ld, 1.0/m, nil) }},
			kernelCall{"SoftmaxCrossEntropy loss only", []operand{
				{"logits", matSize(m, n, ld), small, false}, {"labels", m, lab, false}},
				func(s [][]float32) { kernels.SoftmaxCrossEntropy(m, n, s[0], ld, asInt32(s[1]), nil, ld, 1.0/m, nil) }},
		)
	}
	return calls
}

// tableLens are the sizes the table tests use: every tail modulo 16 and 32 (0..66),
// and longer vectors with a few tails.
func tableLens(short bool) []int {
	var ns []int
	for n := 0; n <= 66; n++ {
		ns = append(ns, n)
	}
	if short {
		return append(ns, 129, 1001)
	}
	return append(ns, 127, 128, 129, 1000, 1001, 1023, 1031)
}
