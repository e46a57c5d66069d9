package search

import (
	"fmt"
	"math"
	"slices"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/mlp"
)

// ReportFinal is the report's final run as its own tables and log give it
// (report-tables.csv's final row, report-curves.csv's final run).
type ReportFinal struct {
	TestAcc float64 // fraction (the report prints 98.14%)
	ValAcc  float64 // validation accuracy of its last logged epoch (its leaky split)
	Epochs  int
}

// ReportFinalRun reads the report's final run from the harness's embedded reference files.
func ReportFinalRun() (ReportFinal, error) {
	var f ReportFinal
	rows, err := harness.ReportRows()
	if err != nil {
		return f, err
	}
	for _, r := range rows {
		if r.Stage == "final" {
			f.TestAcc, f.Epochs = r.TestAcc/100, r.StopEpoch
		}
	}
	curves, err := harness.ReportCurves()
	if err != nil {
		return f, err
	}
	last := 0
	for _, c := range curves {
		if c.Run == "final" && c.Epoch > last {
			last, f.ValAcc = c.Epoch, c.ValAcc
		}
	}
	if f.Epochs == 0 || last == 0 || math.IsNaN(f.TestAcc) {
		return f, fmt.Errorf("the report's reference files lack its final run (row %+v, %d logged epochs)", f, last)
	}
	return f, nil
}

// Baseline is the report's final pick as the harness trains it (the final row of its
// tables: 784-600-200-10 relu-relu, batch 64, adam, he_normal-glorot_uniform, split
// 0.1, exactly 7 epochs), under the clean protocol; seed unset.
func Baseline() (mlp.Config, error) {
	rcs, err := gridConfigs()
	if err != nil {
		return mlp.Config{}, err
	}
	for _, rc := range rcs {
		if rc.Row.Stage == "final" {
			c := rc.Config
			c.Protocol = mlp.Clean
			return c, nil
		}
	}
	return mlp.Config{}, fmt.Errorf("the report's tables have no final row")
}

// EvalTrials are the final evaluation: the pick and the baseline, each trained with
// every evaluation seed and tested once. The pick keeps its configuration (its most
// epochs and stopping rule) with the seed replaced.
func (s *Search) EvalTrials(pick mlp.Config) ([]harness.Trial, error) {
	base, err := Baseline()
	if err != nil {
		return nil, err
	}
	var out []harness.Trial
	for _, side := range []struct {
		name string
		cfg  mlp.Config
	}{{"pick", pick}, {"baseline", base}} {
		for _, seed := range s.Set.EvalSeeds {
			c := side.cfg
			c.Hidden = slices.Clone(c.Hidden)
			c.Seed, c.Protocol, c.TestEachEpoch, c.Threads = seed, mlp.Clean, false, 0
			key, err := harness.TrialKey(c, s.Set.Data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", side.name, err)
			}
			out = append(out, harness.Trial{Index: len(out), Key: key, Config: c, Rows: []string{side.name}})
		}
	}
	return out, nil
}

// EvalPlanner plans the evaluation trials for harness.Runner.
func (s *Search) EvalPlanner(pick mlp.Config) harness.Planner {
	return func(map[string]harness.Record) (*harness.Plan, error) {
		ts, err := s.EvalTrials(pick)
		if err != nil {
			return nil, err
		}
		return &harness.Plan{Data: s.Set.Data, Trials: ts, Complete: true}, nil
	}
}

// Evaluation compares the pick with the baseline on the test set, over the seeds.
type Evaluation struct {
	Pick, Baseline         []harness.Record // by evaluation seed; missing ones absent
	PickTest, BaseTest     harness.Stat     // test accuracy (fraction)
	PickVal, BaseVal       harness.Stat     // validation accuracy at the kept epoch
	PickEpochs, BaseEpochs harness.Stat     // epochs run
	// Diff is the pick's mean test accuracy minus the baseline's; SE the standard error
	// of that difference, sqrt(sd_p^2/n_p + sd_b^2/n_b) (the two are trained
	// independently: different architectures, so seeds do not pair them).
	Diff, SE float64
	// Beats: the pick is ahead by more than twice SE (needs 2 or more seeds per side).
	Beats    bool
	Complete bool
}

// Evaluate gathers the evaluation records.
func (s *Search) Evaluate(pick mlp.Config, recs map[string]harness.Record) (*Evaluation, error) {
	ts, err := s.EvalTrials(pick)
	if err != nil {
		return nil, err
	}
	ev := &Evaluation{Complete: true}
	for _, t := range ts {
		r, ok := recs[t.Key]
		if !ok {
			ev.Complete = false
			continue
		}
		if t.Rows[0] == "pick" {
			ev.Pick = append(ev.Pick, r)
		} else {
			ev.Baseline = append(ev.Baseline, r)
		}
	}
	get := func(rs []harness.Record, f func(harness.Record) float64) harness.Stat {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		return stat(xs)
	}
	test := func(r harness.Record) float64 { return float64(r.TestAcc) }
	val := func(r harness.Record) float64 { return float64(r.ValAcc) }
	eps := func(r harness.Record) float64 { return float64(len(r.Epochs)) }
	ev.PickTest, ev.BaseTest = get(ev.Pick, test), get(ev.Baseline, test)
	ev.PickVal, ev.BaseVal = get(ev.Pick, val), get(ev.Baseline, val)
	ev.PickEpochs, ev.BaseEpochs = get(ev.Pick, eps), get(ev.Baseline, eps)
	ev.Diff = ev.PickTest.Mean - ev.BaseTest.Mean
	ev.SE = math.NaN()
	if ev.PickTest.N >= 2 && ev.BaseTest.N >= 2 {
		ev.SE = math.Sqrt(ev.PickTest.SD*ev.PickTest.SD/float64(ev.PickTest.N) + ev.BaseTest.SD*ev.BaseTest.SD/float64(ev.BaseTest.N))
		ev.Beats = ev.Diff > 2*ev.SE
	}
	return ev, nil
}

// stat is the mean and sample standard deviation.
func stat(xs []float64) harness.Stat {
	s := harness.Stat{N: len(xs)}
	if s.N == 0 {
		return s
	}
	for _, x := range xs {
		s.Mean += x
	}
	s.Mean /= float64(s.N)
	if s.N > 1 {
		ss := 0.0
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(ss / float64(s.N-1))
	}
	return s
}
