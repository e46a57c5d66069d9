package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MergeStats says what Merge found.
type MergeStats struct {
	Inputs     int
	Records    int // distinct trials written
	Duplicates int // records of a trial already seen, with the same result
}

// Merge combines results files (e.g. one per shard) into out, written whole. The same
// trial in two inputs with the same result (apart from wall times and provenance) is a
// duplicate: reported on warn, kept once. The same trial with different results is a
// conflict: every conflict is listed and nothing is written. A torn last line of an
// input is reported and ignored. If out already exists it must be one of the inputs,
// so merging never silently drops what it held.
func Merge(out string, inputs []string, warn io.Writer) (MergeStats, error) {
	var st MergeStats
	if len(inputs) == 0 {
		return st, fmt.Errorf("merge: expected at least one input file, found none")
	}
	if _, err := os.Stat(out); err == nil {
		listed := false
		for _, in := range inputs {
			if sameFile(in, out) {
				listed = true
			}
		}
		if !listed {
			return st, fmt.Errorf("merge: output %s exists: list it among the inputs to merge into it, or remove it", out)
		}
	}
	type seen struct {
		rec Record
		src string
	}
	byKey := map[string]seen{}
	var order []string
	var conflicts []string
	for _, in := range inputs {
		recs, err := ReadRecords(in, warn)
		if err != nil {
			return st, fmt.Errorf("merge: %w", err)
		}
		st.Inputs++
		for i, r := range recs {
			src := fmt.Sprintf("%s:%d", in, i+1)
			prev, ok := byKey[r.Key]
			if !ok {
				byKey[r.Key] = seen{r, src}
				order = append(order, r.Key)
				continue
			}
			if err := sameResult(prev.rec, r); err != nil {
				conflicts = append(conflicts, fmt.Sprintf("trial %s: %s and %s disagree: %v", r.Key, prev.src, src, err))
				continue
			}
			st.Duplicates++
			fmt.Fprintf(warn, "merge: trial %s at %s duplicates %s (same result); kept once\n", r.Key, src, prev.src)
		}
	}
	if len(conflicts) > 0 {
		return st, fmt.Errorf("merge: %d conflicting trial(s), nothing written:\n  %s", len(conflicts), strings.Join(conflicts, "\n  "))
	}
	var buf bytes.Buffer
	for _, k := range order {
		line, err := byKey[k].rec.Line()
		if err != nil {
			return st, err
		}
		buf.Write(line)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return st, fmt.Errorf("merge: %w", err)
	}
	if err := WriteFileAtomic(out, buf.Bytes()); err != nil {
		return st, fmt.Errorf("merge: %w", err)
	}
	st.Records = len(order)
	return st, nil
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
