package kernels

import (
	"fmt"
	"math"
)

// Activation names an elementwise activation function.
type Activation uint8

// The activations of a hidden layer. Identity is the output layer's (its logits go
// to SoftmaxCrossEntropy).
const (
	Identity Activation = iota
	ReLU
	Sigmoid
	Tanh
)

var activationNames = [...]string{Identity: "identity", ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}

// String returns the activation's name as the command line spells it.
func (a Activation) String() string {
	if int(a) < len(activationNames) {
		return activationNames[a]
	}
	return fmt.Sprintf("Activation(%d)", uint8(a))
}

// ParseActivation returns the activation called name ("relu", "sigmoid", "tanh",
// "identity" or "linear").
func ParseActivation(name string) (Activation, error) {
	switch name {
	case "relu":
		return ReLU, nil
	case "sigmoid":
		return Sigmoid, nil
	case "tanh":
		return Tanh, nil
	case "identity", "linear":
		return Identity, nil
	}
	return 0, fmt.Errorf("unknown activation %q: want relu, sigmoid, tanh or identity", name)
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where op(X) is X
// or its transpose: op(A) is m x k, op(B) is k x n and C is m x n. A is stored as m x k
// (transA false) or k x m (transA true) with leading dimension lda, likewise B.
// When beta is 0, C is only written, never read, so NaN or Inf in C do not leak into
// the result; when alpha is 0 (or k is 0), A and B are not read. C must not overlap A
// or B (the backends read A and B while C is being written).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkSgemm("Sgemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	current.Load().sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkSgemm panics unless A, B and C hold the matrices of an m x n x k GEMM.
func checkSgemm(fn string, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels.%s: negative dimension m=%d n=%d k=%d", fn, m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix(fn, "A", ar, ac, a, lda)
	checkMatrix(fn, "B", br, bc, b, ldb)
	checkMatrix(fn, "C", m, n, c, ldc)
}

// AddBias adds bias[j] to every element of column j of the m x n matrix x:
// x[i*ldx+j] += bias[j].
func AddBias(m, n int, x []float32, ldx int, bias []float32) {
	checkMatrix("AddBias", "x", m, n, x, ldx)
	checkLen("AddBias", "bias", bias, n)
	if m == 0 || n == 0 {
		return
	}
	current.Load().addBias(m, n, x, ldx, bias)
}

// Activate sets dst[i] = f(src[i]) for the activation f over len(dst) elements
// (src must be at least as long; dst and src may be the same slice). ReLU is
// max(x, 0) (NaN stays NaN), Sigmoid is 1/(1+exp(-x)), Tanh is tanh(x); both saturate
// to their exact limits for large |x| and at +-Inf, and NaN in gives NaN out. The sign
// of a zero result is not specified: relu(-0) and tanh(-0) may be -0 or +0 depending
// on the backend (vector max instructions order zeros differently); both compare
// equal to 0 and behave alike in every later kernel.
func Activate(act Activation, dst, src []float32) {
	checkLen("Activate", "src", src, len(dst))
	checkActivation("Activate", act)
	current.Load().activate(act, dst, src[:len(dst)])
}

// ActivateGrad sets dx[i] = dy[i] * f'(x[i]) written in terms of the activation's
// OUTPUT y[i] = f(x[i]): ReLU: dy if y > 0 else 0; Sigmoid: dy*y*(1-y); Tanh:
// dy*(1-y*y); Identity: dy. dx may alias dy.
func ActivateGrad(act Activation, dx, dy, y []float32) {
	n := len(dx)
	checkLen("ActivateGrad", "dy", dy, n)
	checkLen("ActivateGrad", "y", y, n)
	checkActivation("ActivateGrad", act)
	current.Load().activateGrad(act, dx, dy[:n], y[:n])
}

// checkActivation panics unless act is one of the defined activations.
func checkActivation(fn string, act Activation) {
	if act > Tanh {
		panic(fmt.Sprintf("kernels.%s: unknown activation %d", fn, act))
	}
}

// activate is Activate on this backend, arguments checked (len(src) == len(dst)).
func (be *impl) activate(act Activation, dst, src []float32) {
	switch act {
	case Identity:
		if len(dst) > 0 && &dst[0] != &src[0] {
			copy(dst, src)
		}
	case ReLU:
		be.relu(dst, src)
	case Sigmoid:
		be.sigmoid(dst, src)
	case Tanh:
		be.tanh(dst, src)
	}
}

// activateGrad is ActivateGrad on this backend, arguments checked (dy and y as long
// as dx).
func (be *impl) activateGrad(act Activation, dx, dy, y []float32) {
	switch act {
	case Identity:
		if len(dx) > 0 && &dx[0] != &dy[0] {
			copy(dx, dy)
		}
	case ReLU:
		be.reluGrad(dx, dy, y)
	case Sigmoid:
		be.sigmoidGrad(dx, dy, y)
	case Tanh:
		be.tanhGrad(dx, dy, y)
	}
}

// ColSums sets dst[j] to the sum of column j of the m x n matrix x (the bias gradient
// of a dense layer). dst is overwritten, not accumulated into.
func ColSums(m, n int, x []float32, ldx int, dst []float32) {
	checkMatrix("ColSums", "x", m, n, x, ldx)
	checkLen("ColSums", "dst", dst, n)
	if n == 0 {
		return
	}
	if m == 0 {
		clear(dst[:n])
		return
	}
	current.Load().colSums(m, n, x, ldx, dst)
}

// SoftmaxCrossEntropy takes an m x n matrix of logits (one row per sample) and the
// class of each row, labels[i] in [0, n). For each row it computes, stably (max
// subtracted first), the cross-entropy of the softmax: rowLoss[i] = logsumexp(row) -
// row[labels[i]], and counts the rows whose first largest logit is at the label.
// If grad is not nil it also writes the loss gradient with respect to the logits,
// scaled: grad[i*ldg+j] = scale*(softmax(row)_j - [j == labels[i]]) (scale is usually
// 1/m, for a mean loss). grad may alias logits when ldg == ldl. rowLoss may be nil.
// A label outside [0, n) panics.
func SoftmaxCrossEntropy(m, n int, logits []float32, ldl int, labels []int32, grad []float32, ldg int, scale float32, rowLoss []float32) (correct int) {
	checkSoftmaxXent(m, n, logits, ldl, labels, grad, ldg, rowLoss)
	if m == 0 {
		return 0
	}
	return current.Load().softmaxXent(m, n, logits, ldl, labels, grad, ldg, scale, rowLoss)
}

// checkSoftmaxXent panics unless the arguments describe a SoftmaxCrossEntropy call:
// matrices inside their slices, n >= 1 when m >= 1, every label in [0, n).
func checkSoftmaxXent(m, n int, logits []float32, ldl int, labels []int32, grad []float32, ldg int, rowLoss []float32) {
	checkMatrix("SoftmaxCrossEntropy", "logits", m, n, logits, ldl)
	checkLen("SoftmaxCrossEntropy", "labels", labels, m)
	if grad != nil {
		checkMatrix("SoftmaxCrossEntropy", "grad", m, n, grad, ldg)
	}
	if rowLoss != nil {
		checkLen("SoftmaxCrossEntropy", "rowLoss", rowLoss, m)
	}
	if m == 0 {
		return
	}
	if n == 0 {
		panic("kernels.SoftmaxCrossEntropy: n = 0 classes")
	}
	for i, l := range labels[:m] {
		if l < 0 || int(l) >= n {
			panic(fmt.Sprintf("kernels.SoftmaxCrossEntropy: labels[%d] = %d, want 0 <= label < %d", i, l, n))
		}
	}
}

// SGD applies plain gradient descent: w[i] -= lr*g[i].
func SGD(w, g []float32, lr float32) {
	checkLen("SGD", "g", g, len(w))
	current.Load().sgd(w, g[:len(w)], lr)
}

// Adam applies one Adam step (Keras's form) with the bias-corrected learning rate
// lrT = lr*sqrt(1-beta2^t)/(1-beta1^t) already computed by the caller:
//
//	m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g*g; w -= lrT*m/(sqrt(v)+eps)
//
// Moment values whose magnitude falls below the smallest normal float32 are stored
// as zero, and so is the square of a gradient too small for (1-beta2)*g*g to be a
// normal float32 (|g| < sqrt(2^-126/(1-beta2)), about 3.4e-18 for Keras's beta2):
// subnormal arithmetic is many times slower on x86 and would make late epochs
// slower than early ones (late in training many gradients are that small), and the
// flushed values are far below anything that can move a weight.
func Adam(w, g, m, v []float32, lrT, beta1, beta2, eps float32) {
	n := len(w)
	checkLen("Adam", "g", g, n)
	checkLen("Adam", "m", m, n)
	checkLen("Adam", "v", v, n)
	current.Load().adam(w, g[:n], m[:n], v[:n], lrT, beta1, beta2, eps)
}

// Adagrad applies one Adagrad step: acc += g*g; w -= lr*g/sqrt(acc+eps) when
// epsInside (current Keras), else w -= lr*g/(sqrt(acc)+eps). A g*g below the
// smallest normal float32 (|g| < 2^-63) counts as zero (see Adam).
func Adagrad(w, g, acc []float32, lr, eps float32, epsInside bool) {
	n := len(w)
	checkLen("Adagrad", "g", g, n)
	checkLen("Adagrad", "acc", acc, n)
	current.Load().adagrad(w, g[:n], acc[:n], lr, eps, epsInside)
}

// RMSProp applies one RMSprop step without momentum: s = rho*s + (1-rho)*g*g;
// w -= lr*g/sqrt(s+eps) when epsInside (current Keras), else w -= lr*g/(sqrt(s)+eps).
// Values of s below the smallest normal float32 are stored as zero, and a (1-rho)*g*g
// below it counts as zero (see Adam).
func RMSProp(w, g, s []float32, lr, rho, eps float32, epsInside bool) {
	n := len(w)
	checkLen("RMSProp", "g", g, n)
	checkLen("RMSProp", "s", s, n)
	current.Load().rmsprop(w, g[:n], s[:n], lr, rho, eps, epsInside)
}

// checkMatrix panics unless x holds a rows x cols matrix with leading dimension ld.
func checkMatrix(fn, name string, rows, cols int, x []float32, ld int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("kernels.%s: %s has negative size %dx%d", fn, name, rows, cols))
	}
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kernels.%s: leading dimension of %s is %d, want >= %d (its columns)", fn, name, ld, max(1, cols)))
	}
	if rows == 0 || cols == 0 {
		return
	}
	// (rows-1)*ld + cols <= len(x), tested without computing the product, which can
	// overflow for a huge ld and would then let a short slice through to the kernels.
	if len(x) < cols || rows > 1 && ld > (len(x)-cols)/(rows-1) {
		need := fmt.Sprintf("%d elements", (rows-1)*ld+cols)
		if ld > (math.MaxInt-cols)/max(rows-1, 1) {
			need = "more elements than an int can count"
		}
		panic(fmt.Sprintf("kernels.%s: %s is %dx%d with ld %d and needs %s, got %d", fn, name, rows, cols, ld, need, len(x)))
	}
}

func checkLen[T any](fn, name string, x []T, n int) {
	if len(x) < n {
		panic(fmt.Sprintf("kernels.%s: %s has %d elements, want at least %d", fn, name, len(x), n))
	}
}

// MarshalText writes the activation's name, so configurations serialize readably.
func (a Activation) MarshalText() ([]byte, error) {
	if int(a) >= len(activationNames) {
		return nil, fmt.Errorf("unknown activation %d", uint8(a))
	}
	return []byte(activationNames[a]), nil
}

// UnmarshalText reads a name accepted by ParseActivation.
func (a *Activation) UnmarshalText(b []byte) error {
	v, err := ParseActivation(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
