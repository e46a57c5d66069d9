package kernels_test

// The float64 reference every kernel is checked against. It is written from the
// definitions (the API's doc comments and reference/protocol.md), independently of
// any backend: plain loops, float64 arithmetic, no blocking or unrolling, so that its
// own rounding error is negligible next to the float32 tolerances the tests allow.

import "math"

// eps32 is float32's machine epsilon, the spacing of floats just above 1 (2^-23).
// Rounding to nearest is accurate to half of it.
const eps32 = 0x1p-23

// minNormal32 is the smallest positive normal float32.
const minNormal32 = 0x1p-126

// gemmRef holds the reference GEMM's scratch, reused across calls.
type gemmRef struct {
	opB, opBAbs []float64 // op(B) as a k x n float64 matrix, and its absolute values
	ref, mag    []float64
}

// run computes, in float64, ref = alpha*op(A)*op(B) + beta*C (m x n, row-major with
// leading dimension n) and mag = |alpha|*sum_p |op(A)_ip*op(B)_pj| + |beta*c_ij|, the
// scale of the rounding error any float32 evaluation order may make (a sum of k
// products, each rounded, then alpha and beta applied). Only the rows listed in rows
// are computed (all when rows is nil). Like the API it does not read A and B when
// alpha or k is 0, nor C when beta is 0.
func (w *gemmRef) run(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int, rows []int) (ref, mag []float64) {
	w.ref = grow(w.ref, m*n)
	w.mag = grow(w.mag, m*n)
	ref, mag = w.ref[:m*n], w.mag[:m*n]
	clear(ref)
	clear(mag)
	readAB := alpha != 0 && k != 0
	if readAB {
		w.opB = grow(w.opB, k*n)
		w.opBAbs = grow(w.opBAbs, k*n)
		for p := 0; p < k; p++ {
			for j := 0; j < n; j++ {
				var v float32
				if transB {
					v = b[j*ldb+p]
				} else {
					v = b[p*ldb+j]
				}
				w.opB[p*n+j] = float64(v)
				w.opBAbs[p*n+j] = math.Abs(float64(v))
			}
		}
	}
	row := func(i int) {
		acc, am := ref[i*n:(i+1)*n], mag[i*n:(i+1)*n]
		if readAB {
			for p := 0; p < k; p++ {
				var x float32
				if transA {
					x = a[p*lda+i]
				} else {
					x = a[i*lda+p]
				}
				xf, xa := float64(x), math.Abs(float64(x))
				bp, bpa := w.opB[p*n:(p+1)*n], w.opBAbs[p*n:(p+1)*n]
				for j := range acc {
					acc[j] += xf * bp[j]
					am[j] += xa * bpa[j]
				}
			}
		}
		al, be := float64(alpha), float64(beta)
		for j := range acc {
			acc[j] *= al
			am[j] *= math.Abs(al)
			if beta != 0 {
				cb := be * float64(c[i*ldc+j])
				acc[j] += cb
				am[j] += math.Abs(cb)
			}
		}
	}
	if rows == nil {
		for i := 0; i < m; i++ {
			row(i)
		}
	} else {
		for _, i := range rows {
			row(i)
		}
	}
	return ref, mag
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// sigmoidRef is 1/(1+e^-x). Near 0 it uses its Taylor series (0.5 + x/4 - x^3/48 +
// x^5/480, next term below 2^-46 for |x| < 2^-7), which is both exact to float64
// precision there and cheap: most float32 bit patterns in any interval around 0 are
// tiny, and the exhaustive test evaluates this function on billions of them.
func sigmoidRef(x float64) float64 {
	if math.Abs(x) < 0x1p-7 {
		x2 := x * x
		return 0.5 + x*(0.25+x2*(-1.0/48+x2*(1.0/480)))
	}
	return 1 / (1 + math.Exp(-x))
}

// tanhRef is tanh(x), with its Taylor series x - x^3/3 + 2x^5/15 near 0 (see sigmoidRef).
func tanhRef(x float64) float64 {
	if math.Abs(x) < 0x1p-7 {
		x2 := x * x
		return x * (1 + x2*(-1.0/3+x2*(2.0/15)))
	}
	return math.Tanh(x)
}

// reluRef is max(x, 0) with NaN propagated.
func reluRef(x float64) float64 {
	if x < 0 {
		return 0
	}
	return x
}

// actRef is the activation act (0 identity, 1 relu, 2 sigmoid, 3 tanh, the API's order).
func actRef(act int, x float64) float64 {
	switch act {
	case 1:
		return reluRef(x)
	case 2:
		return sigmoidRef(x)
	case 3:
		return tanhRef(x)
	}
	return x
}

// actGradRef is dy*f'(x) written from the output y = f(x), as the API defines it.
func actGradRef(act int, dy, y float64) float64 {
	switch act {
	case 1:
		if y > 0 {
			return dy
		}
		return 0
	case 2:
		return dy * y * (1 - y)
	case 3:
		return dy * (1 - y*y)
	}
	return dy
}

// softmaxRef returns, for one row of logits, the cross-entropy loss of class label
// (logsumexp(row) - row[label], computed stably), the softmax probabilities in p
// (len(p) == len(row)), and the index of the first largest logit.
func softmaxRef(row []float32, label int, p []float64) (loss float64, argmax int) {
	mx := float64(row[0])
	for j, v := range row {
		if float64(v) > mx {
			mx, argmax = float64(v), j
		}
	}
	var sum float64
	for j, v := range row {
		p[j] = math.Exp(float64(v) - mx)
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
	return math.Log(sum) - (float64(row[label]) - mx), argmax
}

// flushRef is what the API documents for optimizer state: a value whose magnitude is
// below the smallest normal float32 is stored as 0. It returns the expected value and
// whether x is so close to the threshold that float32 rounding may put it either side
// (then either 0 or x is right).
func flushRef(x float64) (want float64, either bool) {
	ax := math.Abs(x)
	switch {
	case ax < minNormal32*(1-4*eps32):
		return 0, false
	case ax <= minNormal32*(1+4*eps32):
		return x, true
	}
	return x, false
}

// squareCounts reports whether the API lets c*g*g (c = 1-beta2 or 1-rho, computed in
// float32, or 1 for Adagrad) count: it counts as zero when |g| < sqrt(2^-126/c), the
// float32 threshold below which it would be a subnormal number.
func squareCounts(g, c float32) bool {
	thr := float32(math.Sqrt(float64(float32(0x1p-126) / c)))
	return !(math.Abs(float64(g)) < float64(thr))
}

// adamRef is one Adam step of protocol.md for one weight, in float64, before the
// flush: m' = b1*m + (1-b1)*g; v' = b2*v + (1-b2)*g^2; w' = w - lrT*m'/(sqrt(v')+eps).
// The constants are the float32 values the kernel is given, and 1-b1, 1-b2 are
// computed from them. A (1-b2)*g^2 below the smallest normal float32 counts as zero,
// as the API says.
func adamRef(w, g, m, v, lrT, b1, b2, eps float32) (w2, m2, v2 float64) {
	fb1, fb2, fg := float64(b1), float64(b2), float64(g)
	m2 = fb1*float64(m) + (1-fb1)*fg
	v2 = fb2 * float64(v)
	if squareCounts(g, 1-b2) {
		v2 += (1 - fb2) * fg * fg
	}
	mf, _ := flushRef(m2)
	vf, _ := flushRef(v2)
	w2 = float64(w) - float64(lrT)*mf/(math.Sqrt(vf)+float64(eps))
	return w2, m2, v2
}

// adagradRef is one Adagrad step: a' = a + g^2; w' = w - lr*g/sqrt(a'+eps) (eps inside,
// current Keras) or w - lr*g/(sqrt(a')+eps).
func adagradRef(w, g, acc, lr, eps float32, epsInside bool) (w2, acc2 float64) {
	fg := float64(g)
	acc2 = float64(acc)
	if squareCounts(g, 1) {
		acc2 += fg * fg
	}
	return float64(w) - float64(lr)*fg/rootEps(acc2, float64(eps), epsInside), acc2
}

// rmspropRef is one RMSprop step without momentum: s' = rho*s + (1-rho)*g^2;
// w' = w - lr*g/sqrt(s'+eps) or w - lr*g/(sqrt(s')+eps).
func rmspropRef(w, g, s, lr, rho, eps float32, epsInside bool) (w2, s2 float64) {
	fg, fr := float64(g), float64(rho)
	s2 = fr * float64(s)
	if squareCounts(g, 1-rho) {
		s2 += (1 - fr) * fg * fg
	}
	sf, _ := flushRef(s2)
	return float64(w) - float64(lr)*fg/rootEps(sf, float64(eps), epsInside), s2
}

func rootEps(x, eps float64, inside bool) float64 {
	if inside {
		return math.Sqrt(x + eps)
	}
	return math.Sqrt(x) + eps
}

// adamLRT is protocol.md's bias-corrected learning rate for step t (t >= 1),
// lr*sqrt(1-beta2^t)/(1-beta1^t), computed in float64 and rounded once.
func adamLRT(lr, beta1, beta2 float64, t int) float32 {
	return float32(lr * math.Sqrt(1-math.Pow(beta2, float64(t))) / (1 - math.Pow(beta1, float64(t))))
}
