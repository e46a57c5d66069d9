package harness

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
)

// fakeRecords gives every trial of the plan a record with the metrics metric chooses
// (a rendering test: the values are inputs, the test checks how they are shown).
func fakeRecords(t *testing.T, plan *Plan, metric func(tr Trial) (val, test float64, stop int)) []Record {
	t.Helper()
	var recs []Record
	for _, tr := range plan.Trials {
		val, test, stop := metric(tr)
		canon, err := CanonicalConfig(tr.Config)
		if err != nil {
			t.Fatal(err)
		}
		r := Record{Key: tr.Key, Seed: tr.Config.Seed, Protocol: string(tr.Config.Protocol), Data: plan.Data,
			StopEpoch: stop, StopReason: "rise", ValAcc: Float(val), TestAcc: Float(test), NTrain: 54000, NVal: 6000, NTest: 10000,
			Provenance: Provenance{Commit: "c0ffee", GoVersion: "go1.26", OS: "linux", Arch: "amd64", CPU: "Test CPU", Backend: "generic", Threads: 1, WallSeconds: 10}}
		if err := json.Unmarshal(canon, &r.Config); err != nil {
			t.Fatal(err)
		}
		for e := 1; e <= stop; e++ {
			ep := Epoch{Epoch: e, Steps: 844, Seconds: 2, Loss: Float(0.2 / float64(e)), Accuracy: 0.95, ValLoss: Float(0.1 / float64(e)), ValAcc: Float(val)}
			if tr.Config.TestEachEpoch {
				tl, ta := Float(0.1), Float(test-0.001*float64(stop-e))
				ep.TestLoss, ep.TestAcc = &tl, &ta
			}
			r.Epochs = append(r.Epochs, ep)
		}
		recs = append(recs, r)
	}
	return recs
}

func runInfo(seeds []uint64, quick string) RunInfo {
	return RunInfo{Order: OrderReport, Stages: Stages, Seeds: seeds, Protocols: []string{"clean", "report"}, Data: "d0", DataSource: "test", NTrain: 60000, NTest: 10000, Quick: quick}
}

// synthetic metrics: clean gap +0.05 points, report-protocol gap +0.80; test rises with
// the row index; depth_width's pick is far ahead, optimizer's within noise.
func synthMetric(tr Trial) (float64, float64, int) {
	var idx int
	fmt.Sscanf(tr.Rows[0][strings.Index(tr.Rows[0], "/")+1:], "%d", &idx)
	test := 0.97 + 0.001*float64(idx) + 0.0005*(float64(tr.Config.Seed)-2)
	switch tr.Rows[0] {
	case "depth_width/4":
		test += 0.02
	case "initializer/2": // = optimizer/1, whose best other row (4) is 0.003 above it
		test = 0.9745 + 0.0005*(float64(tr.Config.Seed)-2)
	}
	val := test + 0.0005
	if tr.Config.Protocol == mlp.Report {
		val = test + 0.008
	}
	return val, test, 3 + idx%4
}

