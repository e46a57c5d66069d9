package harness

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

func mustSweep(t *testing.T) *Sweep {
	t.Helper()
	s, err := NewSweep()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The report's tables have 48 rows (protocol.md): 13 + 9 + 7 + 5 + 7 + 2 + 4 + 1.
func TestReportRowsCount(t *testing.T) {
	s := mustSweep(t)
	want := map[string]int{"depth_width": 13, "activations": 9, "node_distribution": 7, "batch_size": 5, "val_split": 7, "initializer": 2, "optimizer": 4, "final": 1}
	total := 0
	for _, st := range Stages {
		if got := len(s.StageRows(st)); got != want[st] {
			t.Errorf("stage %s: %d rows, want %d", st, got, want[st])
		}
		total += len(s.StageRows(st))
	}
	if total != 48 || len(s.Rows()) != 48 {
		t.Fatalf("%d rows (%d in file), want 48", total, len(s.Rows()))
	}
}

// Every row maps to exactly one trial configuration, and that configuration agrees with
// every value the row states plus every setting protocol.md fixes for its stage.
func TestEveryRowMapsToOneConsistentConfig(t *testing.T) {
	s := mustSweep(t)
	plan, err := s.Plan(PlanOptions{Seeds: []uint64{1}, Protocols: []mlp.Protocol{mlp.Clean}}, "data", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Complete {
		t.Fatal("report order plan is not complete")
	}
	covered := map[string]int{}
	for _, tr := range plan.Trials {
		for _, id := range tr.Rows {
			covered[id]++
		}
	}
	for _, r := range s.Rows() {
		if covered[r.ID()] != 1 {
			t.Errorf("row %s is reproduced by %d trials, want exactly 1", r.ID(), covered[r.ID()])
		}
	}
	// Rows that are the same experiment share one trial: depth_width/4 = activations/1 =
	// node_distribution/1 (400-400 relu-relu), val_split/3 = initializer/1 (batch 64,
	// split 0.1, default init), initializer/2 = optimizer/1 (he_normal, adam).
	if len(plan.Trials) != 44 {
		t.Errorf("%d distinct trials, want 44 (48 rows, 4 of them repeats)", len(plan.Trials))
	}
	shared := map[string][]string{}
	for _, tr := range plan.Trials {
		if len(tr.Rows) > 1 {
			shared[tr.Rows[0]] = tr.Rows
		}
	}
	wantShared := map[string][]string{
		"depth_width/4": {"depth_width/4", "activations/1", "node_distribution/1"},
		"val_split/3":   {"val_split/3", "initializer/1"},
		"initializer/2": {"initializer/2", "optimizer/1"},
	}
	if fmt.Sprint(shared) != fmt.Sprint(wantShared) {
		t.Errorf("shared trials %v, want %v", shared, wantShared)
	}

	for _, sp := range plan.Stages {
		for _, rc := range sp.Rows {
			checkRowConfig(t, sp.Stage, rc.Row, rc.Config)
		}
	}
}

func checkRowConfig(t *testing.T, stage string, r Row, c mlp.Config) {
	t.Helper()
	id := r.ID()
	if err := c.Normalize(); err != nil {
		t.Errorf("%s: config does not normalize: %v", id, err)
	}
	if len(c.Hidden) != r.Depth {
		t.Fatalf("%s: %d hidden layers, row says %d", id, len(c.Hidden), r.Depth)
	}
	for i, l := range c.Hidden {
		if l.Width != r.Widths[i] || l.Act.String() != r.Acts[i] {
			t.Errorf("%s: layer %d is %d %s, row says %d %s", id, i, l.Width, l.Act, r.Widths[i], r.Acts[i])
		}
	}
	// Batch: the row's, else protocol.md's per stage (100 before batch_size, then 64).
	wantBatch := r.Batch
	if wantBatch == 0 {
		wantBatch = 100
		if stageIndex(stage) > stageIndex("batch_size") {
			wantBatch = 64
		}
	}
	if c.Batch != wantBatch {
		t.Errorf("%s: batch %d, want %d", id, c.Batch, wantBatch)
	}
	wantSplit := r.Split
	if wantSplit == 0 {
		wantSplit = 0.1
	}
	if c.Split != wantSplit {
		t.Errorf("%s: split %v, want %v", id, c.Split, wantSplit)
	}
	wantInit := r.Initializer
	if wantInit == "" {
		wantInit = "default"
		if stageIndex(stage) > stageIndex("initializer") {
			wantInit = "he_normal-glorot_uniform"
		}
	}
	hid := mlp.GlorotUniform
	if wantInit == "he_normal-glorot_uniform" {
		hid = mlp.HeNormal
	}
	for i, l := range c.Hidden {
		if l.Init != hid {
			t.Errorf("%s: layer %d init %s, want %s (%s)", id, i, l.Init, hid, wantInit)
		}
	}
	if c.OutputInit != mlp.GlorotUniform {
		t.Errorf("%s: output init %s, want glorot_uniform", id, c.OutputInit)
	}
	wantOpt := r.Optimizer
	if wantOpt == "" {
		wantOpt = "adam"
	}
	if c.Optimizer.Name != wantOpt {
		t.Errorf("%s: optimizer %s, want %s", id, c.Optimizer.Name, wantOpt)
	}
	if c.ShuffleBuffer != 10000 {
		t.Errorf("%s: shuffle buffer %d, want 10000", id, c.ShuffleBuffer)
	}
	if stage == "final" {
		if c.Stop.Kind != mlp.StopNone || c.Epochs != 7 {
			t.Errorf("%s: stop %s epochs %d, want none and 7", id, c.Stop.Kind, c.Epochs)
		}
	} else if c.Stop.Kind != mlp.StopRise || c.Stop.MinDelta != 0.003 || c.Epochs != 20 {
		t.Errorf("%s: stop %+v epochs %d, want rise, min_delta 0.003, at most 20 epochs", id, c.Stop, c.Epochs)
	}
	if c.TestEachEpoch != (stage == "batch_size") {
		t.Errorf("%s: test each epoch %v, want %v", id, c.TestEachEpoch, stage == "batch_size")
	}
}

func stageIndex(s string) int { return slices.Index(Stages, s) }

// The trial list is config x seed x protocol, in a fixed order, and shards partition it.
func TestPlanSeedsProtocolsAndShards(t *testing.T) {
	s := mustSweep(t)
	o := PlanOptions{Seeds: []uint64{1, 2, 3}, Protocols: []mlp.Protocol{mlp.Clean, mlp.Report}}
	plan, err := s.Plan(o, "data", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Trials) != 44*3*2 {
		t.Fatalf("%d trials, want %d", len(plan.Trials), 44*3*2)
	}
	keys := map[string]bool{}
	for i, tr := range plan.Trials {
		if tr.Index != i {
			t.Fatalf("trial %d has index %d", i, tr.Index)
		}
		if keys[tr.Key] {
			t.Fatalf("duplicate key %s", tr.Key)
		}
		keys[tr.Key] = true
		want, _ := TrialKey(tr.Config, "data")
		if tr.Key != want {
			t.Fatalf("trial %d key %s, recomputed %s", i, tr.Key, want)
		}
	}
	first := plan.Trials[:6]
	for i, tr := range first {
		wantSeed, wantProto := uint64(1+i/2), []mlp.Protocol{mlp.Clean, mlp.Report}[i%2]
		if tr.Rows[0] != "depth_width/1" || tr.Config.Seed != wantSeed || tr.Config.Protocol != wantProto {
			t.Errorf("trial %d = %s, want depth_width/1 %s s%d", i, tr.Label(), wantProto, wantSeed)
		}
	}
	// Planning again gives the same list.
	again, _ := s.Plan(o, "data", nil)
	for i := range plan.Trials {
		if again.Trials[i].Key != plan.Trials[i].Key {
			t.Fatalf("plan not deterministic at %d", i)
		}
	}
	// Shards partition the trials.
	for _, n := range []int{1, 2, 3, 7} {
		count := map[string]int{}
		for i := range n {
			for _, tr := range plan.Trials {
				if (Shard{Index: i, Count: n}).Has(tr) {
					count[tr.Key]++
				}
			}
		}
		for k := range keys {
			if count[k] != 1 {
				t.Fatalf("%d shards: trial %s in %d shards", n, k, count[k])
			}
		}
	}
	// A different data fingerprint gives different keys.
	other, _ := s.Plan(o, "other", nil)
	if other.Trials[0].Key == plan.Trials[0].Key {
		t.Error("data fingerprint does not change the keys")
	}
}

func TestPlanStagesSubsetAndEpochsCap(t *testing.T) {
	s := mustSweep(t)
	plan, err := s.Plan(PlanOptions{Stages: []string{"final", "batch_size"}, Seeds: []uint64{1}, Protocols: []mlp.Protocol{mlp.Report}, EpochsCap: 2}, "d", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Trials) != 6 {
		t.Fatalf("%d trials, want 6 (5 batch sizes + final)", len(plan.Trials))
	}
	if plan.Trials[0].Rows[0] != "batch_size/1" || plan.Trials[5].Rows[0] != "final/1" {
		t.Errorf("stages not in protocol order: %s .. %s", plan.Trials[0].Label(), plan.Trials[5].Label())
	}
	for _, tr := range plan.Trials {
		if tr.Config.Epochs != 2 {
			t.Errorf("%s: epochs %d, want the cap 2", tr.Label(), tr.Config.Epochs)
		}
	}
}

func TestPlanOptionErrors(t *testing.T) {
	s := mustSweep(t)
	cases := []struct {
		o    PlanOptions
		want string
	}{
		{PlanOptions{Stages: []string{"depth"}, Seeds: []uint64{1}, Protocols: []mlp.Protocol{mlp.Clean}}, `unknown stage "depth"`},
		{PlanOptions{Stages: []string{"final", "final"}, Seeds: []uint64{1}, Protocols: []mlp.Protocol{mlp.Clean}}, `"final" listed twice`},
		{PlanOptions{Protocols: []mlp.Protocol{mlp.Clean}}, "at least one seed"},
		{PlanOptions{Seeds: []uint64{1}}, "protocols"},
		{PlanOptions{Seeds: []uint64{1}, Protocols: []mlp.Protocol{"leaky"}}, `unknown protocol "leaky"`},
		{PlanOptions{Seeds: []uint64{1}, Protocols: []mlp.Protocol{mlp.Report}, Order: OrderAdaptive}, "must include clean"},
		{PlanOptions{Seeds: []uint64{1}, Protocols: []mlp.Protocol{mlp.Clean}, Order: "random"}, `expected report or adaptive, found "random"`},
	}
	for _, c := range cases {
		_, err := s.Plan(c.o, "d", nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.o, err, c.want)
		}
	}
}

// In adaptive order a stage starts from the row with the best mean CLEAN validation
// accuracy of the stage before, never the best test accuracy or the report protocol's
// validation accuracy.
func TestAdaptivePicksByCleanValidation(t *testing.T) {
	s := mustSweep(t)
	o := PlanOptions{Stages: []string{"depth_width", "activations"}, Seeds: []uint64{1, 2}, Protocols: []mlp.Protocol{mlp.Clean, mlp.Report}, Order: OrderAdaptive}
	plan, err := s.Plan(o, "d", nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Complete || plan.Waiting != "depth_width" || len(plan.Trials) != 13*2*2 {
		t.Fatalf("before any result: complete %v waiting %q, %d trials; want waiting for depth_width with its 52 trials", plan.Complete, plan.Waiting, len(plan.Trials))
	}
	// Results: row 9 (3 x 400) has the best clean validation mean; row 2 has the best
	// test accuracy and the best report-protocol validation; row 5 beats row 9 on seed 1
	// alone but not on the mean.
	done := map[string]Record{}
	for _, tr := range plan.Trials {
		row := tr.Rows[0]
		val, test := 0.97, 0.97
		switch {
		case row == "depth_width/9":
			val = 0.985
		case row == "depth_width/2" && tr.Config.Protocol == mlp.Report:
			val, test = 0.999, 0.999
		case row == "depth_width/2":
			test = 0.999
		case row == "depth_width/5" && tr.Config.Seed == 1:
			val = 0.99
		}
		done[tr.Key] = Record{Key: tr.Key, ValAcc: Float(val), TestAcc: Float(test)}
	}
	plan, err = s.Plan(o, "d", done)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Complete {
		t.Fatalf("with every depth_width result the plan still waits for %s", plan.Waiting)
	}
	if got := plan.Stages[0].Rows[plan.Stages[0].Pick].Row.ID(); got != "depth_width/9" {
		t.Fatalf("picked %s, want depth_width/9", got)
	}
	act := plan.Stages[1]
	if len(act.Rows) != 9 {
		t.Fatalf("activations has %d rows", len(act.Rows))
	}
	for _, rc := range act.Rows {
		if len(rc.Config.Hidden) != 3 {
			t.Fatalf("%s: %d layers, want the picked 3", rc.Row.ID(), len(rc.Config.Hidden))
		}
		// Layer 1 takes the row's first activation, layers 2 and 3 its second.
		want := []string{rc.Row.Acts[0], rc.Row.Acts[1], rc.Row.Acts[1]}
		for i, l := range rc.Config.Hidden {
			if l.Width != 400 || l.Act.String() != want[i] {
				t.Errorf("%s: layer %d = %d %s, want 400 %s", rc.Row.ID(), i, l.Width, l.Act, want[i])
			}
		}
	}
	// activations/1 (relu-relu on the picked 3 x 400) is depth_width/9 again: one trial.
	if len(plan.Trials) != 13*4+8*4 {
		t.Errorf("%d trials, want %d", len(plan.Trials), 13*4+8*4)
	}
	if tr := plan.Trials[8*4]; !slices.Equal(tr.Rows, []string{"depth_width/9", "activations/1"}) {
		t.Errorf("trial %d reproduces %v, want depth_width/9 and activations/1", tr.Index, tr.Rows)
	}
}

// node_distribution under an adaptive pick of another width scales the rows' widths.
func TestNodeDistributionScales(t *testing.T) {
	s := mustSweep(t)
	in := InitialPicks()
	in.Hidden = []mlp.Layer{{Width: 200, Act: kernels.Tanh}, {Width: 200, Act: kernels.ReLU}}
	rcs, err := s.StageConfigs("node_distribution", in)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{200, 200}, {150, 250}, {250, 150}, {100, 300}, {300, 100}, {50, 350}, {350, 50}}
	for i, rc := range rcs {
		h := rc.Config.Hidden
		if h[0].Width != want[i][0] || h[1].Width != want[i][1] || h[0].Act != kernels.Tanh || h[1].Act != kernels.ReLU {
			t.Errorf("%s: %d %s - %d %s, want %v tanh-relu", rc.Row.ID(), h[0].Width, h[0].Act, h[1].Width, h[1].Act, want[i])
		}
	}
}

func TestReportRowsValues(t *testing.T) {
	s := mustSweep(t)
	r := s.StageRows("batch_size")[4]
	if r.Batch != 512 || r.StopEpoch != 20 || !math.IsNaN(r.ValAcc) || r.TestAcc != 98.14 {
		t.Errorf("batch_size/5 parsed as %+v", r)
	}
	for _, st := range Stages[:7] {
		if _, ok := s.ReportPick(st); !ok {
			t.Errorf("stage %s has no pick", st)
		}
	}
	if p, _ := s.ReportPick("node_distribution"); p.Index != 5 {
		t.Errorf("node_distribution pick is row %d, want 5 (600-200)", p.Index)
	}
}

func TestParseRowsErrors(t *testing.T) {
	hdr := "sweep,row,hidden_layers,activations,widths,batch,val_split,initializer,optimizer,epochs,val_acc,test_acc,note\n"
	cases := map[string]string{
		hdr + "final,1,2,relu-relu,600-200,64,1.5,,,7,,98.14,\n": "column val_split: expected a fraction in (0, 1) or empty, found \"1.5\"",
		hdr + "final,1,2,relu,600-200,64,,,,7,,98.14,\n":         "column activations: expected 2 activations",
		hdr + "final,x,2,relu-relu,600-200,64,,,,7,,98.14,\n":    "column row: expected a positive integer",
		"sweep,row\nfinal,1\n":                                   "expected the header",
	}
	for in, want := range cases {
		_, err := ParseRows(strings.NewReader(in), "t.csv")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one containing %q", err, want)
		}
	}
}
