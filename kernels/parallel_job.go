package kernels

// jobKind names the kernel a Pool call splits.
type jobKind uint8

const (
	jobNone jobKind = iota
	jobGemm
	jobGemmBiasAct
	jobAddBias
	jobActivate
	jobActivateGrad
	jobColSums
	jobSoftmax
	jobSGD
	jobAdam
	jobAdagrad
	jobRMSProp
)

// job is one Pool call: the kernel, its arguments and the split. It is a plain
// struct stored in the Pool (not a closure), so handing it to the workers allocates
// nothing. Fields are reused across kinds as the comments say.
type job struct {
	kind   jobKind
	be     *impl // the backend of the whole call, read once
	chunks int   // the work is split into chunks of as equal a number of units as can be
	units  int   // indivisible blocks the work is made of
	unit   int   // columns (GEMM, column sums), rows or elements per block

	// GEMM, bias, column sums, softmax: matrices.
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	bias           []float32
	act            Activation

	// Elementwise and optimizers: x is dst/dx/w, y is src/dy/g, z is y/m/acc/s, u is v.
	x, y, z, u     []float32
	f1, f2, f3, f4 float32
	flag           bool

	// Softmax cross-entropy.
	labels  []int32
	rowLoss []float32
	counts  []int
}

// run computes chunk c of the job.
func (j *job) run(c int) {
	lo, hi := span(c, j.chunks, j.units)
	lo *= j.unit
	hi = min(hi*j.unit, j.limit())
	if lo >= hi {
		return
	}
	be := j.be
	switch j.kind {
	case jobGemm, jobGemmBiasAct:
		// Columns lo..hi-1 of C: the same columns of op(B).
		b := j.b[lo:]
		if j.transB {
			b = j.b[lo*j.ldb:]
		}
		if j.kind == jobGemm {
			be.sgemm(j.transA, j.transB, j.m, hi-lo, j.k, j.alpha, j.a, j.lda, b, j.ldb, j.beta, j.c[lo:], j.ldc)
		} else {
			var bias []float32
			if j.bias != nil {
				bias = j.bias[lo:hi]
			}
			be.gemmBiasAct(j.transA, j.transB, j.m, hi-lo, j.k, j.a, j.lda, b, j.ldb, bias, j.act, j.c[lo:], j.ldc)
		}
	case jobAddBias: // rows lo..hi-1
		be.addBias(hi-lo, j.n, j.c[lo*j.ldc:], j.ldc, j.bias)
	case jobColSums: // columns lo..hi-1
		be.colSums(j.m, hi-lo, j.c[lo:], j.ldc, j.x[lo:hi])
	case jobSoftmax: // rows lo..hi-1
		var grad, rowLoss []float32
		if j.x != nil {
			grad = j.x[lo*j.ldb:]
		}
		if j.rowLoss != nil {
			rowLoss = j.rowLoss[lo:hi]
		}
		j.counts[c] = be.softmaxXent(hi-lo, j.n, j.c[lo*j.ldc:], j.ldc, j.labels[lo:hi], grad, j.ldb, j.f1, rowLoss)
	case jobActivate:
		be.activate(j.act, j.x[lo:hi], j.y[lo:hi])
	case jobActivateGrad:
		be.activateGrad(j.act, j.x[lo:hi], j.y[lo:hi], j.z[lo:hi])
	case jobSGD:
		be.sgd(j.x[lo:hi], j.y[lo:hi], j.f1)
	case jobAdam:
		be.adam(j.x[lo:hi], j.y[lo:hi], j.z[lo:hi], j.u[lo:hi], j.f1, j.f2, j.f3, j.f4)
	case jobAdagrad:
		be.adagrad(j.x[lo:hi], j.y[lo:hi], j.z[lo:hi], j.f1, j.f2, j.flag)
	case jobRMSProp:
		be.rmsprop(j.x[lo:hi], j.y[lo:hi], j.z[lo:hi], j.f1, j.f2, j.f3, j.flag)
	default:
		panic("kernels: Pool job of unknown kind")
	}
}

// limit is the end of the job's range in the split's coordinates: columns, rows or
// elements.
func (j *job) limit() int {
	switch j.kind {
	case jobGemm, jobGemmBiasAct, jobColSums:
		return j.n
	case jobAddBias, jobSoftmax:
		return j.m
	}
	return len(j.x)
}
