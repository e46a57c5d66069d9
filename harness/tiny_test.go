package harness

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

// tinyDataset is a synthetic 3-class problem small enough to train in milliseconds:
// each class brightens its own third of 12 pixels, plus noise.
func tinyDataset(t testing.TB) *Dataset { return tinyDatasetSignal(t, 100) }

// tinyDatasetSignal is tinyDataset with the class signal's strength chosen (smaller is
// harder).
func tinyDatasetSignal(t testing.TB, signal int) *Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	gen := func(n int) *mlp.Data {
		d := &mlp.Data{N: n, Features: 12, Classes: 3, X: make([]uint8, n*12), Y: make([]uint8, n)}
		for i := range n {
			c := rng.IntN(3)
			d.Y[i] = uint8(c)
			for j := range 12 {
				v := rng.IntN(120)
				if j/4 == c {
					v += signal
				}
				d.X[i*12+j] = uint8(v)
			}
		}
		return d
	}
	ds, err := NewDataset(gen(240), gen(90), nil, "synthetic")
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// tinyConfigs are three small configurations covering both stopping rules and the
// per-epoch test metrics.
func tinyConfigs() []mlp.Config {
	base := mlp.Config{
		Hidden:        []mlp.Layer{{Width: 8, Act: kernels.ReLU, Init: mlp.HeNormal}},
		OutputInit:    mlp.GlorotUniform,
		Optimizer:     mlp.Optimizer{Name: "adam"},
		Batch:         16,
		Epochs:        4,
		Split:         0.25,
		ShuffleBuffer: 50,
		Stop:          mlp.Stop{Kind: mlp.StopNone},
	}
	a := cloneConfig(base)
	b := cloneConfig(base)
	b.Hidden = []mlp.Layer{{Width: 6, Act: kernels.Tanh, Init: mlp.GlorotUniform}, {Width: 5, Act: kernels.Sigmoid, Init: mlp.GlorotUniform}}
	b.Stop = mlp.Stop{Kind: mlp.StopRise, MinDelta: 0.003}
	b.Epochs = 6
	c := cloneConfig(base)
	c.Optimizer = mlp.Optimizer{Name: "rmsprop"}
	c.Batch = 32
	c.TestEachEpoch = true
	return []mlp.Config{a, b, c}
}

// tinyPlanner lays out tinyConfigs x seeds 1, 2 x both protocols: 12 trials.
func tinyPlanner(t testing.TB, data string) Planner {
	t.Helper()
	p := &Plan{Data: data, Complete: true}
	for i, c := range tinyConfigs() {
		for _, seed := range []uint64{1, 2} {
			for _, proto := range []mlp.Protocol{mlp.Clean, mlp.Report} {
				cc := cloneConfig(c)
				cc.Seed, cc.Protocol = seed, proto
				key, err := TrialKey(cc, data)
				if err != nil {
					t.Fatal(err)
				}
				p.Trials = append(p.Trials, Trial{Index: len(p.Trials), Key: key, Config: cc, Rows: []string{"tiny/" + string(rune('1'+i))}})
			}
		}
	}
	return func(map[string]Record) (*Plan, error) { return p, nil }
}

// runTiny runs the tiny plan into path (resuming whatever is there).
func runTiny(t testing.TB, path string, jobs int, shard Shard, train TrainFunc) (Summary, error) {
	t.Helper()
	ds := tinyDataset(t)
	s, err := OpenStore(path, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := &Runner{Plan: tinyPlanner(t, ds.Fingerprint()), Data: ds, Store: s, Jobs: jobs, Threads: 1, Shard: shard,
		Provenance: BuildProvenance(nil), Train: train, CPUs: 2}
	return r.Run(context.Background())
}

// canonicalLines returns the file's records with wall times cleared (strip == false) or
// with provenance cleared too, one JSON line each, sorted: the set a run produced.
func canonicalLines(t testing.TB, path string, stripProvenance bool) []string {
	t.Helper()
	recs, err := ReadRecords(path, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.Key] {
			t.Fatalf("%s: trial %s recorded twice", path, r.Key)
		}
		seen[r.Key] = true
		c := r.WithoutWallTimes()
		if stripProvenance {
			c = r.Comparable()
		}
		l, err := c.Line()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(l))
	}
	slices.Sort(out)
	return out
}

