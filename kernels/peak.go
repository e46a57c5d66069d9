package kernels

import (
	"runtime"
	"sync"
	"time"
)

// MeasurePeak returns the FMA throughput ceiling of the named backend on threads
// threads running at once, in GFLOP/s: the figure "%peak" in the benchmarks is
// relative to. Each thread runs the backend's peak loop (independent multiply-adds
// as wide as its vectors: fmaPeakAVX2 and fmaPeakAVX512 from asm/gemm; for
// "generic", the same 12 chains in Go, which the compiler makes scalar code) as the
// GEMM benchmarks' PeakGFLOPS does: 300 ms of warm-up, then the best of 40 runs of
// about 5 ms, each timed by the thread's CPU time where the OS gives it (else the
// wall clock); the result is the sum over the threads. Other processes can only slow a run down, and running the
// threads together measures what both cores sustain at once (a shared FMA unit or a
// lower all-core clock shows). The result is measured on first use and remembered
// for the process. It returns 0 for a backend without a peak loop (neon) or an
// unknown name, and treats threads < 1 as 1.
func MeasurePeak(backend string, threads int) float64 {
	threads = max(threads, 1)
	peakCache.Lock()
	defer peakCache.Unlock()
	key := peakKey{backend, threads}
	if g, ok := peakCache.gflops[key]; ok {
		return g
	}
	if peakCache.gflops == nil {
		peakCache.gflops = map[peakKey]float64{}
	}
	l, ok := fmaLoops()[backend]
	g := 0.0
	if ok && backendAvailable(backend) {
		g = measureLoop(l, threads)
	}
	peakCache.gflops[key] = g
	return g
}

type peakKey struct {
	backend string
	threads int
}

var peakCache struct {
	sync.Mutex
	gflops map[peakKey]float64
}

// fmaLoop runs iters iterations of a throughput loop doing flops flops each.
type fmaLoop struct {
	run   func(iters int)
	flops int
}

// fmaLoops returns the peak loop of every backend that has one in this build.
func fmaLoops() map[string]fmaLoop {
	m := archFMALoops()
	m["generic"] = fmaLoop{run: func(n int) { fmaSink = fmaChainsGo(n) }, flops: 2 * 12}
	return m
}

var fmaSink float32

// fmaChainsGo is 12 independent chains of c = c*x + y in float32: the best a pure-Go
// kernel can do (the compiler emits a scalar multiply and add per step).
func fmaChainsGo(n int) float32 {
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

func backendAvailable(name string) bool {
	for _, r := range registry {
		if r.impl.name == name {
			return r.available
		}
	}
	return false
}

// measureLoop runs l on threads locked OS threads at once and returns the sum of
// their best rates, in GFLOP/s. Each thread first runs the loop for 300 ms, so that
// the clock settles at the rate it sustains under this load (the one a benchmark of
// a second or more sees, not the boost of a core fresh from idling), then keeps the
// best of 40 runs of about 5 ms.
func measureLoop(l fmaLoop, threads int) float64 {
	iters := 1 << 10
	for {
		t := time.Now()
		l.run(iters)
		if d := time.Since(t); d > 2*time.Millisecond {
			iters = max(1, int(float64(iters)*float64(5*time.Millisecond)/float64(d)))
			break
		}
		iters *= 2
	}
	best := make([]float64, threads)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for th := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			<-start
			for t := time.Now(); time.Since(t) < 300*time.Millisecond; {
				l.run(iters)
			}
			for range 40 {
				c0, cpuOK := threadCPUNanos()
				t := time.Now()
				l.run(iters)
				ns := float64(time.Since(t).Nanoseconds())
				if c1, _ := threadCPUNanos(); cpuOK && c1 > c0 {
					ns = float64(c1 - c0) // the time the loop had the core
				}
				best[th] = max(best[th], float64(iters)*float64(l.flops)/ns)
			}
		}()
	}
	close(start)
	wg.Wait()
	sum := 0.0
	for _, b := range best {
		sum += b
	}
	return sum
}
