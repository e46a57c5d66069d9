package kernels_test

import "testing"

// TestEveryKernelStaysInsideItsSlices calls every exported kernel on operands that
// sit between guard bands of sentinels, with capacities cut at their lengths, for
// every length up to 66 and some longer ones: no kernel may write outside the slices
// it was given, nor change an operand it only reads.
func TestEveryKernelStaysInsideItsSlices(t *testing.T) {
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, n := range tableLens(testing.Short()) {
			for _, kc := range kernelCalls(n) {
				bufs := make([]*matBuf, len(kc.ops))
				s := make([][]float32, len(kc.ops))
				for i, op := range kc.ops {
					bufs[i] = vecBuf(op.n, op.fill)
					bufs[i].save()
					s[i] = bufs[i].s
				}
				kc.call(s)
				for i, op := range kc.ops {
					check := bufs[i].checkUnchanged
					if op.out {
						check = bufs[i].checkOutside
					}
					if err := check(); err != nil {
						t.Fatalf("%s (size %d): %s: %v", kc.name, n, op.name, err)
					}
				}
			}
		}
	})
}