func TestRunnerTinyComplete(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	sum, err := runTiny(t, a, 1, All, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Planned != 12 || sum.Ran != 12 || sum.Reused != 0 || !sum.Complete {
		t.Fatalf("summary %+v", sum)
	}
	// Two workers, other completion order: the same records.
	if _, err := runTiny(t, b, 2, All, nil); err != nil {
		t.Fatal(err)
	}
	la, lb := canonicalLines(t, a, false), canonicalLines(t, b, false)
	if !slices.Equal(la, lb) {
		t.Fatalf("-j 1 and -j 2 records differ:\n%v\n%v", la, lb)
	}
	// Re-running reuses everything.
	sum, err = runTiny(t, a, 2, All, nil)
	if err != nil || sum.Ran != 0 || sum.Reused != 12 {
		t.Fatalf("re-run: %+v %v", sum, err)
	}
	recs, _ := ReadRecords(a, &bytes.Buffer{})
	for _, r := range recs {
		if r.Config.TestEachEpoch {
			for _, e := range r.Epochs {
				if e.TestAcc == nil {
					t.Fatalf("%s: epoch %d has no test metrics", r.Key, e.Epoch)
				}
			}
		}
		if r.StopEpoch < 1 || len(r.Epochs) < r.StopEpoch || r.NTrain+r.NVal != 240 || r.NTest != 90 || r.Provenance.Backend == "" {
			t.Fatalf("implausible record %+v", r)
		}
	}
}

// Cancelling (Ctrl-C) abandons the trials in flight: nothing partial is written, and
// the restarted run finishes with the records of an uninterrupted one.
func TestRunnerCancelResume(t *testing.T) {
	dir := t.TempDir()
	ref, got := filepath.Join(dir, "ref.jsonl"), filepath.Join(dir, "got.jsonl")
	if _, err := runTiny(t, ref, 1, All, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := 0
	train := func(c context.Context, cfg mlp.Config, d *Dataset, on func(mlp.EpochMetrics)) (*mlp.Result, error) {
		started++
		if started == 5 {
			// Cancel in the middle of the fifth trial's training.
			return TrainMLP(c, cfg, d, func(e mlp.EpochMetrics) {
				on(e)
				if e.Epoch == 2 {
					cancel()
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
		return TrainMLP(c, cfg, d, on)
	}
	ds := tinyDataset(t)
	s, err := OpenStore(got, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Plan: tinyPlanner(t, ds.Fingerprint()), Data: ds, Store: s, Jobs: 1, Threads: 1, Provenance: BuildProvenance(nil), Train: train, CPUs: 2}
	sum, err := r.Run(ctx)
	s.Close()
	if err == nil || ctx.Err() == nil {
		t.Fatalf("cancelled run returned %v", err)
	}
	if sum.Ran != 4 {
		t.Fatalf("cancelled run finished %d trials, want the 4 before the cancel", sum.Ran)
	}
	if n := len(canonicalLines(t, got, false)); n != 4 {
		t.Fatalf("%d records after cancel, want 4", n)
	}
	sum, err = runTiny(t, got, 2, All, nil)
	if err != nil || sum.Ran != 8 || sum.Reused != 4 {
		t.Fatalf("resume: %+v %v", sum, err)
	}
	if !slices.Equal(canonicalLines(t, ref, false), canonicalLines(t, got, false)) {
		t.Fatal("resumed run differs from the uninterrupted one")
	}
}

func TestRunnerResources(t *testing.T) {
	for _, c := range []struct{ jobs, threads, cpus, wantJ, wantT int }{
		{0, 0, 2, 2, 1}, {0, 2, 2, 1, 2}, {1, 0, 4, 1, 1}, {0, 3, 2, 1, 3},
	} {
		r := &Runner{Jobs: c.jobs, Threads: c.threads, CPUs: c.cpus}
		j, th, err := r.Resources()
		if c.threads > c.cpus {
			if err == nil {
				t.Errorf("%+v: no error", c)
			}
			continue
		}
		if err != nil || j != c.wantJ || th != c.wantT {
			t.Errorf("%+v: %d %d %v", c, j, th, err)
		}
	}
	r := &Runner{Jobs: 2, Threads: 2, CPUs: 2}
	if _, _, err := r.Resources(); err == nil || err.Error() != "j 2 x threads 2 = 4 exceeds the 2 CPUs this process may use" {
		t.Errorf("oversubscription: %v", err)
	}
}

// The adaptive order end to end: the activations stage is planned from the depth_width
// row with the best clean validation accuracy actually measured.
func TestAdaptiveRunUsesMeasuredWinner(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 22 networks")
	}
	ds := tinyDatasetSignal(t, 30)
	s := mustSweep(t)
	o := PlanOptions{Stages: []string{"depth_width", "activations"}, Seeds: []uint64{1}, Protocols: []mlp.Protocol{mlp.Clean}, Order: OrderAdaptive, EpochsCap: 1}
	st, err := OpenStore(filepath.Join(t.TempDir(), "r.jsonl"), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := &Runner{Plan: SweepPlanner(s, o, ds.Fingerprint()), Data: ds, Store: st, Provenance: BuildProvenance(nil), CPUs: 2}
	sum, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	recs := st.Records()
	// depth_width: 13 trials; activations: 9 rows, one of which (the pick's own
	// activations) may repeat the winner's trial.
	if !sum.Complete || sum.Ran != len(recs) || len(recs) < 21 || len(recs) > 22 {
		t.Fatalf("summary %+v, %d records", sum, len(recs))
	}
	// The winner, found here from the records by row order (first on a tie).
	byKey := recordMap(recs)
	rows, err := s.StageConfigs("depth_width", InitialPicks())
	if err != nil {
		t.Fatal(err)
	}
	best, bestVal := -1, -1.0
	for i, rc := range rows {
		c := cloneConfig(rc.Config)
		c.Epochs, c.Seed, c.Protocol = 1, 1, mlp.Clean
		key, _ := TrialKey(c, ds.Fingerprint())
		rec, ok := byKey[key]
		if !ok {
			t.Fatalf("depth_width/%d not recorded", i+1)
		}
		if float64(rec.ValAcc) > bestVal {
			best, bestVal = i, float64(rec.ValAcc)
		}
	}
	want := rows[best].Config.Hidden
	t.Logf("measured depth_width winner: row %d (%s), clean val %.4f", best+1, hiddenLabel(rows[best].Config), bestVal)
	if best == 3 {
		t.Fatal("the measured winner is the report's pick: this data cannot tell the orders apart; change the data")
	}
	// The 8 activations rows other than relu-relu are the trials with a non-relu layer.
	n := 0
	for _, rec := range recs {
		h := rec.Config.Hidden
		if !slices.ContainsFunc(h, func(l mlp.Layer) bool { return l.Act != kernels.ReLU }) {
			continue
		}
		n++
		if len(h) != len(want) {
			t.Fatalf("activations trial has %d layers, the measured winner %d", len(h), len(want))
		}
		for i := range h {
			if h[i].Width != want[i].Width {
				t.Fatalf("activations trial widths %v, measured winner %v", h, want)
			}
		}
	}
	if n != 8 {
		t.Errorf("%d activations trials with a non-relu layer, want 8", n)
	}
}
