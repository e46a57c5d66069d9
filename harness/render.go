package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Render builds the report of the run ri from records and writes it into dir:
// report.md, one CSV per table and the SVG figures, each file written whole. It returns
// the report and the paths written (report.md last).
func Render(dir string, s *Sweep, ri RunInfo, records []Record) (*Report, []string, error) {
	rep, err := BuildReport(s, ri, records)
	if err != nil {
		return nil, nil, err
	}
	csvs, err := rep.CSVs()
	if err != nil {
		return nil, nil, err
	}
	svgs, err := rep.SVGs()
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	var written []string
	for _, m := range []map[string][]byte{csvs, svgs} {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			p := filepath.Join(dir, n)
			if err := WriteFileAtomic(p, m[n]); err != nil {
				return nil, nil, err
			}
			written = append(written, p)
		}
	}
	// Figures in reading order: curves by batch size, then stages.
	var plots []string
	for _, t := range rep.Timing {
		if _, ok := svgs["curves-"+t.Run+".svg"]; ok {
			plots = append(plots, "curves-"+t.Run+".svg")
		}
	}
	for _, st := range rep.Stages {
		if _, ok := svgs["accuracy-"+st.Stage+".svg"]; ok {
			plots = append(plots, "accuracy-"+st.Stage+".svg")
		}
	}
	md := filepath.Join(dir, "report.md")
	if err := WriteFileAtomic(md, rep.Markdown(plots)); err != nil {
		return nil, nil, err
	}
	return rep, append(written, md), nil
}
