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

func sgemmGeneric(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if alpha == 0 || k == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	// aStride/aStep walk row i of op(A): element p of it is a[i*aRow + p*aStep].
	aRow, aStep := lda, 1
	if transA {
		aRow, aStep = 1, lda
	}
	if transB {
		// op(B) = B^T: C[i][j] = dot(op(A) row i, B row j).
		for i := 0; i < m; i++ {
			crow := c[i*ldc : i*ldc+n]
			for j := range crow {
				brow := b[j*ldb : j*ldb+k]
				var s0, s1, s2, s3 float32
				p := 0
				if aStep == 1 {
					arow := a[i*aRow : i*aRow+k]
					for ; p+4 <= k; p += 4 {
						s0 += arow[p] * brow[p]
						s1 += arow[p+1] * brow[p+1]
						s2 += arow[p+2] * brow[p+2]
						s3 += arow[p+3] * brow[p+3]
					}
				}
				for ; p < k; p++ {
					s0 += a[i*aRow+p*aStep] * brow[p]
				}
				s := alpha * ((s0 + s1) + (s2 + s3))
				if beta == 0 {
					crow[j] = s
				} else {
					crow[j] = s + beta*crow[j]
				}
			}
		}
		return
	}
	// op(B) = B: C row i += sum over p of op(A)[i][p] * B row p, four rows of B at a time.
	scaleRows(m, n, beta, c, ldc)
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		ai := i * aRow
		p := 0
		for ; p+4 <= k; p += 4 {
			s0 := alpha * a[ai+p*aStep]
			s1 := alpha * a[ai+(p+1)*aStep]
			s2 := alpha * a[ai+(p+2)*aStep]
			s3 := alpha * a[ai+(p+3)*aStep]
			b0 := b[p*ldb : p*ldb+n]
			b1 := b[(p+1)*ldb : (p+1)*ldb+n]
			b2 := b[(p+2)*ldb : (p+2)*ldb+n]
			b3 := b[(p+3)*ldb : (p+3)*ldb+n]
			for j := range crow {
				crow[j] += s0*b0[j] + s1*b1[j] + s2*b2[j] + s3*b3[j]
			}
		}
		for ; p < k; p++ {
			s := alpha * a[ai+p*aStep]
			brow := b[p*ldb : p*ldb+n]
			for j := range crow {
				crow[j] += s * brow[j]
			}
		}
	}
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

func adamGeneric(w, g, m, v []float32, lrT, beta1, beta2, eps float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	c1, c2 := 1-beta1, 1-beta2
	for i, gi := range g {
		mi := flushSubnormal(beta1*m[i] + c1*gi)
		vi := flushSubnormal(beta2*v[i] + c2*gi*gi)
		m[i], v[i] = mi, vi
		w[i] -= lrT * mi / (sqrt32(vi) + eps)
	}
}

func adagradGeneric(w, g, acc []float32, lr, eps float32, epsInside bool) {
	n := len(w)
	g, acc = g[:n], acc[:n]
	for i, gi := range g {
		a := acc[i] + gi*gi
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
	for i, gi := range g {
		si := flushSubnormal(rho*s[i] + c*gi*gi)
		s[i] = si
		if epsInside {
			w[i] -= lr * gi / sqrt32(si+eps)
		} else {
			w[i] -= lr * gi / (sqrt32(si) + eps)
		}
	}
}
