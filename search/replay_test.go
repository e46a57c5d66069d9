package search

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/mlp"
)

// fakeRecord is what a trial of cfg "trains" to in these tests: a validation curve that
// falls towards a floor set by the configuration (its training seed stands for how good
// it is) with a seeded wobble, stopped by the configuration's own rule (mlp.ApplyStop, the
// trainer's code), so that early stops, and therefore carried entries, happen.
func fakeRecord(t testing.TB, cfg mlp.Config, sh Shape, data string) harness.Record {
	t.Helper()
	c := cfg
	c.Hidden = slices.Clone(cfg.Hidden)
	if err := c.Normalize(); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 99))
	floor := 0.05 + 0.3*float64(cfg.Seed%1000)/1000
	var val []float64
	for e := 1; e <= c.Epochs; e++ {
		val = append(val, floor+0.1/float64(e)+0.08*r.Float64())
	}
	d := mlp.ApplyStop(c.Stop, c.Epochs, val, nil)
	key, err := harness.TrialKey(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	nVal := mlp.ValCount(c.Split, sh.N)
	rec := harness.Record{Key: key, Seed: cfg.Seed, Protocol: string(cfg.Protocol), Data: data, Config: c,
		StopEpoch: d.Kept, StopReason: d.Reason, ValLoss: harness.Float(val[d.Kept-1]), ValAcc: harness.Float(1 - val[d.Kept-1]),
		NTrain: sh.N - nVal, NVal: nVal}
	for e := 1; e <= d.Ran; e++ {
		rec.Epochs = append(rec.Epochs, harness.Epoch{Epoch: e, ValLoss: harness.Float(val[e-1])})
	}
	return rec
}

// tinySpace draws small networks with both stopping rules (the rise rule often fires
// early on the fake curves' wobble).
func tinySpace() *Space {
	s := DefaultSpace()
	s.Width = Range(4, 64, true)
	s.Epochs = Choice(9)
	return s
}

var tinyShape = Shape{Features: 20, Classes: 3, N: 400}

func tinySettings(strategy Strategy, budget float64) Settings {
	return Settings{Strategy: strategy, Space: tinySpace(), Seed: 5, BudgetFLOPs: budget, Eta: 3, MinEpochs: 1,
		EvalSeeds: []uint64{1, 2, 3}, Data: "fakedata", Shape: tinyShape}
}

// simulate runs a search to the end with fake training, finishing each round's trials
// in a shuffled order and replaying after every few, checking at each replay that the
// plan so far never changes and the budget is never exceeded. It returns the final state.
func simulate(t *testing.T, set Settings, order uint64) *State {
	t.Helper()
	s, err := New(set)
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]harness.Record{}
	r := rand.New(rand.NewPCG(order, 1))
	var prevKeys []string
	for iter := 0; ; iter++ {
		if iter > 10000 {
			t.Fatal("the search does not end")
		}
		st, err := s.Replay(done)
		if err != nil {
			t.Fatal(err)
		}
		keys := make([]string, len(st.Trials))
		for i, tr := range st.Trials {
			if tr.Index != i {
				t.Fatalf("trial %d has index %d", i, tr.Index)
			}
			keys[i] = tr.Key
		}
		if len(keys) < len(prevKeys) || !slices.Equal(keys[:len(prevKeys)], prevKeys) {
			t.Fatalf("replay %d changed the trials already planned", iter)
		}
		prevKeys = keys
		if st.Spent > set.BudgetFLOPs {
			t.Fatalf("spent %g > budget %g", st.Spent, set.BudgetFLOPs)
		}
		if st.Done {
			return st
		}
		var missing []harness.Trial
		for _, tr := range st.Trials {
			if _, ok := done[tr.Key]; !ok {
				missing = append(missing, tr)
			}
		}
		if len(missing) == 0 {
			t.Fatalf("not done (%s) but nothing is missing", st.Waiting)
		}
		r.Shuffle(len(missing), func(i, j int) { missing[i], missing[j] = missing[j], missing[i] })
		for _, tr := range missing[:1+r.IntN(len(missing))] {
			done[tr.Key] = fakeRecord(t, tr.Config, set.Shape, set.Data)
		}
	}
}

