package mlp

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/idx/mnistdata"
)

// BenchmarkEpochDrift shows whether later epochs cost more than the first: the final
// model trained on the real MNIST (fetched through the module proxy, as make data
// does) reaches, by epoch 10, the weights and adam moments whose tiny values drive
// x86 FPUs onto their slow subnormal paths (rarely active weights' moments decaying,
// softmax probabilities near zero). The benchmark trains 9 epochs once, keeps the
// weights and optimizer state at the start of epoch 1 and of epoch 10, and then
// times epochs from each state alternately (so that the load of a shared machine
// falls on both alike), reporting s/epoch1, s/epoch10 and their ratio, and on one
// thread the same from the thread's CPU time (leaving out time other processes held
// the core). The generic backend is left out: its 9 epochs take minutes.
func BenchmarkEpochDrift(b *testing.B) {
	train := realMNIST(b)
	forEachBackendB(b, func(b *testing.B, backend string) {
		if backend == "generic" {
			b.Skip("generic: 9 epochs of setup take minutes; the SIMD backends are what drift would hurt")
		}
		for _, threads := range benchThreads() {
			b.Run(fmt.Sprintf("threads%d", threads), func(b *testing.B) {
				d := driftSetup(b, train, backend, threads)
				if threads == 1 {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
				}
				var wall, cpu [2]float64
				cpuOK := threads == 1
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for s := range 2 {
						d.restore(s)
						c0, ok0 := threadCPUSeconds()
						t0 := time.Now()
						if _, err := d.tr.epoch(1+9*s, nil); err != nil {
							b.Fatal(err)
						}
						wall[s] += time.Since(t0).Seconds()
						c1, ok1 := threadCPUSeconds()
						cpu[s] += c1 - c0
						cpuOK = cpuOK && ok0 && ok1
					}
				}
				n := float64(b.N)
				b.ReportMetric(wall[0]/n, "s/epoch1")
				b.ReportMetric(wall[1]/n, "s/epoch10")
				b.ReportMetric(wall[1]/wall[0], "epoch10/epoch1")
				if cpuOK {
					b.ReportMetric(cpu[0]/n, "cpu-s/epoch1")
					b.ReportMetric(cpu[1]/n, "cpu-s/epoch10")
					b.ReportMetric(cpu[1]/cpu[0], "cpu-epoch10/epoch1")
				}
			})
		}
	})
}

// realMNIST returns the MNIST training set, or skips the benchmark when it cannot be
// fetched.
func realMNIST(b *testing.B) *Data {
	dir, err := mnistdata.Fetch(context.Background())
	if err != nil {
		b.Skipf("SKIP: MNIST is not available (run make data): %v", err)
	}
	ds, err := idx.LoadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	s := ds.Train
	return &Data{N: s.Images.N, Features: s.Images.Rows * s.Images.Cols, Classes: idx.Classes, X: s.Images.Pix, Y: s.Labels}
}

// driftState is a trainer with its state at the start of epoch 1 and of epoch 10.
type driftState struct {
	tr    *Trainer
	snaps [2]struct {
		params, s1, s2 []float32
		t              int
	}
}

func (d *driftState) save(i int) {
	s := &d.snaps[i]
	s.params = append([]float32(nil), d.tr.net.params...)
	s.s1 = append([]float32(nil), d.tr.opt.s1...)
	s.s2 = append([]float32(nil), d.tr.opt.s2...)
	s.t = d.tr.opt.t
}

func (d *driftState) restore(i int) {
	s := &d.snaps[i]
	copy(d.tr.net.params, s.params)
	copy(d.tr.opt.s1, s.s1)
	copy(d.tr.opt.s2, s.s2)
	d.tr.opt.t = s.t
}

var driftCache struct {
	sync.Mutex
	m map[string]*driftState
}

// driftSetup trains the final model 9 epochs on train with the backend and threads,
// once per process, keeping the two states.
func driftSetup(b *testing.B, train *Data, backend string, threads int) *driftState {
	driftCache.Lock()
	defer driftCache.Unlock()
	key := fmt.Sprintf("%s/%d", backend, threads)
	if d, ok := driftCache.m[key]; ok {
		return d
	}
	c := DefaultConfig()
	c.Threads = threads
	tr, err := NewTrainer(c, train, nil)
	if err != nil {
		b.Fatal(err)
	}
	d := &driftState{tr: tr}
	d.save(0)
	for e := 1; e <= 9; e++ {
		if _, err := tr.epoch(e, nil); err != nil {
			b.Fatal(err)
		}
	}
	d.save(1)
	if driftCache.m == nil {
		driftCache.m = map[string]*driftState{}
	}
	driftCache.m[key] = d
	return d
}
