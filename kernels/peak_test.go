package kernels

// The FMA peak every GEMM benchmark's %peak is relative to, measured in the same
// process (the clock speed this run gets is the one both see). Each backend's peak is
// a loop of independent multiply-adds as wide as its vectors: fmaPeakAVX2 (ymm) and
// fmaPeakAVX512 (zmm) from asm/gemm, 12 chains, enough to keep both FMA pipes busy.
// The generic backend is pure Go, which the compiler turns into scalar code without
// FMA (GOAMD64=v1): its peak is the same 12-chain loop written in Go, a scalar
// multiply and add per step, i.e. the best any pure-Go kernel can do here.
// /work/shared/tools/fmapeak (C intrinsics) is the outside check on these numbers.

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// peakLoop runs iters iterations of a throughput loop doing flopsPerIter flops each.
type peakLoop struct {
	run          func(iters int)
	flopsPerIter int
}

// peakLoops returns the loop of every backend that has one on this build.
func peakLoops() map[string]peakLoop {
	m := archPeakLoops()
	m["generic"] = peakLoop{run: func(n int) { peakSink = peakGeneric(n) }, flopsPerIter: 2 * 12}
	return m
}

var peakSink float32

// peakGeneric is 12 independent chains of c = c*x + y in scalar float32.
func peakGeneric(n int) float32 {
	x, y := float32(0.999999), float32(1e-7)
	c0, c1, c2, c3, c4, c5 := float32(1), float32(2), float32(3), float32(4), float32(5), float32(6)
	c6, c7, c8, c9, c10, c11 := float32(7), float32(8), float32(9), float32(10), float32(11), float32(12)
	for i := 0; i < n; i++ {
		c0 = c0*x + y
		c1 = c1*x + y
		c2 = c2*x + y
		c3 = c3*x + y
		c4 = c4*x + y
		c5 = c5*x + y
		c6 = c6*x + y
		c7 = c7*x + y
		c8 = c8*x + y
		c9 = c9*x + y
		c10 = c10*x + y
		c11 = c11*x + y
	}
	return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11
}

var peaks struct {
	sync.Mutex
	gflops map[string]float64
}

// PeakGFLOPS returns the FMA peak of the named backend in GFLOP/s on one thread,
// measured on first use and remembered for the rest of the process: after 300 ms of
// warm-up, the best of 40 runs of about 5 ms, each timed by the thread's CPU time
// where available (else the wall clock), since other processes can only slow a run
// down. It returns 0 for a backend without a peak loop.
func PeakGFLOPS(backend string) float64 {
	peaks.Lock()
	defer peaks.Unlock()
	if g, ok := peaks.gflops[backend]; ok {
		return g
	}
	if peaks.gflops == nil {
		peaks.gflops = map[string]float64{}
	}
	l, ok := peakLoops()[backend]
	if !ok {
		peaks.gflops[backend] = 0
		return 0
	}
	// Size a run to about 5 ms.
	iters := 1 << 10
	for {
		t := time.Now()
		l.run(iters)
		if d := time.Since(t); d > 2*time.Millisecond {
			iters = int(float64(iters) * float64(5*time.Millisecond) / float64(d))
			break
		}
		iters *= 2
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Run for a while first: the clock settles at the rate it sustains under this
	// load, the one the GEMM benchmarks (a second or more each) run at, rather than
	// the higher one a core boosts to for a few milliseconds after idling.
	for t := time.Now(); time.Since(t) < 300*time.Millisecond; {
		l.run(iters)
	}
	best := 0.0
	for r := 0; r < 40; r++ {
		c0, cpuOK := ThreadCPUNanos()
		t := time.Now()
		l.run(iters)
		ns := float64(time.Since(t).Nanoseconds())
		if c1, _ := ThreadCPUNanos(); cpuOK && c1 > c0 {
			ns = float64(c1 - c0) // the time the loop had the core
		}
		best = max(best, float64(iters)*float64(l.flopsPerIter)/ns)
	}
	peaks.gflops[backend] = best
	return best
}

// BenchmarkPeak measures each backend's FMA throughput loop.
func BenchmarkPeak(b *testing.B) {
	for _, name := range Backends() {
		l, ok := peakLoops()[name]
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
			flops := float64(b.N) * iters * float64(l.flopsPerIter)
			b.ReportMetric(flops/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
			if cpuOK && c1 > c0 {
				b.ReportMetric(flops/float64(c1-c0), "GFLOP/s-cpu")
			}
		})
	}
}
