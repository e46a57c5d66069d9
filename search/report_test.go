package search

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/harness"
)

// A finished (fake) search renders: search.md with the verdict, the pick, the grid's
// cost and one line per round; a well-formed SVG with the search curve, the pick and the
// report's grid pick; the CSV tables.
func TestRender(t *testing.T) {
	set := tinySettings(Halving, 200*tinyShape.EpochFLOPs(tinySpace().Sample(5, 0))*9)
	st := simulate(t, set, 4)
	s, _ := New(set)
	recs := map[string]harness.Record{}
	ts, err := s.EvalTrials(st.Pick.Config)
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range ts {
		r := fakeRecord(t, tr.Config, set.Shape, set.Data)
		r.TestAcc = harness.Float(0.97 + 0.001*float64(i))
		recs[tr.Key] = r
	}
	ev, err := s.Evaluate(st.Pick.Config, recs)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := BuildReport(s, st, ev, 1.5e12)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := rep.Render(dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(files[len(files)-1]) != "search.md" || len(files) != 4 {
		t.Fatalf("files %v", files)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "search.md"))
	for _, want := range []string{
		rep.Verdict(), Describe(st.Pick.Config), "1.5e+12 FLOPs", "98.14", "![accuracy-vs-budget.svg](accuracy-vs-budget.svg)",
		fmt.Sprintf("%.4g FLOPs** (", st.Spent),
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("search.md lacks %q", want)
		}
	}
	for _, r := range st.Rounds {
		if !strings.Contains(string(md), "| "+r.Name(Halving)+" |") {
			t.Errorf("search.md lacks round %s", r.Name(Halving))
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "accuracy-vs-budget.svg"))
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("accuracy-vs-budget.svg is not well-formed XML: %v", err)
		}
	}
	for _, want := range []string{"incumbent", "search pick", "report&#39;s pick (600-200 relu b64 adam he_normal)", "the report&#39;s own test accuracy (98.14%)"} {
		if !strings.Contains(string(svg), want) && !strings.Contains(string(svg), strings.ReplaceAll(want, "&#39;", "'")) {
			t.Errorf("the plot lacks %q", want)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "trials.csv"))
	n := 0
	for _, r := range st.Rounds {
		n += len(r.Entries)
	}
	if got := strings.Count(string(csv), "\n"); got != n+1 {
		t.Errorf("trials.csv has %d lines, want a header and %d entries", got, n)
	}
	// The curve only improves: the incumbent's loss never rises.
	for i := 1; i < len(rep.Curve); i++ {
		if rep.Curve[i].ValLoss > rep.Curve[i-1].ValLoss || rep.Curve[i].FLOPs < rep.Curve[i-1].FLOPs {
			t.Fatalf("curve point %d goes back: %+v after %+v", i, rep.Curve[i], rep.Curve[i-1])
		}
	}
	if last := rep.Curve[len(rep.Curve)-1]; last.FLOPs != st.Spent {
		t.Errorf("curve ends at %g FLOPs, spent %g", last.FLOPs, st.Spent)
	}
}
