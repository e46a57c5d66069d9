package harness

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/simdmlp/simdmlp/mlp"
)

// Thresholds of the leak sentence: the clean gap is "small" when below both.
const (
	smallGapAbs = 0.003 // 0.3 accuracy points
	smallGapRel = 0.5   // and at most half the report protocol's gap
)

func protoName(p mlp.Protocol) string {
	if p == mlp.Report {
		return "report-protocol"
	}
	return string(p)
}

// pct formats a percentage given in percent (the report's numbers).
func pct(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.2f", x)
}

// Markdown renders the report.
func (rep *Report) Markdown(plots []string) []byte {
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	ri := rep.Run
	w("# MNIST hyperparameter study: the report's numbers beside ours\n\n")
	if ri.Quick != "" {
		w("> **SMOKE TEST, NOT A REPRODUCTION.** %s. These numbers say that the pipeline runs end to end; they are not comparable with the report's.\n\n", ri.Quick)
	}
	w("- Order: **%s** (%s)\n", ri.Order, orderNote(ri.Order))
	w("- Seeds: %s; protocols: %s; stages run: %s\n", seedList(ri.Seeds), strings.Join(ri.Protocols, ", "), strings.Join(ri.Stages, ", "))
	w("- Data: %s: %d training and %d test images (fingerprint %s)\n", ri.DataSource, ri.NTrain, ri.NTest, ri.Data)
	w("- Trials recorded: %d of %d planned", rep.Planned-len(rep.Missing), rep.Planned)
	if len(rep.Missing) > 0 {
		w(" (**%d missing**: run `reproduce` again to finish them)", len(rep.Missing))
	}
	w("\n")
	if rep.Waiting != "" {
		w("- Adaptive order: stages after %s are not laid out until its winner is measured.\n", rep.Waiting)
	}
	w("\nHow to read: accuracies in percent. `clean` trains on a fixed training part and never sees the validation images; `report-protocol` is the report's leaky tf.data pipeline, in which each epoch trains on most validation images (protocol.md). One seed shows its value; several show mean ± standard deviation (number of seeds). `stop` is the epoch whose weights were measured. In the batch-size stage the test column is the best test accuracy over the epochs run, as the report's table is. ◆ marks the report's pick (chosen by test accuracy); ★ marks ours (best mean validation accuracy under `clean`, never test accuracy).\n\n")

	for i, st := range rep.Stages {
		rep.stageMarkdown(&b, i+1, st)
	}
	rep.leakMarkdown(&b)
	rep.timingMarkdown(&b)
	if len(plots) > 0 {
		w("## Plots\n\n")
		for _, p := range plots {
			w("![%s](%s)\n\n", p, p)
		}
	}
	rep.provenanceMarkdown(&b)
	w("## Files\n\nEvery table above is also a CSV file beside this report: `tables.csv` (the stage tables), `leak.csv`, `timing.csv`, `provenance.csv`; the raw per-trial records are `results.jsonl`.\n")
	return b.Bytes()
}

func orderNote(o Order) string {
	if o == OrderAdaptive {
		return "each stage starts from the winner we measured in the stage before, by mean clean validation accuracy"
	}
	return "each stage starts from the report's own picks, so every row runs the report's configuration"
}

func seedList(s []uint64) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ", ")
}