func TestReportRendering(t *testing.T) {
	s := mustSweep(t)
	ri := runInfo([]uint64{1, 2, 3}, "")
	plan, err := s.Plan(ri.PlanOptions(), ri.Data, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs := fakeRecords(t, plan, synthMetric)
	dir := t.TempDir()
	rep, files, err := Render(dir, s, ri, recs)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	text := string(md)
	if strings.Contains(text, "SMOKE TEST") {
		t.Error("a full run is labelled a smoke test")
	}
	// Every one of the 48 rows is a table line: "| index | label | ..." with 12 cells.
	rowLine := regexp.MustCompile(`(?m)^\| (\d+) \| ([^|]+) \| ([\d.—]+) \| ([\d.—]+) \| ([\d—]+) \|(.*)$`)
	lines := rowLine.FindAllStringSubmatch(text, -1)
	if len(lines) != 48 {
		t.Fatalf("%d row lines in report.md, want 48", len(lines))
	}
	for i, r := range s.Rows() {
		l := lines[i]
		if l[1] != fmt.Sprint(r.Index) || l[3] != pct(r.ValAcc) || l[4] != pct(r.TestAcc) {
			t.Errorf("line %d = %q, want row %s with report val %s test %s", i, l[0], r.ID(), pct(r.ValAcc), pct(r.TestAcc))
		}
		if strings.Count(l[6], "|") != 7 {
			t.Errorf("line %d has %d cells after the report's, want 7: %q", i, strings.Count(l[6], "|"), l[0])
		}
	}
	// depth_width/4 with seeds 1..3 under clean: test 0.99 + 0.004 + {-0.0005, 0, 0.0005}
	// -> mean 99.40, sd 0.05; stop epoch 3 + 4%4 = 3 for each seed -> "3.0 ± 0.0 (3)".
	dw4 := lines[3][0]
	if !strings.Contains(dw4, "| 99.40 ± 0.05 (3) | 3.0 ± 0.0 (3) |") || !strings.Contains(dw4, "98.73 | 98.14") || !strings.Contains(dw4, "◆") {
		t.Errorf("depth_width/4 line: %q", dw4)
	}
	if n := strings.Count(text, "| ◆"); n != 7 {
		t.Errorf("%d report picks marked, want 7", n)
	}
	if !strings.Contains(text, "Pick check, clean, 3 seeds: the report's pick (400-400 relu-relu, test 99.40) minus the best other row (400-400-400-400 relu-relu-relu-relu, test 98.30)") || !strings.Contains(text, "**pick ahead**") {
		t.Error("depth_width pick check missing or wrong")
	}
	if !strings.Contains(text, "Pick check, report-protocol, 3 seeds: the report's pick (adam, test 97.45) minus the best other row (rmsprop, test 97.40) = +0.05 ± 0.04 points") || !strings.Contains(text, "**within noise**") {
		t.Error("optimizer pick check missing or wrong")
	}
	// batch_size reports the best test accuracy over epochs: our per-epoch test rises to
	// the final one, so the best is the final.
	// The leak sentence with its figures.
	want := []string{
		"Under the report protocol our validation accuracy exceeds our test accuracy, as in the original: by +0.80 points on average (validation above test in 132 of 132 trials",
		"under the clean protocol the gap is +0.05 points (validation above test in 132 of 132 trials), which is small",
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("report lacks %q; leak sentence: %s", w, rep.LeakSentence())
		}
	}
	// The original's gap over its 34 rows with both numbers, computed here from the CSV.
	sum, n := 0.0, 0
	for _, r := range s.Rows() {
		if !math.IsNaN(r.ValAcc) && !math.IsNaN(r.TestAcc) {
			sum += r.ValAcc - r.TestAcc
			n++
		}
	}
	if w := fmt.Sprintf("the original's gap is %+.2f points over its %d rows", sum/float64(n), n); !strings.Contains(text, w) {
		t.Errorf("report lacks %q", w)
	}
	// Timing: the report's batch32 log: 12 epochs, 253 s in all (mean 21.08), median 18.
	if !strings.Contains(text, "| batch32 | 1688 | 844 | 21.1 | 18.0 | 2.00 ± 0.00 (12) | 2.00 ± 0.00 (12) |") {
		t.Errorf("timing row for batch32 missing or wrong")
	}
	if !strings.Contains(text, "`generic` (264 trials)") {
		t.Error("provenance counts missing")
	}
	// Files: report, 4 CSVs, 6 curve plots, 8 accuracy plots.
	if len(files) != 1+4+6+8 {
		t.Errorf("%d files written: %v", len(files), files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".svg") && !bytes.Contains(b[:min(len(b), 200)], []byte("<svg")) {
			t.Errorf("%s is not an SVG", f)
		}
		if strings.HasSuffix(f, ".svg") && !strings.Contains(text, "]("+filepath.Base(f)+")") {
			t.Errorf("%s not linked from report.md", f)
		}
	}
	tab, _ := os.ReadFile(filepath.Join(dir, "tables.csv"))
	rows, err := csv.NewReader(bytes.NewReader(tab)).ReadAll()
	if err != nil || len(rows) != 1+48*2 {
		t.Fatalf("tables.csv: %d rows, %v", len(rows), err)
	}
	if got := strings.Join(rows[7][:12], ","); got != "depth_width,4,400-400 relu-relu,98.73,98.14,,true,true,clean,3,0.9944999999999999,0.0004999999999999449" {
		t.Errorf("tables.csv depth_width/4 clean: %s", got)
	}
}

func TestReportOneSeedQuickAndMissing(t *testing.T) {
	s := mustSweep(t)
	ri := runInfo([]uint64{1}, "trained on 2000 of 60000 images, at most 2 epochs")
	ri.Stages = []string{"batch_size", "final"}
	plan, err := s.Plan(ri.PlanOptions(), ri.Data, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs := fakeRecords(t, plan, synthMetric)
	recs = recs[1:] // batch_size/1 clean is missing
	rep, err := BuildReport(s, ri, recs)
	if err != nil {
		t.Fatal(err)
	}
	text := string(rep.Markdown(nil))
	if !strings.HasPrefix(text, "# MNIST hyperparameter study: the report's numbers beside ours\n\n> **SMOKE TEST, NOT A REPRODUCTION.** trained on 2000 of 60000 images") {
		t.Errorf("quick run not labelled at the top:\n%s", text[:300])
	}
	if !strings.Contains(text, "Trials recorded: 11 of 12 planned (**1 missing**") {
		t.Error("missing trial not counted")
	}
	// One seed: plain values. batch_size/2 clean: test 0.97+0.002-0.0005 = 97.15.
	if !strings.Contains(text, "| 2 | batch 64 | — | 98.08 | 7 | 97.20 | 97.15 | 5 |") {
		t.Errorf("batch_size/2 line wrong:\n%s", text)
	}
	if !strings.Contains(text, "| 1 | batch 32 | — | 97.88 | 7 | — | — | — |") {
		t.Error("missing cell not shown as —")
	}
	if strings.Contains(text, "Pick check") {
		t.Error("pick check with one seed")
	}
	if !strings.Contains(text, "Not part of this run") {
		t.Error("stages outside the run not marked")
	}
}
