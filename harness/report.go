package harness

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/simdmlp/simdmlp/mlp"
)

// reportProtocols is the order protocols appear in the report.
var reportProtocols = []mlp.Protocol{mlp.Clean, mlp.Report}

// Cell is what we measured for one row under one protocol, over the seeds recorded.
type Cell struct {
	Records     []Record // sorted by seed
	Val         Stat     // validation accuracy at the stop epoch (fraction)
	Test        Stat     // test accuracy as the report's column means it (fraction)
	Stop        Stat     // stop epoch
	Gap         Stat     // validation minus test accuracy at the stop epoch (fraction)
	SecPerEpoch Stat     // wall seconds per epoch, over every epoch of every seed
	Steps       int      // steps per epoch of the first record
}

// ReportRow is one row of the report's tables with our measurements beside it.
type ReportRow struct {
	Stage  string
	Row    Row
	Config mlp.Config // ours, seed and protocol unset
	Label  string     // what the stage varies, in our configuration
	Cells  map[mlp.Protocol]*Cell
}

// PickCheck compares the report's pick with the best other row of its stage, by the
// metric the report picked with (test accuracy), under one protocol.
type PickCheck struct {
	Protocol mlp.Protocol
	Pick     *ReportRow
	RunnerUp *ReportRow
	Diff, SE float64 // pick minus runner-up, and the standard error of that difference
	Verdict  string  // "within noise", "pick ahead", "runner-up ahead"
}

// StageReport is one stage's table.
type StageReport struct {
	Stage string
	Run   bool   // part of the run
	From  string // the settings it starts from
	Rows  []*ReportRow
	// OurPick is the index of the row with the best mean clean validation accuracy
	// (-1 when not all rows are measured).
	OurPick int
	Checks  []PickCheck // with 3 or more seeds
}

// LeakRow is the validation-minus-test gap of one stage (or "all stages").
type LeakRow struct {
	Stage    string
	Original Stat                  // the report's rows with both numbers, in points/100
	Ours     map[mlp.Protocol]Stat // per trial, fraction
	ValOver  map[mlp.Protocol]int  // trials whose validation accuracy exceeds test
}

// TimingRow compares seconds per epoch with the report's logged runs.
type TimingRow struct {
	Run         string // batch32 .. batch512, final
	ReportSteps int
	ReportMean  float64 // mean seconds per epoch over the report's logged epochs
	ReportMed   float64
	ReportN     int
	Row         *ReportRow
}

// Report is everything the rendered report shows.
type Report struct {
	Run       RunInfo
	Stages    []*StageReport
	Leak      []LeakRow
	Timing    []TimingRow
	Curves    []CurvePoint
	Prov      ProvenanceSummary
	Recorded  int      // distinct trials recorded and shown
	Planned   int      // trials the run's plan lists
	Missing   []string // labels of planned trials not recorded
	Waiting   string   // adaptive: the stage whose winner is not yet measured
	NoiseNote string
}

// ProvenanceSummary counts the records by each provenance field.
type ProvenanceSummary struct {
	Commits, GoVersions, CPUs, Backends, Threads, Platforms map[string]int
	WallSeconds                                             float64
	Trials                                                  int
}

// BuildReport lays out the run as planned (stage order, epochs cap, data) and puts the
// records beside the report's rows. Records of other data or configurations are ignored.
func BuildReport(s *Sweep, ri RunInfo, records []Record) (*Report, error) {
	o := ri.PlanOptions()
	done := recordMap(records)
	plan, err := s.Plan(o, ri.Data, done)
	if err != nil {
		return nil, err
	}
	cells := map[string][]Record{}
	for _, r := range records {
		if r.Data != ri.Data {
			continue
		}
		c, err := cellOf(r.Config, r.Data)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", r.Key, err)
		}
		cells[c] = append(cells[c], r)
	}
	for _, rs := range cells {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Seed < rs[j].Seed })
	}
	curves, err := ReportCurves()
	if err != nil {
		return nil, err
	}
	rep := &Report{Run: ri, Curves: curves, Planned: len(plan.Trials)}
	if !plan.Complete {
		rep.Waiting = plan.Waiting
	}
	for _, t := range plan.Trials {
		if _, ok := done[t.Key]; !ok {
			rep.Missing = append(rep.Missing, t.Label())
		}
	}
	shown := map[string]Record{}
	for _, sp := range plan.Stages {
		st := &StageReport{Stage: sp.Stage, Run: sp.Run, From: describePicks(sp.Stage, sp.In), OurPick: -1}
		for _, rc := range sp.Rows {
			rr := &ReportRow{Stage: sp.Stage, Row: rc.Row, Config: rc.Config, Label: stageLabel(sp.Stage, rc.Config), Cells: map[mlp.Protocol]*Cell{}}
			for _, proto := range reportProtocols {
				c := cloneConfig(rc.Config)
				c.Protocol = proto
				key, err := cellOf(c, ri.Data)
				if err != nil {
					return nil, err
				}
				if rs := cells[key]; len(rs) > 0 {
					rr.Cells[proto] = newCell(sp.Stage, rs)
					for _, r := range rs {
						shown[r.Key] = r
					}
				}
			}
			st.Rows = append(st.Rows, rr)
		}
		if sp.Stage != "final" {
			st.OurPick = ourPick(st.Rows)
		}
		st.Checks = pickChecks(s, st)
		rep.Stages = append(rep.Stages, st)
	}
	// Stages never laid out (adaptive, waiting): list the report's rows alone.
	for _, name := range Stages[len(rep.Stages):] {
		st := &StageReport{Stage: name, Run: slices.Contains(o.Stages, name), From: "waiting for the winner of " + plan.Waiting, OurPick: -1}
		for _, r := range s.StageRows(name) {
			st.Rows = append(st.Rows, &ReportRow{Stage: name, Row: r, Label: "(not laid out yet)", Cells: map[mlp.Protocol]*Cell{}})
		}
		rep.Stages = append(rep.Stages, st)
	}
	rep.Recorded = len(shown)
	rep.Leak = leakRows(rep.Stages)
	rep.Timing = timingRows(rep.Stages, curves)
	rep.Prov = summarizeProvenance(shown)
	return rep, nil
}

