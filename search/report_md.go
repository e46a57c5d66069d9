package search

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// Markdown renders the report.
func (rep *Report) Markdown(plots []string) []byte {
	var b bytes.Buffer
	set, st, ev := rep.Set, rep.State, rep.Eval
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Search beyond the grid: %s search\n\n", set.Strategy)
	if set.Quick != "" {
		p("> **SMOKE TEST, NOT A SEARCH OF MNIST.** %s.\n\n", set.Quick)
	}
	p("%s\n\n", rep.Verdict())

	p("## The pick, tested once\n\n")
	p("Selection used validation loss only (clean protocol); the search's %d trials never saw the test set. "+
		"The pick and the report's final pick were then each trained with seeds %s and tested once.\n\n", len(st.Trials), seedList(set.EvalSeeds))
	p("| | configuration | epochs run | validation accuracy %% | test accuracy %% |\n|---|---|---|---|---|\n")
	p("| search pick | %s | %s | %s | %s |\n", Describe(st.Pick.Config), ev.PickEpochs.Format(1, 1), ev.PickVal.Format(100, 2), ev.PickTest.Format(100, 2))
	base, _ := Baseline()
	p("| the report's pick, trained by us | %s | %s | %s | %s |\n", Describe(base), ev.BaseEpochs.Format(1, 1), ev.BaseVal.Format(100, 2), ev.BaseTest.Format(100, 2))
	p("| the report's pick, the report's numbers | same (Keras, its leaky split) | %d | %.2f (its last logged epoch) | %.2f |\n\n", rep.Paper.Epochs, 100*rep.Paper.ValAcc, 100*rep.Paper.TestAcc)
	p("Values are mean ± sample standard deviation (number of seeds). ")
	if !math.IsNaN(ev.SE) {
		p("Difference of the means (pick minus the report's pick): **%+.2f points**; standard error of the difference sqrt(sd_p²/n_p + sd_b²/n_b) = %.2f points; the target is a difference above 2 SE = %.2f points: **%s**.\n\n",
			100*ev.Diff, 100*ev.SE, 200*ev.SE, map[bool]string{true: "met", false: "not met"}[ev.Beats])
	} else {
		p("Difference of the means: %+.2f points.\n\n", 100*ev.Diff)
	}
	p("Per seed (test accuracy %%):\n\n| seed | search pick | the report's pick |\n|---|---|---|\n")
	for i, seed := range set.EvalSeeds {
		a, c := "—", "—"
		if i < len(ev.Pick) {
			a = fmt.Sprintf("%.2f", 100*float64(ev.Pick[i].TestAcc))
		}
		if i < len(ev.Baseline) {
			c = fmt.Sprintf("%.2f", 100*float64(ev.Baseline[i].TestAcc))
		}
		p("| %d | %s | %s |\n", seed, a, c)
	}
	p("\n")

	p("## Budget\n\n")
	p("- Budget: %s = **%.4g training FLOPs**", set.Budget, set.BudgetFLOPs)
	if set.Rate > 0 {
		p(" (converted at %.3g FLOP/s measured when the search started)", set.Rate)
	}
	p(".\n- The report's whole grid (its 48 table rows as the harness trains them, each for the epochs the report logged or, where it logged none, our report-protocol run measured) costs **%.4g FLOPs** on this data (`simdmlp search -grid-cost` lists every row).\n", rep.GridFLOPs)
	p("- Spent: **%.4g FLOPs** (%.1f%% of the budget) in %d trials; %s.\n", st.Spent, 100*st.Spent/set.BudgetFLOPs, len(st.Trials), st.Ended)
	p("- FLOPs count the dense layers' matrix products: per sample 2P forward and 4P − 2·d0·d1 backward (no input gradient for the first layer), P the weights; an epoch is n_train training samples plus one forward pass over the validation set; a trial, the epochs it ran.\n")
	p("- Wall time: %.0f s of training in the search's trials, %.0f s in the final evaluation (summed over trials run in parallel).\n\n", rep.TrialSecs, rep.EvalSecs)

	for _, pl := range plots {
		p("![%s](%s)\n\n", pl, pl)
	}

	p("## Settings\n\n")
	p("- Strategy: %s", set.Strategy)
	if set.Strategy == Halving {
		p(", eta %d, rungs at %v epochs (each rung retrains its configurations from scratch for its epochs: the trainer is deterministic, so this equals continuing them; a configuration whose early-stopping rule fired before its rung's epochs keeps its record)", set.Eta, set.Rungs())
	}
	p(".\n- Seed %d; space `%s`: %s.\n", set.Seed, set.Space.Name, set.Space.Describe())
	p("- Data: %s (%d training images, fingerprint %s).\n\n", set.DataSource, set.Shape.N, set.Data)

	p("## Rounds\n\n| round | configurations | dropped for the budget | trials run | carried | FLOPs planned | FLOPs spent | best val loss | its val accuracy %% |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range st.Rounds {
		carried := 0
		for _, e := range r.Entries {
			if e.Carried {
				carried++
			}
		}
		bl, ba := "—", "—"
		if len(r.Ranked) > 0 {
			e := &r.Entries[r.Ranked[0]]
			bl, ba = fmt.Sprintf("%.4f", e.ValLoss()), fmt.Sprintf("%.2f", 100*e.ValAcc())
		}
		p("| %s | %d | %d | %d | %d | %.3g | %.3g | %s | %s |\n", r.Name(set.Strategy), len(r.Entries), r.Dropped, len(r.Entries)-carried, carried, r.Planned, r.FLOPs, bl, ba)
	}
	p("\n## Best configurations\n\nThe configurations the pick was chosen from, best validation loss first (the top 15).\n\n")
	p("| # | candidate | configuration | epochs run | kept epoch (rule) | val loss | val accuracy %% | FLOPs |\n|---|---|---|---|---|---|---|---|\n")
	for i, e := range st.Finalists {
		if i == 15 {
			break
		}
		r := e.Record
		p("| %d | %d | %s | %d | %d (%s) | %.4f | %.2f | %.3g |\n", i+1, e.Cand, Describe(e.Config), len(r.Epochs), r.StopEpoch, r.StopReason, e.ValLoss(), 100*e.ValAcc(), RecordFLOPs(*r, set.Shape.Features, set.Shape.Classes))
	}
	p("\n## Provenance\n\n")
	for _, l := range rep.Prov {
		p("- %s\n", l)
	}
	p("\nEvery search trial is a line of `results.jsonl`, every test evaluation a line of `final.jsonl` (the harness's record format); `trials.csv` lists every entry of every round.\n")
	return b.Bytes()
}

func seedList(s []uint64) string {
	var out []string
	for _, v := range s {
		out = append(out, fmt.Sprint(v))
	}
	return strings.Join(out, ", ")
}
