package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a set of worker goroutines, started once by NewPool, that the Pool's
// methods split their work over: the same kernels as the package's functions, with
// the same meaning, computed by Threads() goroutines at once (the caller's among
// them). A call publishes its work as chunks that every thread claims in turn, and
// waits for the last: it allocates nothing and starts no goroutine.
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
// Which thread computes a chunk does not matter, so chunks are claimed dynamically:
// a thread that the OS has descheduled (on a machine shared with other programs)
// delays a call by at most the chunk it holds. Work too small to repay the hand-off
// runs on the caller's goroutine alone.
//
// A program that trains several models at once should give each trainer its own
// Pool and divide the CPUs among them (threads per pool x pools <= CPUs): a pool's
// workers compute whenever it has work, so oversubscribed pools wait on each other.
//
// A Pool serializes concurrent calls (each call holds it for its duration). The
// methods of a nil Pool, and of a closed one, compute on the caller's goroutine.
type Pool struct {
	mu      sync.Mutex // held by a call for its duration
	threads int
	closed  bool
	gen     uint64 // the number of jobs handed out so far
	job     job
	counts  [maxChunks]int // per-chunk integer results (softmax: correct rows)

	// The hand-off, shared with the workers. A job is published by storing its
	// number in the high 32 bits of state (and of limit, with the number of
	// chunks); every thread, the caller's included, claims chunks by advancing the
	// low 32 bits of state with a compare-and-swap, and counts them off pending.
	state   atomic.Uint64 // gen<<32 | next chunk to claim
	limit   atomic.Uint64 // gen<<32 | chunks of job gen
	pending atomic.Int64  // chunks of the current job not finished
	stop    atomic.Bool
	running sync.WaitGroup // the workers, until they return after stop
}

// poolSpin is how long an idle worker keeps looking for the next job before it
// falls back to polling with sleeps (poolNap growing to poolMaxNap). A training
// step's gaps between kernels (gathering a batch, summing the loss) are far shorter,
// so within a run a job reaches the workers in well under a microsecond. A worker
// never blocks on a channel or lock: parking a goroutine can make the runtime
// allocate, and a sleeping worker needs no wake-up, because a caller claims the
// chunks nobody else takes.
const (
	poolSpin   = 200 * time.Microsecond
	poolNap    = 50 * time.Microsecond
	poolMaxNap = 10 * time.Millisecond
)

// maxChunks bounds the chunks of one job: elementwise work is handed out in chunks
// of minElemsPerPart or more elements, claimed dynamically, so that a thread the OS
// has descheduled delays the job by at most the chunk it holds.
const maxChunks = 64

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
	p := &Pool{threads: threads}
	// Wait until every worker has started (and taken its sleep timer): nothing of
	// the pool allocates after NewPool returns, not even in the background.
	var started sync.WaitGroup
	started.Add(threads - 1)
	p.running.Add(threads - 1)
	for range threads - 1 {
		go p.worker(&started)
	}
	started.Wait()
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

// Close stops the pool's workers and waits for them to return (a napping worker
// takes up to poolMaxNap to notice); later calls compute on the caller's goroutine.
// Close is idempotent.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	p.stop.Store(true)
	p.mu.Unlock()
	p.running.Wait()
}

// worker works on every job it sees; while idle it spins for up to poolSpin, then
// polls with naps growing to poolMaxNap.
func (p *Pool) worker(started *sync.WaitGroup) {
	defer p.running.Done()
	// The runtime allocates a goroutine's sleep timer at its first sleep: take it
	// now, so that a first nap later, in the middle of a run, allocates nothing.
	time.Sleep(time.Nanosecond)
	started.Done()
	seen := p.state.Load() >> 32
	idle, nap := time.Now(), time.Duration(0)
	for spins := 0; ; spins++ {
		if g := p.state.Load() >> 32; g != seen {
			seen = g
			p.work(g)
			idle, nap, spins = time.Now(), 0, 0
			continue
		}
		if p.stop.Load() {
			return
		}
		if nap == 0 && spins%64 != 63 {
			continue
		}
		// Let other goroutines of this process run (GOMAXPROCS may be below the
		// pool's threads).
		runtime.Gosched()
		switch {
		case nap > 0:
			time.Sleep(nap)
			nap = min(2*nap, poolMaxNap)
		case time.Since(idle) >= poolSpin:
			nap = poolNap
		}
	}
}

// work claims and computes chunks of job g until none is left (or a later job has
// replaced it). A chunk is claimed by a successful compare-and-swap on state, which
// also guarantees that job g is still p.job (it cannot end before its claimed
// chunks are counted off pending).
func (p *Pool) work(g uint64) {
	for {
		s := p.state.Load()
		l := p.limit.Load()
		if s>>32 != g || l>>32 != g || s&0xffffffff >= l&0xffffffff {
			return
		}
		if p.state.CompareAndSwap(s, s+1) {
			p.job.run(int(s & 0xffffffff))
			p.pending.Add(-1)
		}
	}
}

// begin locks the pool for one call and returns it, or returns nil (the call then
// computes on the caller's goroutine alone) for a nil, closed or one-thread pool.
func (p *Pool) begin() *Pool {
	if p == nil || p.threads == 1 {
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

// runJob computes p.job's chunks on every thread of the pool, the caller's
// included, and returns when all are done. The pool is locked by begin.
func (p *Pool) runJob() {
	chunks := uint64(p.job.chunks)
	p.gen++
	g := p.gen & 0xffffffff
	p.limit.Store(g<<32 | chunks)
	p.pending.Store(int64(chunks))
	p.state.Store(g << 32)
	p.work(g)
	for spins := 0; p.pending.Load() != 0; spins++ {
		if spins%64 == 63 {
			runtime.Gosched()
		}
	}
}

// span returns the range [lo, hi) of units of part of parts: the units split as
// evenly as whole units allow.
func span(part, parts, units int) (lo, hi int) {
	return part * units / parts, (part + 1) * units / parts
}

// splitCount returns how many parts work of size total may be split into: at most
// limit, at most units (the indivisible blocks), and no part below minPart.
func splitCount(limit, units, total, minPart int) int {
	return max(1, min(limit, units, total/minPart))
}

// Thresholds below which a part is not worth handing to another goroutine: in flops
// for a GEMM (2*m*n*k) and in elements for elementwise work. Variables only so that
// tests can lower them to split small problems.
var (
	minGemmFlopsPerPart = 1 << 19
	minElemsPerPart     = 1 << 14
)

// elemUnit is the granularity of elementwise splits: a multiple of every backend's
// vector width times its unroll, so every element of every part is computed by the
// same vector code as in an unsplit call.
const elemUnit = 64