func newCell(stage string, rs []Record) *Cell {
	var val, test, stop, gap, sec []float64
	for _, r := range rs {
		val = append(val, float64(r.ValAcc))
		t := float64(r.TestAcc)
		if stage == "batch_size" {
			// The report's batch-size column is the best test accuracy over the epochs run.
			if best, ok := r.BestTestAcc(); ok {
				t = best
			}
		}
		test = append(test, t)
		stop = append(stop, float64(r.StopEpoch))
		gap = append(gap, float64(r.ValAcc)-float64(r.TestAcc))
		for _, e := range r.Epochs {
			sec = append(sec, e.Seconds)
		}
	}
	c := &Cell{Records: rs, Val: newStat(val), Test: newStat(test), Stop: newStat(stop), Gap: newStat(gap), SecPerEpoch: newStat(sec)}
	if len(rs[0].Epochs) > 0 {
		c.Steps = rs[0].Epochs[0].Steps
	}
	return c
}

// ourPick is the row with the best mean clean validation accuracy, the honest pick.
func ourPick(rows []*ReportRow) int {
	best, bestV := -1, math.Inf(-1)
	for i, r := range rows {
		c := r.Cells[mlp.Clean]
		if c == nil {
			return -1
		}
		if c.Val.Mean > bestV {
			best, bestV = i, c.Val.Mean
		}
	}
	return best
}

// pickChecks compares, with 3 or more seeds, the report's pick with the best other row
// by mean test accuracy: within noise when the difference of means is smaller than two
// standard errors of that difference.
func pickChecks(s *Sweep, st *StageReport) []PickCheck {
	pick, ok := s.ReportPick(st.Stage)
	if !ok {
		return nil
	}
	var out []PickCheck
	for _, proto := range reportProtocols {
		var p *ReportRow
		var runner *ReportRow
		for _, r := range st.Rows {
			c := r.Cells[proto]
			if c == nil || c.Test.N < 3 {
				p, runner = nil, nil
				break
			}
			if r.Row.Index == pick.Index {
				p = r
			} else if runner == nil || c.Test.Mean > runner.Cells[proto].Test.Mean {
				runner = r
			}
		}
		if p == nil || runner == nil {
			continue
		}
		a, b := p.Cells[proto].Test, runner.Cells[proto].Test
		pc := PickCheck{Protocol: proto, Pick: p, RunnerUp: runner, Diff: a.Mean - b.Mean, SE: math.Hypot(a.SE(), b.SE())}
		switch {
		case math.Abs(pc.Diff) < 2*pc.SE || pc.SE == 0 && pc.Diff == 0:
			pc.Verdict = "within noise"
		case pc.Diff > 0:
			pc.Verdict = "pick ahead"
		default:
			pc.Verdict = "runner-up ahead"
		}
		out = append(out, pc)
	}
	return out
}

func leakRows(stages []*StageReport) []LeakRow {
	var out []LeakRow
	allOrig := []float64{}
	allOurs := map[mlp.Protocol]map[string]float64{}
	for _, p := range reportProtocols {
		allOurs[p] = map[string]float64{}
	}
	for _, st := range stages {
		lr := LeakRow{Stage: st.Stage, Ours: map[mlp.Protocol]Stat{}, ValOver: map[mlp.Protocol]int{}}
		var orig []float64
		ours := map[mlp.Protocol][]float64{}
		for _, r := range st.Rows {
			if !math.IsNaN(r.Row.ValAcc) && !math.IsNaN(r.Row.TestAcc) {
				orig = append(orig, (r.Row.ValAcc-r.Row.TestAcc)/100)
			}
			for _, p := range reportProtocols {
				if c := r.Cells[p]; c != nil {
					for _, rec := range c.Records {
						g := float64(rec.ValAcc) - float64(rec.TestAcc)
						ours[p] = append(ours[p], g)
						allOurs[p][rec.Key] = g
						if g > 0 {
							lr.ValOver[p]++
						}
					}
				}
			}
		}
		allOrig = append(allOrig, orig...)
		lr.Original = newStat(orig)
		for _, p := range reportProtocols {
			lr.Ours[p] = newStat(ours[p])
		}
		out = append(out, lr)
	}
	all := LeakRow{Stage: "all stages", Original: newStat(allOrig), Ours: map[mlp.Protocol]Stat{}, ValOver: map[mlp.Protocol]int{}}
	for _, p := range reportProtocols {
		keys := make([]string, 0, len(allOurs[p]))
		for k := range allOurs[p] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var gs []float64
		for _, k := range keys {
			gs = append(gs, allOurs[p][k])
			if allOurs[p][k] > 0 {
				all.ValOver[p]++
			}
		}
		all.Ours[p] = newStat(gs)
	}
	return append(out, all)
}

