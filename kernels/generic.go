package kernels

import "math"

// genericImpl is the pure-Go backend: present on every architecture, the fallback for
// any kernel a SIMD backend does not provide, and what the purego and noasm build
// tags leave.
func genericImpl() *impl {
	return &impl{
		name:        "generic",
		rank:        0,
		sgemm:       sgemmGeneric,
		gemmSplit:   4,
		addBias:     addBiasGeneric,
		relu:        reluGeneric,
		sigmoid:     sigmoidGeneric,
		tanh:        tanhGeneric,
		reluGrad:    reluGradGeneric,
		sigmoidGrad: sigmoidGradGeneric,
		tanhGrad:    tanhGradGeneric,
		colSums:     colSumsGeneric,
		softmaxXent: softmaxXentGeneric,
		sgd:         sgdGeneric,
		adam:        adamGeneric,
		adagrad:     adagradGeneric,
		rmsprop:     rmspropGeneric,
	}
}

// scaleRows sets C = beta*C over an m x n matrix; beta == 0 writes zeros without
// reading C.
func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemmColBlock is the width of the column blocks of C (and B) the generic GEMM works
// on when op(B) = B: a k x 256 panel of B (784 KB for k = 784) stays in L2 while every
// pair of rows of C, 2 KB, goes over it in L1.
const gemmColBlock = 256

// sgemmGeneric is the pure-Go GEMM, written for the compiler as it is (no
// vectorization, fifteen float registers). When op(B) = B it streams four rows of B
// at a time into two rows of C, sixteen flops per two stores, over column blocks that
// keep B's panel in L2; when op(B) = B^T every element of C is a dot product of two
// rows of B and op(A), computed four rows by two columns at a time in registers.
func sgemmGeneric(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if alpha == 0 || k == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	// Element p of row i of op(A) is a[i*ars + p*aps].
	ars, aps := lda, 1
	if transA {
		ars, aps = 1, lda
	}
	if transB {
		gemmDots(m, n, k, alpha, a, ars, aps, b, ldb, beta, c, ldc)
		return
	}
	scaleRows(m, n, beta, c, ldc)
	for j0 := 0; j0 < n; j0 += gemmColBlock {
		nb := min(gemmColBlock, n-j0)
		i := 0
		for ; i+2 <= m; i += 2 {
			c0 := c[i*ldc+j0:][:nb]
			c1 := c[(i+1)*ldc+j0:][:nb]
			p := 0
			for ; p+4 <= k; p += 4 {
				// Rows p..p+3 of B into rows i, i+1 of C: 16 flops per pair of stores.
				x, y := i*ars+p*aps, (i+1)*ars+p*aps
				a0, a1, a2, a3 := alpha*a[x], alpha*a[x+aps], alpha*a[x+2*aps], alpha*a[x+3*aps]
				e0, e1, e2, e3 := alpha*a[y], alpha*a[y+aps], alpha*a[y+2*aps], alpha*a[y+3*aps]
				b0 := b[p*ldb+j0:][:nb]
				b1 := b[(p+1)*ldb+j0:][:len(b0)]
				b2 := b[(p+2)*ldb+j0:][:len(b0)]
				b3 := b[(p+3)*ldb+j0:][:len(b0)]
				c0, c1 := c0[:len(b0)], c1[:len(b0)]
				for j, v0 := range b0 {
					v1, v2, v3 := b1[j], b2[j], b3[j]
					c0[j] += a0*v0 + a1*v1 + a2*v2 + a3*v3
					c1[j] += e0*v0 + e1*v1 + e2*v2 + e3*v3
				}
			}
			for ; p < k; p++ {
				a0, e0 := alpha*a[i*ars+p*aps], alpha*a[(i+1)*ars+p*aps]
				b0 := b[p*ldb+j0:][:nb]
				c0, c1 := c0[:len(b0)], c1[:len(b0)]
				for j, v0 := range b0 {
					c0[j] += a0 * v0
					c1[j] += e0 * v0
				}
			}
		}
		if i < m {
			ci := c[i*ldc+j0:][:nb]
			for p := 0; p < k; p++ {
				s := alpha * a[i*ars+p*aps]
				bp := b[p*ldb+j0:][:nb]
				ci := ci[:len(bp)]
				for j, bj := range bp {
					ci[j] += s * bj
				}
			}
		}
	}
}

