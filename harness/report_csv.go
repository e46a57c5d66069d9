package harness

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// CSVs returns every table of the report as CSV files, by file name. Accuracies are
// fractions (ours) and percentages (the report's columns, as the report prints them).
func (rep *Report) CSVs() (map[string][]byte, error) {
	out := map[string][]byte{}
	f := func(x float64) string {
		if math.IsNaN(x) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	stat := func(s Stat) []string {
		if s.N == 0 {
			return []string{"0", "", ""}
		}
		sd := ""
		if s.N > 1 {
			sd = f(s.SD)
		}
		return []string{fmt.Sprint(s.N), f(s.Mean), sd}
	}

	var rows [][]string
	rows = append(rows, []string{"stage", "row", "configuration", "report_val_pct", "report_test_pct", "report_stop_epoch", "report_pick", "our_pick",
		"protocol", "seeds", "val_mean", "val_sd", "test_mean", "test_sd", "stop_mean", "stop_sd", "pick_check"})
	for _, st := range rep.Stages {
		for i, r := range st.Rows {
			stop := ""
			if r.Row.StopEpoch > 0 {
				stop = fmt.Sprint(r.Row.StopEpoch)
			}
			for _, p := range reportProtocols {
				rec := []string{st.Stage, fmt.Sprint(r.Row.Index), r.Label, f(r.Row.ValAcc), f(r.Row.TestAcc), stop, fmt.Sprint(r.Row.Chosen()), fmt.Sprint(i == st.OurPick), string(p)}
				c := r.Cells[p]
				if c == nil {
					rec = append(rec, "0", "", "", "", "", "", "")
				} else {
					v, t, s := stat(c.Val), stat(c.Test), stat(c.Stop)
					rec = append(rec, v[0], v[1], v[2], t[1], t[2], s[1], s[2])
				}
				check := ""
				for _, pc := range st.Checks {
					if pc.Pick == r && pc.Protocol == p {
						check = pc.Verdict
					}
				}
				rows = append(rows, append(rec, check))
			}
		}
	}
	var err error
	if out["tables.csv"], err = writeCSV(rows); err != nil {
		return nil, err
	}

	rows = [][]string{{"stage", "original_rows", "original_gap_mean", "protocol", "trials", "gap_mean", "gap_sd", "val_above_test"}}
	for _, l := range rep.Leak {
		for _, p := range reportProtocols {
			s := stat(l.Ours[p])
			rows = append(rows, []string{l.Stage, fmt.Sprint(l.Original.N), f(nanIfEmpty(l.Original)), string(p), s[0], s[1], s[2], fmt.Sprint(l.ValOver[p])})
		}
	}
	if out["leak.csv"], err = writeCSV(rows); err != nil {
		return nil, err
	}

	rows = [][]string{{"run", "report_steps", "report_logged_epochs", "report_seconds_mean", "report_seconds_median", "protocol", "our_steps", "our_epochs", "our_seconds_mean", "our_seconds_sd"}}
	for _, t := range rep.Timing {
		for _, p := range reportProtocols {
			rec := []string{t.Run, fmt.Sprint(t.ReportSteps), fmt.Sprint(t.ReportN), f(t.ReportMean), f(t.ReportMed), string(p)}
			if c := t.Row.Cells[p]; c != nil {
				s := stat(c.SecPerEpoch)
				rec = append(rec, fmt.Sprint(c.Steps), s[0], s[1], s[2])
			} else {
				rec = append(rec, "", "0", "", "")
			}
			rows = append(rows, rec)
		}
	}
	if out["timing.csv"], err = writeCSV(rows); err != nil {
		return nil, err
	}

	rows = [][]string{{"field", "value", "trials"}}
	pv := rep.Prov
	for _, fld := range []struct {
		name string
		m    map[string]int
	}{{"commit", pv.Commits}, {"go_version", pv.GoVersions}, {"platform", pv.Platforms}, {"cpu", pv.CPUs}, {"backend", pv.Backends}, {"threads", pv.Threads}} {
		keys := make([]string, 0, len(fld.m))
		for k := range fld.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			rows = append(rows, []string{fld.name, k, fmt.Sprint(fld.m[k])})
		}
	}
	for _, df := range rep.Run.DataFiles {
		rows = append(rows, []string{"data_file_md5", df.Name + " " + df.MD5, ""})
	}
	rows = append(rows, []string{"wall_seconds_total", f(pv.WallSeconds), fmt.Sprint(pv.Trials)})
	if out["provenance.csv"], err = writeCSV(rows); err != nil {
		return nil, err
	}
	return out, nil
}

func nanIfEmpty(s Stat) float64 {
	if s.N == 0 {
		return math.NaN()
	}
	return s.Mean
}

func writeCSV(rows [][]string) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
