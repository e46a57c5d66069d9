package kernels

// The Pool's kernels: each checks its arguments as the package function of the same
// name does (and panics with the same messages), then splits the work as the Pool's
// doc says, or computes it alone when it is too small to share.

// Sgemm is Sgemm computed by the pool's threads, each on a block of columns of C.
func (p *Pool) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkSgemm("Sgemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	be := current.Load()
	q := p.begin()
	defer q.end()
	chunks, units := gemmParts(q.size(), be, m, n, k)
	if chunks == 1 {
		be.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	q.job = job{kind: jobGemm, be: be, chunks: chunks, units: units, unit: be.gemmSplit,
		transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc}
	q.runJob()
}

// SgemmBiasAct is SgemmBiasAct computed by the pool's threads, each on a block of
// columns of C (its GEMM, bias and activation while the block is in its cache).
func (p *Pool) SgemmBiasAct(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, act Activation, c []float32, ldc int) {
	checkSgemmBiasAct("SgemmBiasAct", transA, transB, m, n, k, a, lda, b, ldb, bias, act, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	be := current.Load()
	q := p.begin()
	defer q.end()
	chunks, units := gemmParts(q.size(), be, m, n, k)
	if chunks == 1 {
		be.gemmBiasAct(transA, transB, m, n, k, a, lda, b, ldb, bias, act, c, ldc)
		return
	}
	q.job = job{kind: jobGemmBiasAct, be: be, chunks: chunks, units: units, unit: be.gemmSplit,
		transA: transA, transB: transB, m: m, n: n, k: k,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, bias: bias, act: act}
	q.runJob()
}

// gemmParts returns how many column blocks an m x n x k GEMM is split into on
// threads threads, and the number of split units (gemmSplit columns each) of n. A
// GEMM is split into no more blocks than threads: each block packs its own copy of
// op(A).
func gemmParts(threads int, be *impl, m, n, k int) (chunks, units int) {
	units = (n + be.gemmSplit - 1) / be.gemmSplit
	return splitCount(threads, units, 2*m*n*max(k, 1), minGemmFlopsPerPart), units
}

// AddBias is AddBias computed by the pool's threads, each on a block of rows.
func (p *Pool) AddBias(m, n int, x []float32, ldx int, bias []float32) {
	checkMatrix("AddBias", "x", m, n, x, ldx)
	checkLen("AddBias", "bias", bias, n)
	if m == 0 || n == 0 {
		return
	}
	be := current.Load()
	q := p.begin()
	defer q.end()
	chunks := q.chunks(m, m*n)
	if chunks == 1 {
		be.addBias(m, n, x, ldx, bias)
		return
	}
	q.job = job{kind: jobAddBias, be: be, chunks: chunks, units: m, unit: 1, m: m, n: n, c: x, ldc: ldx, bias: bias[:n]}
	q.runJob()
}

// ColSums is ColSums computed by the pool's threads, each on a block of columns.
func (p *Pool) ColSums(m, n int, x []float32, ldx int, dst []float32) {
	checkMatrix("ColSums", "x", m, n, x, ldx)
	checkLen("ColSums", "dst", dst, n)
	if n == 0 {
		return
	}
	if m == 0 {
		clear(dst[:n])
		return
	}
	be := current.Load()
	q := p.begin()
	defer q.end()
	units := (n + elemUnit - 1) / elemUnit
	chunks := q.chunks(units, m*n)
	if chunks == 1 {
		be.colSums(m, n, x, ldx, dst)
		return
	}
	q.job = job{kind: jobColSums, be: be, chunks: chunks, units: units, unit: elemUnit, m: m, n: n, c: x, ldc: ldx, x: dst[:n]}
	q.runJob()
}

// SoftmaxCrossEntropy is SoftmaxCrossEntropy computed by the pool's threads, each on
// a block of rows.
func (p *Pool) SoftmaxCrossEntropy(m, n int, logits []float32, ldl int, labels []int32, grad []float32, ldg int, scale float32, rowLoss []float32) (correct int) {
	checkSoftmaxXent(m, n, logits, ldl, labels, grad, ldg, rowLoss)
	if m == 0 {
		return 0
	}
	be := current.Load()
	q := p.begin()
	defer q.end()
	chunks := q.chunks(m, m*n)
	if chunks == 1 {
		return be.softmaxXent(m, n, logits, ldl, labels, grad, ldg, scale, rowLoss)
	}
	q.job = job{kind: jobSoftmax, be: be, chunks: chunks, units: m, unit: 1, m: m, n: n, c: logits, ldc: ldl,
		labels: labels, x: grad, ldb: ldg, f1: scale, rowLoss: rowLoss, counts: q.counts[:]}
	q.runJob()
	for _, c := range q.counts[:chunks] {
		correct += c
	}
	return correct
}

// Activate is Activate computed by the pool's threads, each on a range of elements.
func (p *Pool) Activate(act Activation, dst, src []float32) {
	checkLen("Activate", "src", src, len(dst))
	checkActivation("Activate", act)
	p.elementwise(job{kind: jobActivate, act: act, x: dst, y: src[:len(dst)]})
}

// ActivateGrad is ActivateGrad computed by the pool's threads, each on a range of
// elements.
func (p *Pool) ActivateGrad(act Activation, dx, dy, y []float32) {
	n := len(dx)
	checkLen("ActivateGrad", "dy", dy, n)
	checkLen("ActivateGrad", "y", y, n)
	checkActivation("ActivateGrad", act)
	p.elementwise(job{kind: jobActivateGrad, act: act, x: dx, y: dy[:n], z: y[:n]})
}

// SGD is SGD computed by the pool's threads, each on a range of parameters.
func (p *Pool) SGD(w, g []float32, lr float32) {
	checkLen("SGD", "g", g, len(w))
	p.elementwise(job{kind: jobSGD, x: w, y: g[:len(w)], f1: lr})
}

// Adam is Adam computed by the pool's threads, each on a range of parameters.
func (p *Pool) Adam(w, g, m, v []float32, lrT, beta1, beta2, eps float32) {
	n := len(w)
	checkLen("Adam", "g", g, n)
	checkLen("Adam", "m", m, n)
	checkLen("Adam", "v", v, n)
	p.elementwise(job{kind: jobAdam, x: w, y: g[:n], z: m[:n], u: v[:n], f1: lrT, f2: beta1, f3: beta2, f4: eps})
}

// Adagrad is Adagrad computed by the pool's threads, each on a range of parameters.
func (p *Pool) Adagrad(w, g, acc []float32, lr, eps float32, epsInside bool) {
	n := len(w)
	checkLen("Adagrad", "g", g, n)
	checkLen("Adagrad", "acc", acc, n)
	p.elementwise(job{kind: jobAdagrad, x: w, y: g[:n], z: acc[:n], f1: lr, f2: eps, flag: epsInside})
}

// RMSProp is RMSProp computed by the pool's threads, each on a range of parameters.
func (p *Pool) RMSProp(w, g, s []float32, lr, rho, eps float32, epsInside bool) {
	n := len(w)
	checkLen("RMSProp", "g", g, n)
	checkLen("RMSProp", "s", s, n)
	p.elementwise(job{kind: jobRMSProp, x: w, y: g[:n], z: s[:n], f1: lr, f2: rho, f3: eps, flag: epsInside})
}

// elementwise runs j, an elementwise kernel over len(j.x) elements (arguments
// checked, every slice of j as long as j.x), in ranges of whole elemUnit blocks.
func (p *Pool) elementwise(j job) {
	n := len(j.x)
	j.be = current.Load()
	q := p.begin()
	defer q.end()
	j.units, j.unit = (n+elemUnit-1)/elemUnit, elemUnit
	j.chunks = q.chunks(j.units, n)
	if j.chunks == 1 {
		j.run(0)
		return
	}
	q.job = j
	q.runJob()
}

// chunks returns how many chunks elementwise work of total elements in units
// indivisible blocks is handed out in (1 for a pool that computes alone): chunks of
// at least minElemsPerPart elements, at most maxChunks.
func (p *Pool) chunks(units, total int) int {
	if p == nil {
		return 1
	}
	return splitCount(maxChunks, units, total, minElemsPerPart)
}