// Successive halving: each rung keeps the best 1/eta of the rung before by validation
// loss (fewer only when the budget cannot pay), retrains them for eta times the
// epochs, carries the ones whose rule already stopped them, and the pick is the best
// of the last rungs. The result does not depend on the order trials finish in.
func TestHalvingRounds(t *testing.T) {
	grid := 200 * tinyShape.EpochFLOPs(tinySpace().Sample(5, 0)) * 9
	set := tinySettings(Halving, grid)
	st := simulate(t, set, 1)
	if got := set.Rungs(); !slices.Equal(got, []int{1, 3, 9}) {
		t.Fatalf("rungs %v", got)
	}
	carried, rounds := 0, map[[2]int]*Round{}
	for _, r := range st.Rounds {
		rounds[[2]int{r.Bracket, r.Rung}] = r
		if !r.Complete || len(r.Ranked) != len(r.Entries) {
			t.Fatalf("%s incomplete in a finished search", r.Name(Halving))
		}
		for i := 1; i < len(r.Ranked); i++ {
			if r.Entries[r.Ranked[i-1]].ValLoss() > r.Entries[r.Ranked[i]].ValLoss() {
				t.Fatalf("%s: ranking is not by validation loss", r.Name(Halving))
			}
		}
		prev := rounds[[2]int{r.Bracket, r.Rung - 1}]
		if prev == nil {
			continue
		}
		want := max(1, len(prev.Entries)/set.Eta) - r.Dropped
		if len(r.Entries) != want {
			t.Errorf("%s: %d entries, want %d (1/eta of %d, %d dropped)", r.Name(Halving), len(r.Entries), want, len(prev.Entries), r.Dropped)
		}
		for i, e := range r.Entries {
			pe := prev.Entries[prev.Ranked[i]]
			if e.Cand != pe.Cand {
				t.Fatalf("%s entry %d is candidate %d, want the %d-th best of the rung before, %d", r.Name(Halving), i, e.Cand, i+1, pe.Cand)
			}
			if e.Config.Epochs != r.Epochs {
				t.Errorf("entry at %d epochs in a rung of %d", e.Config.Epochs, r.Epochs)
			}
			stopped := pe.Record.StopReason != mlp.ReasonEpochs
			if e.Carried != stopped {
				t.Errorf("%s candidate %d: carried %v, but its record stopped by %s", r.Name(Halving), e.Cand, e.Carried, pe.Record.StopReason)
			}
			if e.Carried {
				carried++
				if e.Trial != -1 || e.FLOPs != 0 || e.Key != pe.Key || e.Record.Key != pe.Record.Key {
					t.Errorf("carried entry %+v runs a trial or costs something", e)
				}
			}
		}
	}
	if carried == 0 {
		t.Error("no entry was carried: the test does not cover early stops")
	}
	if len(rounds) < 4 {
		t.Errorf("%d rounds: want at least one bracket of 3 rungs and another", len(rounds))
	}
	// The pick is the best of the last rungs, which ran at the most epochs.
	for _, f := range st.Finalists {
		if f.Config.Epochs != 9 {
			t.Errorf("finalist at %d epochs", f.Config.Epochs)
		}
		if f.ValLoss() < st.Pick.ValLoss() {
			t.Errorf("finalist %d beats the pick", f.Cand)
		}
	}
	if st.Spent < 0.5*set.BudgetFLOPs {
		t.Errorf("spent %.3g of %.3g: more than half the budget left", st.Spent, set.BudgetFLOPs)
	}
	// Another completion order: the same search.
	st2 := simulate(t, set, 2)
	if len(st2.Trials) != len(st.Trials) || st2.Pick.Key != st.Pick.Key || st2.Spent != st.Spent {
		t.Errorf("a different completion order gave another search: %d vs %d trials, pick %s vs %s", len(st2.Trials), len(st.Trials), st2.Pick.Key, st.Pick.Key)
	}
}

// Random search: waves of configurations each paid for in full before it starts, until
// the next one does not fit; the pick is the lowest validation loss of all.
func TestRandomRounds(t *testing.T) {
	set := tinySettings(Random, 30*tinyShape.EpochFLOPs(tinySpace().Sample(5, 0))*9)
	st := simulate(t, set, 3)
	n, spent := 0, 0.0
	for _, r := range st.Rounds {
		if r.Planned > set.BudgetFLOPs-spent {
			t.Errorf("%s planned %.3g with %.3g left", r.Name(Random), r.Planned, set.BudgetFLOPs-spent)
		}
		spent += r.FLOPs
		for _, e := range r.Entries {
			if e.Cand != n {
				t.Fatalf("candidate %d out of order (want %d)", e.Cand, n)
			}
			n++
			if e.ValLoss() < st.Pick.ValLoss() {
				t.Errorf("candidate %d beats the pick", e.Cand)
			}
		}
	}
	if len(st.Rounds) < 2 {
		t.Errorf("%d waves: early stops should leave budget for a second", len(st.Rounds))
	}
	if len(st.Finalists) != n {
		t.Errorf("%d finalists of %d", len(st.Finalists), n)
	}
}

// A budget that cannot pay for one configuration is an error saying so.
func TestBudgetTooSmall(t *testing.T) {
	for _, strat := range []Strategy{Halving, Random} {
		s, err := New(tinySettings(strat, 10))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Replay(nil); err == nil || !strings.Contains(err.Error(), "cannot pay for") {
			t.Errorf("%s: %v", strat, err)
		}
	}
}

// A bracket never starts more candidates than its plan pays for, and one more would not fit.
func TestBracketSize(t *testing.T) {
	s, _ := New(tinySettings(Halving, 1))
	rungs := []int{1, 3, 9}
	for _, left := range []float64{1e7, 3e8, 1e9, 5e10} {
		n := s.bracketSize(0, left, rungs)
		if n > 0 && s.planCost(0, n, rungs) > left {
			t.Errorf("left %g: %d candidates cost %g", left, n, s.planCost(0, n, rungs))
		}
		if n < maxRound && s.planCost(0, n+1, rungs) <= left {
			t.Errorf("left %g: %d candidates, but %d fit", left, n, n+1)
		}
	}
	if math.IsNaN(s.planCost(0, 3, rungs)) {
		t.Fatal("NaN cost")
	}
}
