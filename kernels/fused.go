package kernels

// SgemmBiasAct computes a dense layer's forward pass, C = act(op(A)*op(B) + bias):
// the product as Sgemm with alpha 1 and beta 0 (C is only written), bias[j] added to
// column j (bias nil: no bias), then the activation. The result is the same, bit for
// bit, as the three calls Sgemm, AddBias and Activate (over each row of C) on the
// same backend, except that a zero may differ in sign (see Activate). Doing the
// three in one call saves the passes over C that the separate calls make: a backend
// applies the bias and the activation to each block of C while it is still in cache
// (or in registers).
func SgemmBiasAct(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, act Activation, c []float32, ldc int) {
	checkSgemmBiasAct("SgemmBiasAct", transA, transB, m, n, k, a, lda, b, ldb, bias, act, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	current.Load().gemmBiasAct(transA, transB, m, n, k, a, lda, b, ldb, bias, act, c, ldc)
}

func checkSgemmBiasAct(fn string, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, act Activation, c []float32, ldc int) {
	checkSgemm(fn, transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if bias != nil {
		checkLen(fn, "bias", bias, n)
	}
	checkActivation(fn, act)
}

// fusedKernels are a backend's fused forms of kernel compositions, each nil where
// the backend has none (a struct, not functions in impl itself, because every
// function of impl is set on every backend).
type fusedKernels struct {
	// sgemmBiasAct is a GEMM with a bias + activation epilogue (SgemmBiasAct); it
	// returns false, having done nothing, for an activation it does not fuse.
	sgemmBiasAct func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, act Activation, c []float32, ldc int) bool
}

// gemmBiasAct is SgemmBiasAct on this backend (arguments checked, m and n positive):
// the backend's fused GEMM epilogue when it has one for act, else the composition of
// its GEMM, bias add and activation kernels.
func (be *impl) gemmBiasAct(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, act Activation, c []float32, ldc int) {
	if f := be.fused.sgemmBiasAct; f != nil && f(transA, transB, m, n, k, a, lda, b, ldb, bias, act, c, ldc) {
		return
	}
	be.sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
	if bias != nil {
		be.addBias(m, n, c, ldc, bias[:n])
	}
	if act == Identity {
		return
	}
	if ldc == n {
		be.activate(act, c[:m*n], c[:m*n])
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		be.activate(act, row, row)
	}
}
