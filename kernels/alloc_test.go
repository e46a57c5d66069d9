package kernels_test

import (
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// TestZeroAllocations: no exported kernel allocates, on any backend, at small and
// tail sizes and on the trainer's GEMM shapes (a packing GEMM must reuse its
// workspaces).
func TestZeroAllocations(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, n := range []int{5, 67, 600} {
			for _, kc := range kernelCalls(n) {
				s := make([][]float32, len(kc.ops))
				for i, op := range kc.ops {
					s[i] = make([]float32, op.n)
					for j := range s[i] {
						s[i][j] = op.fill(j)
					}
				}
				if allocs := testing.AllocsPerRun(10, func() { kc.call(s) }); allocs != 0 {
					t.Errorf("%s (size %d): %v allocations per call, want 0", kc.name, n, allocs)
				}
			}
		}
		runs := 5
		if testing.Short() {
			runs = 1
		}
		for _, c := range mlpShapes(64) {
			ar, ac, br, bc := c.m, c.k, c.k, c.n
			if c.tA {
				ar, ac = c.k, c.m
			}
			if c.tB {
				br, bc = c.n, c.k
			}
			a, b, cc := make([]float32, ar*ac), make([]float32, br*bc), make([]float32, c.m*c.n)
			if allocs := testing.AllocsPerRun(runs, func() {
				kernels.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, a, ac, b, bc, 0, cc, c.n)
			}); allocs != 0 {
				t.Errorf("Sgemm %s %dx%dx%d: %v allocations per call, want 0", transName(c.tA, c.tB), c.m, c.n, c.k, allocs)
			}
		}
	})
}