// gemmDots computes C = alpha*op(A)*B^T + beta*C, where row j of B is column j of
// op(B): four rows of op(A) against two rows of B at a time, eight sums in registers.
func gemmDots(m, n, k int, alpha float32, a []float32, ars, aps int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	store := func(i, j int, s float32) {
		if beta == 0 {
			c[i*ldc+j] = alpha * s
		} else {
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		j := 0
		for ; j+2 <= n; j += 2 {
			b0 := b[j*ldb:][:k]
			b1 := b[(j+1)*ldb:][:len(b0)]
			var s00, s01, s10, s11, s20, s21, s30, s31 float32
			if aps == 1 { // rows of op(A) are contiguous
				a0 := a[i*ars:][:len(b0)]
				a1 := a[(i+1)*ars:][:len(b0)]
				a2 := a[(i+2)*ars:][:len(b0)]
				a3 := a[(i+3)*ars:][:len(b0)]
				for p, x0 := range b0 {
					x1 := b1[p]
					s00 += a0[p] * x0
					s01 += a0[p] * x1
					s10 += a1[p] * x0
					s11 += a1[p] * x1
					s20 += a2[p] * x0
					s21 += a2[p] * x1
					s30 += a3[p] * x0
					s31 += a3[p] * x1
				}
			} else { // op(A) = A^T: the four values of column p are contiguous
				for p, x0 := range b0 {
					x1 := b1[p]
					ap := a[p*aps+i:][:4]
					s00 += ap[0] * x0
					s01 += ap[0] * x1
					s10 += ap[1] * x0
					s11 += ap[1] * x1
					s20 += ap[2] * x0
					s21 += ap[2] * x1
					s30 += ap[3] * x0
					s31 += ap[3] * x1
				}
			}
			store(i, j, s00)
			store(i, j+1, s01)
			store(i+1, j, s10)
			store(i+1, j+1, s11)
			store(i+2, j, s20)
			store(i+2, j+1, s21)
			store(i+3, j, s30)
			store(i+3, j+1, s31)
		}
		for ; j < n; j++ {
			for r := i; r < i+4; r++ {
				store(r, j, dotStrided(k, a[r*ars:], aps, b[j*ldb:][:k]))
			}
		}
	}
	for ; i < m; i++ {
		for j := 0; j < n; j++ {
			store(i, j, dotStrided(k, a[i*ars:], aps, b[j*ldb:][:k]))
		}
	}
}

// dotStrided is sum_p x[p*step]*y[p] over the k elements of y.
func dotStrided(k int, x []float32, step int, y []float32) float32 {
	var s float32
	for p, v := range y[:k] {
		s += x[p*step] * v
	}
	return s
}

func addBiasGeneric(m, n int, x []float32, ldx int, bias []float32) {
	bias = bias[:n]
	for i := 0; i < m; i++ {
		row := x[i*ldx : i*ldx+n]
		for j, b := range bias {
			row[j] += b
		}
	}
}

func reluGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		if x < 0 {
			x = 0
		}
		dst[i] = x
	}
}

// sigmoid32 is 1/(1+exp(-x)) computed in float64, so it is within half an ulp of
// the true value and saturates to exactly 0 and 1.
func sigmoid32(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(x))))
}

func sigmoidGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = sigmoid32(x)
	}
}

func tanhGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(math.Tanh(float64(x)))
	}
}

func reluGradGeneric(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i, yi := range y {
		if yi > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

func sigmoidGradGeneric(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i, yi := range y {
		dx[i] = dy[i] * yi * (1 - yi)
	}
}

func tanhGradGeneric(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i, yi := range y {
		dx[i] = dy[i] * (1 - yi*yi)
	}
}

func colSumsGeneric(m, n int, x []float32, ldx int, dst []float32) {
	dst = dst[:n]
	copy(dst, x[:n])
	for i := 1; i < m; i++ {
		row := x[i*ldx : i*ldx+n]
		for j, v := range row {
			dst[j] += v
		}
	}
}

func softmaxXentGeneric(m, n int, logits []float32, ldl int, labels []int32, grad []float32, ldg int, scale float32, rowLoss []float32) (correct int) {
	for i := 0; i < m; i++ {
		row := logits[i*ldl : i*ldl+n]
		arg, mx := 0, row[0]
		for j, v := range row {
			if v > mx {
				arg, mx = j, v
			}
		}
		label := int(labels[i])
		if arg == label {
			correct++
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - mx))
		}
		if rowLoss != nil {
			rowLoss[i] = float32(math.Log(sum) - float64(row[label]-mx))
		}
		if grad != nil {
			g := grad[i*ldg : i*ldg+n]
			inv := float64(scale) / sum
			for j, v := range row {
				g[j] = float32(math.Exp(float64(v-mx)) * inv)
			}
			g[label] -= scale
		}
	}
	return correct
}

func sgdGeneric(w, g []float32, lr float32) {
	g = g[:len(w)]
	for i, gi := range g {
		w[i] -= lr * gi
	}
}

// flushSubnormal returns 0 for x whose magnitude is below the smallest normal float32.
func flushSubnormal(x float32) float32 {
	if math.Float32bits(x)&0x7fffffff < 0x00800000 {
		return 0
	}
	return x
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// squareThreshold is sqrt(2^-126/c) rounded to float32: a gradient below it in
// magnitude has a square c*g*g below the smallest normal float32, which the
// optimizers count as zero (see Adam).
func squareThreshold(c float32) float32 { return sqrt32(0x1p-126 / c) }

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

func adamGeneric(w, g, m, v []float32, lrT, beta1, beta2, eps float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	c1, c2 := 1-beta1, 1-beta2
	thr := squareThreshold(c2)
	for i, gi := range g {
		mi := flushSubnormal(beta1*m[i] + c1*gi)
		t := c2 * gi
		if abs32(gi) < thr {
			t = 0
		}
		vi := flushSubnormal(beta2*v[i] + t*gi)
		m[i], v[i] = mi, vi
		w[i] -= lrT * mi / (sqrt32(vi) + eps)
	}
}

func adagradGeneric(w, g, acc []float32, lr, eps float32, epsInside bool) {
	n := len(w)
	g, acc = g[:n], acc[:n]
	for i, gi := range g {
		gg := gi
		if abs32(gi) < 0x1p-63 { // sqrt(2^-126): g*g would be subnormal
			gg = 0
		}
		a := acc[i] + gi*gg
		acc[i] = a
		if epsInside {
			w[i] -= lr * gi / sqrt32(a+eps)
		} else {
			w[i] -= lr * gi / (sqrt32(a) + eps)
		}
	}
}

func rmspropGeneric(w, g, s []float32, lr, rho, eps float32, epsInside bool) {
	n := len(w)
	g, s = g[:n], s[:n]
	c := 1 - rho
	thr := squareThreshold(c)
	for i, gi := range g {
		t := c * gi
		if abs32(gi) < thr {
			t = 0
		}
		si := flushSubnormal(rho*s[i] + t*gi)
		s[i] = si
		if epsInside {
			w[i] -= lr * gi / sqrt32(si+eps)
		} else {
			w[i] -= lr * gi / (sqrt32(si) + eps)
		}
	}
}