func (rep *Report) stageMarkdown(b *bytes.Buffer, n int, st *StageReport) {
	fmt.Fprintf(b, "## %d. %s\n\n", n, st.Stage)
	if !st.Run {
		fmt.Fprintf(b, "Not part of this run (`-stages`).\n\n")
	}
	fmt.Fprintf(b, "Starts from: %s.\n\n", st.From)
	fmt.Fprintf(b, "| row | configuration | report val | report test | report stop |")
	for _, p := range reportProtocols {
		fmt.Fprintf(b, " %s val | %s test | %s stop |", protoName(p), protoName(p), protoName(p))
	}
	fmt.Fprintf(b, " |\n|---:|---|---:|---:|---:|")
	for range reportProtocols {
		fmt.Fprintf(b, "---:|---:|---:|")
	}
	fmt.Fprintf(b, "---|\n")
	for i, r := range st.Rows {
		stop := "—"
		if r.Row.StopEpoch > 0 {
			stop = fmt.Sprint(r.Row.StopEpoch)
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s |", r.Row.Index, r.Label, pct(r.Row.ValAcc), pct(r.Row.TestAcc), stop)
		for _, p := range reportProtocols {
			c := r.Cells[p]
			if c == nil {
				fmt.Fprintf(b, " — | — | — |")
				continue
			}
			fmt.Fprintf(b, " %s | %s | %s |", c.Val.Format(100, 2), c.Test.Format(100, 2), c.Stop.FormatEpoch())
		}
		var marks []string
		if r.Row.Chosen() {
			marks = append(marks, "◆")
		}
		if i == st.OurPick {
			marks = append(marks, "★")
		}
		for _, pc := range st.Checks {
			if pc.Pick == r {
				marks = append(marks, fmt.Sprintf("%s: %s", protoName(pc.Protocol), verdictMark(pc.Verdict)))
			}
		}
		fmt.Fprintf(b, " %s |\n", strings.Join(marks, "; "))
	}
	fmt.Fprintln(b)
	for _, pc := range st.Checks {
		fmt.Fprintf(b, "Pick check, %s, %d seeds: the report's pick (%s, test %.2f) minus the best other row (%s, test %.2f) = %+.2f ± %.2f points (2 standard errors of the difference: %.2f): **%s**.\n\n",
			protoName(pc.Protocol), pc.Pick.Cells[pc.Protocol].Test.N, pc.Pick.Label, 100*pc.Pick.Cells[pc.Protocol].Test.Mean,
			pc.RunnerUp.Label, 100*pc.RunnerUp.Cells[pc.Protocol].Test.Mean, 100*pc.Diff, 100*pc.SE, 200*pc.SE, pc.Verdict)
	}
}

func verdictMark(v string) string {
	switch v {
	case "within noise":
		return "≈ runner-up (within noise)"
	case "pick ahead":
		return "ahead of runner-up"
	}
	return "behind runner-up"
}

// LeakSentence states, with figures, whether the report protocol's validation accuracy
// exceeds its test accuracy and whether the clean protocol's gap is small.
func (rep *Report) LeakSentence() string {
	all := rep.Leak[len(rep.Leak)-1]
	r, c := all.Ours[mlp.Report], all.Ours[mlp.Clean]
	orig := fmt.Sprintf("the original's gap is %+.2f points over its %d rows with both numbers", 100*all.Original.Mean, all.Original.N)
	if r.N == 0 || c.N == 0 {
		return fmt.Sprintf("The leak cannot be judged yet: it needs trials under both protocols (recorded: %d report-protocol, %d clean); %s.", r.N, c.N, orig)
	}
	var s strings.Builder
	if r.Mean > 0 {
		fmt.Fprintf(&s, "Under the report protocol our validation accuracy exceeds our test accuracy, as in the original: by %+.2f points on average (validation above test in %d of %d trials; %s)", 100*r.Mean, all.ValOver[mlp.Report], r.N, orig)
	} else {
		fmt.Fprintf(&s, "Under the report protocol our validation accuracy does NOT exceed our test accuracy on average (gap %+.2f points, validation above test in %d of %d trials), unlike the original (%s)", 100*r.Mean, all.ValOver[mlp.Report], r.N, orig)
	}
	small := math.Abs(c.Mean) < smallGapAbs && math.Abs(c.Mean) <= smallGapRel*math.Abs(r.Mean)
	verdict := "small"
	if !small {
		verdict = "NOT small"
	}
	fmt.Fprintf(&s, "; under the clean protocol the gap is %+.2f points (validation above test in %d of %d trials), which is %s (small means below %.1f points and at most half the report protocol's gap).",
		100*c.Mean, all.ValOver[mlp.Clean], c.N, verdict, 100*smallGapAbs)
	return s.String()
}

func (rep *Report) leakMarkdown(b *bytes.Buffer) {
	fmt.Fprintf(b, "## The validation leak\n\n%s\n\n", rep.LeakSentence())
	fmt.Fprintf(b, "Validation minus test accuracy at the stop epoch, in points (per trial; mean ± sd (trials)):\n\n")
	fmt.Fprintf(b, "| stage | original | report-protocol | clean |\n|---|---:|---:|---:|\n")
	for _, l := range rep.Leak {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", l.Stage, l.Original.Format(100, 2), l.Ours[mlp.Report].Format(100, 2), l.Ours[mlp.Clean].Format(100, 2))
	}
	fmt.Fprintln(b)
}

func (rep *Report) timingMarkdown(b *bytes.Buffer) {
	fmt.Fprintf(b, "## Seconds per epoch\n\nThe report's logged seconds per epoch (mean and median over the epochs it printed, the first epoch included) beside ours (mean ± sd over every epoch of every seed; our epochs include the validation pass, as Keras's do, and the test pass where the stage asks for per-epoch test metrics).\n\n")
	fmt.Fprintf(b, "| run | report steps | our steps | report s/epoch (mean) | report s/epoch (median) | ours, clean | ours, report-protocol |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range rep.Timing {
		steps := "—"
		cells := []string{"—", "—"}
		for i, p := range reportProtocols {
			if c := t.Row.Cells[p]; c != nil {
				cells[i] = c.SecPerEpoch.Format(1, 2)
				steps = fmt.Sprint(c.Steps)
			}
		}
		fmt.Fprintf(b, "| %s | %d | %s | %.1f | %.1f | %s | %s |\n", t.Run, t.ReportSteps, steps, t.ReportMean, t.ReportMed, cells[0], cells[1])
	}
	fmt.Fprintln(b)
}

func (rep *Report) provenanceMarkdown(b *bytes.Buffer) {
	p := rep.Prov
	fmt.Fprintf(b, "## Provenance\n\n")
	fmt.Fprintf(b, "%d trials shown, %.0f s of training in total (%.1f h of one worker).\n\n", p.Trials, p.WallSeconds, p.WallSeconds/3600)
	for _, f := range []struct {
		name string
		m    map[string]int
	}{{"commit", p.Commits}, {"Go", p.GoVersions}, {"platform", p.Platforms}, {"CPU", p.CPUs}, {"kernels backend", p.Backends}, {"threads per trial", p.Threads}} {
		fmt.Fprintf(b, "- %s: %s\n", f.name, countList(f.m))
	}
	if len(rep.Run.DataFiles) > 0 {
		fmt.Fprintf(b, "- data files (md5):")
		for _, f := range rep.Run.DataFiles {
			fmt.Fprintf(b, " %s %s;", f.Name, f.MD5)
		}
		fmt.Fprintln(b)
	}
	fmt.Fprintln(b)
}

func countList(m map[string]int) string {
	if len(m) == 0 {
		return "—"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("`%s` (%d trials)", k, m[k])
	}
	return strings.Join(parts, ", ")
}
