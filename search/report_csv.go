package search

import (
	"bytes"
	"encoding/csv"
	"strconv"
)

// CSVs returns the report's tables: every entry of every round (trials.csv) and the
// final evaluation (final.csv).
func (rep *Report) CSVs() (map[string][]byte, error) {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	var t bytes.Buffer
	w := csv.NewWriter(&t)
	w.Write([]string{"round", "bracket", "rung", "candidate", "key", "carried", "configuration", "seed", "epochs_run", "stop_epoch", "stop_reason", "val_loss", "val_accuracy", "flops", "rank"})
	for _, r := range rep.State.Rounds {
		rankOf := map[int]int{}
		for k, i := range r.Ranked {
			rankOf[i] = k + 1
		}
		for i, e := range r.Entries {
			if e.Record == nil {
				continue
			}
			w.Write([]string{r.Name(rep.Set.Strategy), strconv.Itoa(r.Bracket), strconv.Itoa(r.Rung), strconv.Itoa(e.Cand), e.Key, strconv.FormatBool(e.Carried),
				Describe(e.Config), strconv.FormatUint(e.Config.Seed, 10), strconv.Itoa(len(e.Record.Epochs)), strconv.Itoa(e.Record.StopEpoch), e.Record.StopReason,
				f(float64(e.Record.ValLoss)), f(float64(e.Record.ValAcc)), f(e.FLOPs), strconv.Itoa(rankOf[i])})
		}
	}
	w.Flush()
	var fb bytes.Buffer
	w = csv.NewWriter(&fb)
	w.Write([]string{"side", "configuration", "seed", "epochs_run", "stop_epoch", "val_accuracy", "test_loss", "test_accuracy", "key"})
	base, _ := Baseline()
	for _, r := range rep.Eval.Pick {
		w.Write([]string{"pick", Describe(rep.State.Pick.Config), strconv.FormatUint(r.Seed, 10), strconv.Itoa(len(r.Epochs)), strconv.Itoa(r.StopEpoch), f(float64(r.ValAcc)), f(float64(r.TestLoss)), f(float64(r.TestAcc)), r.Key})
	}
	for _, r := range rep.Eval.Baseline {
		w.Write([]string{"report_pick", Describe(base), strconv.FormatUint(r.Seed, 10), strconv.Itoa(len(r.Epochs)), strconv.Itoa(r.StopEpoch), f(float64(r.ValAcc)), f(float64(r.TestLoss)), f(float64(r.TestAcc)), r.Key})
	}
	w.Write([]string{"report_pick_report", Describe(base), "", strconv.Itoa(rep.Paper.Epochs), strconv.Itoa(rep.Paper.Epochs), f(rep.Paper.ValAcc), "", f(rep.Paper.TestAcc), ""})
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	return map[string][]byte{"trials.csv": t.Bytes(), "final.csv": fb.Bytes()}, nil
}
