package kernels

import (
	"runtime"
	"sync"
)

// Pool is a set of worker goroutines, started once by NewPool, that the Pool's
// methods split their work over: the same kernels as the package's functions, with
// the same meaning, computed by Threads() goroutines at once (the caller's among
// them). A call hands each worker a part of the work through a channel and waits for
// the parts: it allocates nothing and starts no goroutine.
//
// Results are bit-identical for any thread count, because a split never changes how
// an element is computed:
//   - a GEMM is split into blocks of whole columns of C (and of op(B)), starting on a
//     multiple of the backend's split unit (a vector, or the NEON register tile). Every
//     element of C is then summed over the same k in the same order, in the same
//     kind of register tile, as in the unsplit call. Rows are never split: a backend
//     may choose its path (B packed or read in place, and with it the depth of a
//     block of k) from the number of rows, which a row split would change.
//   - elementwise kernels and optimizer updates are split into contiguous index
//     ranges starting on multiples of 64 elements, so every element goes through the
//     same vector code (the kernels compute each element on its own);
//   - column sums are split by columns (each column is summed over its rows in
//     order), bias adds and softmax cross-entropy by rows.
//
// Work too small to repay the hand-off (a few microseconds) runs on the caller's
// goroutine alone.
//
// A program that trains several models at once should give each trainer its own
// Pool and divide the CPUs among them (threads per pool x pools <= CPUs): a pool's
// workers compute whenever it has work, so oversubscribed pools wait on each other.
//
// A Pool serializes concurrent calls (each call holds it for its duration). The
// methods of a nil Pool, and of a closed one, compute on the caller's goroutine.
type Pool struct {
	mu      sync.Mutex
	threads int
	wake    []chan struct{} // wake[i] starts worker i+1 on p.job
	done    chan struct{}   // one value per finished worker part
	closed  bool
	job     job
	counts  []int // per-part integer results (softmax: correct rows)
}

// DefaultThreads returns the number of CPUs this process may use: the smaller of
// runtime.NumCPU (on Linux, the CPUs of the process's affinity mask) and
// GOMAXPROCS (which Go also lowers to a container's CPU limit).
func DefaultThreads() int {
	return max(1, min(runtime.NumCPU(), runtime.GOMAXPROCS(0)))
}

// NewPool starts a pool of threads goroutines (threads-1 workers plus the caller's
// goroutine); threads <= 0 means DefaultThreads(). Close stops the workers.
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = DefaultThreads()
	}
	p := &Pool{threads: threads, done: make(chan struct{}, threads), counts: make([]int, threads)}
	p.wake = make([]chan struct{}, threads-1)
	for i := range p.wake {
		p.wake[i] = make(chan struct{}, 1)
		go p.worker(i+1, p.wake[i])
	}
	return p
}

// Threads returns the number of goroutines the pool computes with (1 for a nil or
// closed Pool).
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 1
	}
	return p.threads
}

// Close stops the pool's workers; later calls compute on the caller's goroutine.
// Close is idempotent.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, w := range p.wake {
		close(w)
	}
}

func (p *Pool) worker(part int, wake <-chan struct{}) {
	for range wake {
		p.job.run(part)
		p.done <- struct{}{}
	}
}

// begin locks the pool for one call and returns it, or returns nil (the call then
// computes on the caller's goroutine alone) for a nil or closed pool.
func (p *Pool) begin() *Pool {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	return p
}

// end unlocks a pool returned by begin; it does nothing on nil.
func (p *Pool) end() {
	if p != nil {
		p.job = job{} // drop the references to the caller's slices
		p.mu.Unlock()
	}
}

// size is the number of goroutines of a pool returned by begin.
func (p *Pool) size() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// runJob computes p.job in p.job.parts parts: part 0 on the caller's goroutine, the
// others on the workers, and returns when every part is done. The pool is locked.
func (p *Pool) runJob() {
	parts := p.job.parts
	for i := 1; i < parts; i++ {
		p.wake[i-1] <- struct{}{}
	}
	p.job.run(0)
	for i := 1; i < parts; i++ {
		<-p.done
	}
}

// span returns the range [lo, hi) of units of part of parts: the units split as
// evenly as whole units allow.
func span(part, parts, units int) (lo, hi int) {
	return part * units / parts, (part + 1) * units / parts
}

// splitCount returns how many parts work of size total may be split into: at most
// threads, at most units (the indivisible blocks), and no part below minPart.
func splitCount(threads, units, total, minPart int) int {
	return max(1, min(threads, units, total/minPart))
}

// Thresholds below which a part is not worth handing to another goroutine (a
// hand-off and the wait for it cost a few microseconds): in flops for a GEMM
// (2*m*n*k) and in elements for elementwise work. Variables only so that tests can
// lower them to split small problems.
var (
	minGemmFlopsPerPart = 1 << 19
	minElemsPerPart     = 1 << 14
)

// elemUnit is the granularity of elementwise splits: a multiple of every backend's
// vector width times its unroll, so every element of every part is computed by the
// same vector code as in an unsplit call.
const elemUnit = 64
