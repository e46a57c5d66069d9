//go:build !linux

package kernels

// ThreadCPUNanos is not implemented outside Linux: the benchmarks then report
// wall-clock figures only.
func ThreadCPUNanos() (int64, bool) { return 0, false }
