package search

import (
	"math"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/mlp"
)

// The baseline is the report's final row as the harness trains it: 784-600-200-10
// relu-relu, he_normal on the hidden layers, glorot_uniform on the softmax layer, adam
// with Keras's defaults, batch 64, split 0.1, exactly 7 epochs, clean protocol.
func TestBaseline(t *testing.T) {
	b, err := Baseline()
	if err != nil {
		t.Fatal(err)
	}
	want := mlp.DefaultConfig()
	want.Seed = 0
	kb, _ := harness.CanonicalConfig(b)
	kw, _ := harness.CanonicalConfig(want)
	if string(kb) != string(kw) {
		t.Fatalf("baseline %s\nwant (mlp.DefaultConfig, the report's final configuration) %s", kb, kw)
	}
}

// The evaluation's statistics: means, sample standard deviations, and the standard error
// of the difference sqrt(sd_p^2/n_p + sd_b^2/n_b), computed here by hand.
func TestEvaluate(t *testing.T) {
	s, err := New(tinySettings(Halving, 1e12))
	if err != nil {
		t.Fatal(err)
	}
	pick := s.Set.Space.Sample(5, 0)
	ts, err := s.EvalTrials(pick)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 6 {
		t.Fatalf("%d evaluation trials, want 2 sides x 3 seeds", len(ts))
	}
	pickAcc := []float64{0.981, 0.983, 0.982}
	baseAcc := []float64{0.978, 0.979, 0.977}
	recs := map[string]harness.Record{}
	for i, tr := range ts {
		if tr.Config.Seed != s.Set.EvalSeeds[i%3] || tr.Config.Protocol != mlp.Clean || tr.Config.TestEachEpoch {
			t.Fatalf("trial %d: seed %d, protocol %s", i, tr.Config.Seed, tr.Config.Protocol)
		}
		acc := pickAcc
		if i >= 3 {
			acc = baseAcc
		}
		recs[tr.Key] = harness.Record{Key: tr.Key, TestAcc: harness.Float(acc[i%3]), ValAcc: 0.98, Epochs: make([]harness.Epoch, 4)}
	}
	ev, err := s.Evaluate(pick, recs)
	if err != nil {
		t.Fatal(err)
	}
	// Means 0.982 and 0.978; both sample sds 0.001; SE = sqrt(2 * 0.001^2 / 3) = 0.000816.
	se := math.Sqrt(2 * 0.001 * 0.001 / 3)
	if !ev.Complete || math.Abs(ev.Diff-0.004) > 1e-12 || math.Abs(ev.SE-se) > 1e-12 || !ev.Beats {
		t.Fatalf("diff %g se %g beats %v complete %v; want 0.004, %g, true, true", ev.Diff, ev.SE, ev.Beats, ev.Complete, se)
	}
	if math.Abs(ev.PickTest.SD-0.001) > 1e-12 || ev.PickEpochs.Mean != 4 {
		t.Errorf("pick sd %g epochs %g", ev.PickTest.SD, ev.PickEpochs.Mean)
	}
	// Within two standard errors: not beaten.
	recs[ts[0].Key] = harness.Record{Key: ts[0].Key, TestAcc: 0.975}
	ev, _ = s.Evaluate(pick, recs)
	if ev.Beats {
		t.Errorf("diff %g with se %g counted as beating", ev.Diff, ev.SE)
	}
	delete(recs, ts[5].Key)
	if ev, _ = s.Evaluate(pick, recs); ev.Complete {
		t.Error("a missing record went unnoticed")
	}
}

func TestParseBudget(t *testing.T) {
	grid := func() (float64, error) { return 5e13, nil }
	for _, c := range []struct {
		in   string
		want Budget
	}{
		{"2.5e15", Budget{FLOPs: 2.5e15}},
		{"30m", Budget{Wall: 30 * 60e9}},
		{"1h30m", Budget{Wall: 90 * 60e9}},
		{"grid", Budget{FLOPs: 5e13, Grid: 1}},
		{"0.5grid", Budget{FLOPs: 2.5e13, Grid: 0.5}},
	} {
		got, err := ParseBudget(c.in, grid)
		if err != nil || got != c.want {
			t.Errorf("%q: %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0", "-1e9", "NaN", "Inf", "-5m", "0grid", "agrid", "lots"} {
		if _, err := ParseBudget(bad, grid); err == nil || !strings.HasPrefix(err.Error(), "budget") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// The report's final run, from its tables and log: 98.14% test, 7 epochs, and the last
// logged epoch's val_accuracy 0.9893 (report.txt's final log; the final row's note says
// the same).
func TestReportFinalRun(t *testing.T) {
	f, err := ReportFinalRun()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.TestAcc-0.9814) > 1e-12 || f.Epochs != 7 || math.Abs(f.ValAcc-0.9893) > 1e-12 {
		t.Fatalf("%+v", f)
	}
}
