package kernels

// The FMA peak every GEMM benchmark's %peak is relative to, measured in the same
// process (the clock speed this run gets is the one both see) by MeasurePeak
// (peak.go). Each backend's peak is a loop of independent multiply-adds as wide as its
// vectors: fmaPeakAVX2 (ymm) and fmaPeakAVX512 (zmm) from asm/gemm, 12 chains, enough
// to keep both FMA pipes busy. The generic backend is pure Go, which the compiler
// turns into scalar code without FMA (GOAMD64=v1): its peak is the same 12-chain loop
// written in Go, a scalar multiply and add per step, i.e. the best any pure-Go kernel
// can do here. /work/shared/tools/fmapeak (C intrinsics) is the outside check on
// these numbers.

import (
	"runtime"
	"testing"
)

// PeakGFLOPS returns the FMA peak of the named backend in GFLOP/s on one thread:
// MeasurePeak(backend, 1), measured on first use and remembered for the process (300
// ms of warm-up, then the best of 40 runs of about 5 ms, each timed by the thread's
// CPU time where available). It returns 0 for a backend without a peak loop.
func PeakGFLOPS(backend string) float64 { return MeasurePeak(backend, 1) }

// ThreadCPUNanos is threadCPUNanos, for the benchmarks of the external test package.
func ThreadCPUNanos() (int64, bool) { return threadCPUNanos() }

// BenchmarkPeak measures each backend's FMA throughput loop.
func BenchmarkPeak(b *testing.B) {
	for _, name := range Backends() {
		l, ok := fmaLoops()[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			const iters = 1 << 20
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0, cpuOK := ThreadCPUNanos()
			for b.Loop() {
				l.run(iters)
			}
			c1, _ := ThreadCPUNanos()
			flops := float64(b.N) * iters * float64(l.flops)
			b.ReportMetric(flops/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
			if cpuOK && c1 > c0 {
				b.ReportMetric(flops/float64(c1-c0), "GFLOP/s-cpu")
			}
		})
	}
}