func timingRows(stages []*StageReport, curves []CurvePoint) []TimingRow {
	byRun := map[string][]CurvePoint{}
	for _, c := range curves {
		byRun[c.Run] = append(byRun[c.Run], c)
	}
	var out []TimingRow
	for _, st := range stages {
		if st.Stage != "batch_size" && st.Stage != "final" {
			continue
		}
		for _, r := range st.Rows {
			run := "final"
			if st.Stage == "batch_size" {
				run = fmt.Sprintf("batch%d", r.Row.Batch)
			}
			pts := byRun[run]
			if len(pts) == 0 {
				continue
			}
			var secs []float64
			for _, p := range pts {
				secs = append(secs, p.Seconds)
			}
			slices.Sort(secs)
			med := secs[len(secs)/2]
			if len(secs)%2 == 0 {
				med = (secs[len(secs)/2-1] + secs[len(secs)/2]) / 2
			}
			out = append(out, TimingRow{Run: run, ReportSteps: pts[0].Steps, ReportMean: newStat(secs).Mean, ReportMed: med, ReportN: len(secs), Row: r})
		}
	}
	return out
}

func summarizeProvenance(recs map[string]Record) ProvenanceSummary {
	ps := ProvenanceSummary{Commits: map[string]int{}, GoVersions: map[string]int{}, CPUs: map[string]int{}, Backends: map[string]int{}, Threads: map[string]int{}, Platforms: map[string]int{}}
	for _, r := range recs {
		p := r.Provenance
		ps.Commits[p.Commit]++
		ps.GoVersions[p.GoVersion]++
		ps.CPUs[p.CPU]++
		ps.Backends[p.Backend]++
		ps.Threads[fmt.Sprint(p.Threads)]++
		ps.Platforms[p.OS+"/"+p.Arch]++
		ps.WallSeconds += p.WallSeconds
		ps.Trials++
	}
	return ps
}

// stageLabel describes what stage varies, as our configuration has it.
func stageLabel(stage string, c mlp.Config) string {
	switch stage {
	case "depth_width", "activations", "node_distribution":
		return hiddenLabel(c)
	case "batch_size":
		return fmt.Sprintf("batch %d", c.Batch)
	case "val_split":
		return fmt.Sprintf("split %g", c.Split)
	case "initializer":
		return initLabel(c)
	case "optimizer":
		return c.Optimizer.Name
	}
	return configLabel(c)
}

func hiddenLabel(c mlp.Config) string {
	var w, a []string
	for _, l := range c.Hidden {
		w = append(w, fmt.Sprint(l.Width))
		a = append(a, l.Act.String())
	}
	return strings.Join(w, "-") + " " + strings.Join(a, "-")
}

func initLabel(c mlp.Config) string {
	if len(c.Hidden) > 0 && c.Hidden[0].Init == mlp.HeNormal {
		return initHeGlorot
	}
	return initDefault
}

// configLabel is a one-line description of a whole configuration.
func configLabel(c mlp.Config) string {
	stop := fmt.Sprintf("%s, at most %d epochs", c.Stop.Kind, c.Epochs)
	if c.Stop.Kind == mlp.StopNone {
		stop = fmt.Sprintf("%d epochs", c.Epochs)
	}
	return fmt.Sprintf("%s, batch %d, split %g, %s, %s, %s", hiddenLabel(c), c.Batch, c.Split, initLabel(c), c.Optimizer.Name, stop)
}

// describePicks says what a stage starts from.
func describePicks(stage string, p Picks) string {
	var parts []string
	if len(p.Hidden) > 0 && stage != "depth_width" {
		c := mlp.Config{Hidden: p.Hidden}
		parts = append(parts, hiddenLabel(c))
	}
	if stage != "batch_size" {
		parts = append(parts, fmt.Sprintf("batch %d", p.Batch))
	}
	if stage != "val_split" {
		parts = append(parts, fmt.Sprintf("split %g", p.Split))
	}
	if stage != "initializer" {
		parts = append(parts, p.Init+" init")
	}
	if stage != "optimizer" {
		parts = append(parts, p.Optimizer)
	}
	return strings.Join(parts, ", ")
}
