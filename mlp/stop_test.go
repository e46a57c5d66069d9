package mlp

import (
	"encoding/csv"
	"os"
	"strconv"
	"testing"
)

type curve struct {
	first         int // the epoch of the first logged row (the batch-512 log starts at 7)
	loss, valLoss []float64
}

// readCurves reads the report's logged per-epoch lines (a verbatim copy of
// shared/reference/report-curves.csv) keyed by run name.
func readCurves(t *testing.T) map[string]*curve {
	t.Helper()
	f, err := os.Open("../testdata/mlp/report-curves.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	curves := map[string]*curve{}
	for _, r := range rows[1:] {
		epoch, err1 := strconv.Atoi(r[col["epoch"]])
		loss, err2 := strconv.ParseFloat(r[col["loss"]], 64)
		vl, err3 := strconv.ParseFloat(r[col["val_loss"]], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("bad row %v", r)
		}
		c := curves[r[col["run"]]]
		if c == nil {
			c = &curve{first: epoch}
			curves[r[col["run"]]] = c
		}
		if want := c.first + len(c.valLoss); epoch != want {
			t.Fatalf("run %s: epoch %d follows epoch %d", r[col["run"]], epoch, want-1)
		}
		c.loss = append(c.loss, loss)
		c.valLoss = append(c.valLoss, vl)
	}
	return curves
}

// TestRiseRuleOnReportCurves: the rise rule with its default min_delta, at most 20
// epochs, applied to the report's batch-size logs gives the report's stop epochs.
// The batch-512 log starts at epoch 7; the rule cannot have fired before (the report
// trained that model to epoch 20), so it is replayed from there.
func TestRiseRuleOnReportCurves(t *testing.T) {
	c := DefaultConfig()
	c.Stop = Stop{Kind: StopRise}
	c.Epochs = 20
	if err := c.Normalize(); err != nil {
		t.Fatal(err)
	}
	if c.Stop.MinDelta != 0.003 {
		t.Fatalf("rise min_delta default %g, want 0.003", c.Stop.MinDelta)
	}
	curves := readCurves(t)
	for _, w := range []struct {
		run  string
		stop int
	}{{"batch32", 7}, {"batch64", 7}, {"batch128", 7}, {"batch256", 11}, {"batch512", 20}} {
		cv := curves[w.run]
		if cv == nil {
			t.Fatalf("no run %s in the curves", w.run)
		}
		d := ApplyStop(c.Stop, c.Epochs-(cv.first-1), cv.valLoss, cv.loss)
		got := d.Ran + cv.first - 1
		if got != w.stop || d.Reason != ReasonRise || d.Kept != d.Ran {
			t.Errorf("%s: stopped after epoch %d (%s, kept %d), want %d by rise", w.run, got, d.Reason, d.Kept+cv.first-1, w.stop)
		}
	}
	// The final model's log (7 epochs, stop none) runs to the end.
	fin := curves["final"]
	if d := ApplyStop(Stop{Kind: StopNone}, 7, fin.valLoss, fin.loss); d.Ran != 7 || d.Reason != ReasonEpochs {
		t.Errorf("final: %+v, want 7 epochs", d)
	}
	// A min_delta of 0 would stop batch 64 at its first small rise, 0.0473 -> 0.0479
	// at epoch 5: the threshold is what makes the rule match the report.
	if d := ApplyStop(Stop{Kind: StopRise}, 20, curves["batch64"].valLoss, nil); d.Ran != 5 {
		t.Errorf("batch64 with min_delta 0: stopped at %d, want 5", d.Ran)
	}
}

// TestPatienceRule follows Keras's EarlyStopping on hand-made curves.
func TestPatienceRule(t *testing.T) {
	val := []float64{1, 0.9, 0.95, 0.96, 0.8, 0.85, 0.86, 0.87}
	for _, c := range []struct {
		rule      Stop
		ran, kept int
		reason    string
	}{
		{Stop{Kind: StopPatience, Patience: 0}, 3, 3, ReasonPatience},
		{Stop{Kind: StopPatience, Patience: 1}, 3, 3, ReasonPatience}, // Keras: 0 and 1 act alike
		{Stop{Kind: StopPatience, Patience: 2}, 4, 4, ReasonPatience},
		{Stop{Kind: StopPatience, Patience: 2, RestoreBest: true}, 4, 2, ReasonPatience},
		{Stop{Kind: StopPatience, Patience: 3, RestoreBest: true}, 8, 5, ReasonPatience},
		{Stop{Kind: StopPatience, Patience: 4, RestoreBest: true}, 8, 8, ReasonEpochs},
		// min_delta 0.2: only the first epoch improves (0.8 is not below 1 - 0.2).
		{Stop{Kind: StopPatience, Patience: 3, MinDelta: 0.2, RestoreBest: true}, 4, 1, ReasonPatience},
		{Stop{Kind: StopNone}, 8, 8, ReasonEpochs},
		{Stop{Kind: StopRise, MinDelta: 0.003}, 3, 3, ReasonRise},
		{Stop{Kind: StopRise, MinDelta: 0.1}, 8, 8, ReasonEpochs},
	} {
		d := ApplyStop(c.rule, 8, val, nil)
		if d.Ran != c.ran || d.Kept != c.kept || d.Reason != c.reason {
			t.Errorf("%+v: got %+v, want ran %d kept %d %s", c.rule, d, c.ran, c.kept, c.reason)
		}
	}
}

func TestLossFloorAndMaxEpochs(t *testing.T) {
	val := []float64{1, 0.9, 0.8, 0.7, 0.6}
	loss := []float64{0.5, 0.2, 0.09, 0.05, 0.01}
	if d := ApplyStop(Stop{Kind: StopNone, LossFloor: 0.1}, 5, val, loss); d.Ran != 3 || d.Reason != ReasonLossFloor {
		t.Errorf("loss floor 0.1: %+v, want stop after 3", d)
	}
	if d := ApplyStop(Stop{Kind: StopRise, MinDelta: 0.003, LossFloor: 0.01}, 5, val, loss); d.Ran != 5 || d.Reason != ReasonEpochs {
		t.Errorf("loss floor 0.01 (not below): %+v, want 5 epochs", d)
	}
	if d := ApplyStop(Stop{Kind: StopNone}, 2, val, loss); d.Ran != 2 || d.Reason != ReasonEpochs {
		t.Errorf("max 2 epochs: %+v", d)
	}
}
