package mlp

import (
	"context"
	"math"
	"testing"
)

// TestThreadsBitIdentical: the report's final network (784-600-200-10, adam) trained
// for an epoch on 2,000 MNIST-shaped samples with 1, 2 and 3 kernel threads ends
// with the same weights, optimizer state and metrics, bit for bit, on every backend.
// At this size the pool really splits the work: the GEMMs by columns, adam's update
// over the 592,410 parameters, the column sums and the relu gradients by ranges.
// Also a step allocates nothing with several threads.
func TestThreadsBitIdentical(t *testing.T) {
	data := mnistShaped(2000)
	type run struct {
		params, m, v []float32
		res          *Result
	}
	forEachBackend(t, func(t *testing.T) {
		var runs []run
		for threads := 1; threads <= 3; threads++ {
			c := DefaultConfig()
			c.Epochs, c.Threads = 1, threads
			tr, err := NewTrainer(c, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.pool.Threads(); got != threads {
				t.Fatalf("Config.Threads %d: the trainer's pool has %d threads", threads, got)
			}
			if threads > 1 {
				idx := tr.split.nextEpoch()[:c.Batch]
				if a := testing.AllocsPerRun(5, func() { tr.step(idx) }); a != 0 {
					t.Errorf("%d threads: a step allocates %v times, want 0", threads, a)
				}
				// Start again from the same initial state as the 1-thread run.
				if tr, err = NewTrainer(c, data, nil); err != nil {
					t.Fatal(err)
				}
			}
			res, err := tr.Run(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Threads != threads {
				t.Errorf("Result.Threads = %d, want %d", res.Threads, threads)
			}
			runs = append(runs, run{tr.net.params, tr.opt.s1, tr.opt.s2, res})
		}
		want := runs[0]
		for i, r := range runs[1:] {
			threads := i + 2
			for name, pair := range map[string][2][]float32{"weight": {r.params, want.params}, "adam m": {r.m, want.m}, "adam v": {r.v, want.v}} {
				for j := range pair[1] {
					if math.Float32bits(pair[0][j]) != math.Float32bits(pair[1][j]) {
						t.Fatalf("%d threads: %s %d is %g, want %g as with 1 thread", threads, name, j, pair[0][j], pair[1][j])
					}
				}
			}
			e, we := r.res.Epochs[0], want.res.Epochs[0]
			if e.Loss != we.Loss || e.Accuracy != we.Accuracy || e.ValLoss != we.ValLoss || e.ValAcc != we.ValAcc {
				t.Errorf("%d threads: epoch metrics %+v, want %+v as with 1 thread", threads, e, we)
			}
		}
	})
}
