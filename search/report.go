package search

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"

	"github.com/simdmlp/simdmlp/harness"
)

// Report is a finished search laid out for rendering.
type Report struct {
	Set       Settings
	State     *State
	Eval      *Evaluation
	GridFLOPs float64 // what the report's whole grid cost on this data
	Paper     ReportFinal
	Curve     []CurvePoint
	Prov      []string // distinct provenance lines (commit, backend, CPU, threads), with trial counts
	TrialSecs float64  // wall seconds of every search trial
	EvalSecs  float64
}

// CurvePoint is the search after one more finished trial, in the order of the trial
// list: what had been spent, and the incumbent (the lowest validation loss so far).
type CurvePoint struct {
	FLOPs   float64
	ValLoss float64
	ValAcc  float64
	Cand    int
}

// BuildReport lays out a finished search and its evaluation.
func BuildReport(s *Search, st *State, ev *Evaluation, gridFLOPs float64) (*Report, error) {
	if !st.Done || st.Pick == nil {
		return nil, fmt.Errorf("the search is not finished (%s)", st.Waiting)
	}
	paper, err := ReportFinalRun()
	if err != nil {
		return nil, err
	}
	rep := &Report{Set: s.Set, State: st, Eval: ev, GridFLOPs: gridFLOPs, Paper: paper}
	// Entries in the order their trials were planned (carried ones cost nothing: they
	// change neither the spend nor the incumbent).
	type done struct {
		trial int
		e     *Entry
	}
	var ds []done
	for _, r := range st.Rounds {
		for i := range r.Entries {
			if e := &r.Entries[i]; !e.Carried && e.Record != nil {
				ds = append(ds, done{e.Trial, e})
			}
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].trial < ds[j].trial })
	spent, best := 0.0, math.Inf(1)
	var inc *Entry
	for _, d := range ds {
		spent += d.e.FLOPs
		if inc == nil || d.e.ValLoss() < best {
			inc, best = d.e, d.e.ValLoss()
		}
		rep.Curve = append(rep.Curve, CurvePoint{FLOPs: spent, ValLoss: inc.ValLoss(), ValAcc: inc.ValAcc(), Cand: inc.Cand})
		rep.TrialSecs += d.e.Record.Provenance.WallSeconds
	}
	prov := map[string]int{}
	add := func(r harness.Record) {
		p := r.Provenance
		prov[fmt.Sprintf("commit %s, %s, %s/%s, %s, backend %s, %d thread(s)", p.Commit, p.GoVersion, p.OS, p.Arch, p.CPU, p.Backend, p.Threads)]++
	}
	for _, d := range ds {
		add(*d.e.Record)
	}
	for _, r := range slices.Concat(ev.Pick, ev.Baseline) {
		add(r)
		rep.EvalSecs += r.Provenance.WallSeconds
	}
	for k, n := range prov {
		rep.Prov = append(rep.Prov, fmt.Sprintf("%s: %d trials", k, n))
	}
	slices.Sort(rep.Prov)
	return rep, nil
}

// Verdict says, with figures, whether the pick beats the report's pick trained by us by
// more than twice the standard error of the difference.
func (rep *Report) Verdict() string {
	ev := rep.Eval
	if ev.PickTest.N < 2 || ev.BaseTest.N < 2 {
		return fmt.Sprintf("pick minus the report's pick: %+.2f points of test accuracy (one seed per side: no standard error; use 2 or more -eval-seeds to judge)", 100*ev.Diff)
	}
	verb := "does not beat"
	if ev.Beats {
		verb = "beats"
	}
	return fmt.Sprintf("the pick %s the report's pick trained by us: %+.2f points of test accuracy, standard error of the difference %.2f (2 SE = %.2f; %d and %d seeds)",
		verb, 100*ev.Diff, 100*ev.SE, 200*ev.SE, ev.PickTest.N, ev.BaseTest.N)
}

// Render writes search.md, the SVG figures and the CSV tables into dir, each file whole.
// It returns the paths written, search.md last.
func (rep *Report) Render(dir string) ([]string, error) {
	files := map[string][]byte{}
	svgs, err := rep.SVGs()
	if err != nil {
		return nil, err
	}
	var plots []string
	for name, b := range svgs {
		files[name] = b
		plots = append(plots, name)
	}
	sort.Strings(plots)
	csvs, err := rep.CSVs()
	if err != nil {
		return nil, err
	}
	for name, b := range csvs {
		files[name] = b
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := writeAtomic(p, files[n]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	p := filepath.Join(dir, "search.md")
	if err := writeAtomic(p, rep.Markdown(plots)); err != nil {
		return nil, err
	}
	return append(out, p), nil
}
