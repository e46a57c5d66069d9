package kernels

// SplitSmall lowers the Pool's split thresholds to their minimum, so that tests split
// problems of a few elements, and returns a function restoring them.
func SplitSmall() (restore func()) {
	g, e := minGemmFlopsPerPart, minElemsPerPart
	minGemmFlopsPerPart, minElemsPerPart = 1, 1
	return func() { minGemmFlopsPerPart, minElemsPerPart = g, e }
}

// PoolSplits reports whether p splits an m x n x k GEMM on the current backend.
func PoolSplits(p *Pool, m, n, k int) bool {
	parts, _ := gemmParts(p.Threads(), current.Load(), m, n, k)
	return parts > 1
}
