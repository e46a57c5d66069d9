package harness

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// n local shards + merge give the same set of trial records as one run.
func TestShardsMergeEqualOneRun(t *testing.T) {
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.jsonl")
	if _, err := runTiny(t, whole, 2, All, nil); err != nil {
		t.Fatal(err)
	}
	want := canonicalLines(t, whole, true)
	for _, n := range []int{2, 3, 5} {
		var files []string
		total := 0
		for i := range n {
			f := filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.jsonl", i, n))
			sum, err := runTiny(t, f, 1, Shard{Index: i, Count: n}, nil)
			if err != nil {
				t.Fatal(err)
			}
			total += sum.Ran
			files = append(files, f)
		}
		if total != 12 {
			t.Fatalf("%d shards ran %d trials, want 12", n, total)
		}
		out := filepath.Join(dir, fmt.Sprintf("merged-%d.jsonl", n))
		var warn bytes.Buffer
		st, err := Merge(out, files, &warn)
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != 12 || st.Duplicates != 0 || st.Inputs != n {
			t.Errorf("%d shards: merge stats %+v", n, st)
		}
		if got := canonicalLines(t, out, true); !slices.Equal(got, want) {
			t.Fatalf("%d shards merged differ from one run: %s", n, firstDiff(got, want))
		}
	}

	// Merging a file twice: duplicates reported, kept once.
	out := filepath.Join(dir, "dup.jsonl")
	var warn bytes.Buffer
	st, err := Merge(out, []string{whole, whole}, &warn)
	if err != nil || st.Duplicates != 12 || st.Records != 12 || !strings.Contains(warn.String(), "duplicates") {
		t.Fatalf("merge of a file with itself: %+v %v %q", st, err, warn.String())
	}
	// An existing output must be listed as an input.
	if _, err := Merge(out, []string{whole}, &warn); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("overwriting an unlisted output: %v", err)
	}
	if st, err := Merge(out, []string{out, whole}, &warn); err != nil || st.Records != 12 {
		t.Errorf("merging into an existing output: %+v %v", st, err)
	}

	// A true conflict: same trial, different result.
	recs, _ := ReadRecords(whole, &warn)
	recs[3].TestAcc += 0.01
	var buf bytes.Buffer
	for _, r := range recs {
		l, _ := r.Line()
		buf.Write(l)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, buf.Bytes(), 0o644)
	conflictOut := filepath.Join(dir, "conflict.jsonl")
	_, err = Merge(conflictOut, []string{whole, bad}, &warn)
	if err == nil || !strings.Contains(err.Error(), "1 conflicting trial(s), nothing written") || !strings.Contains(err.Error(), "bad.jsonl:4") {
		t.Fatalf("conflict: %v", err)
	}
	if _, err := os.Stat(conflictOut); err == nil {
		t.Error("a conflicting merge wrote its output")
	}
	// Provenance alone (another machine) is not a conflict.
	recs, _ = ReadRecords(whole, &warn)
	recs[3].Provenance.CPU = "another CPU"
	buf.Reset()
	for _, r := range recs {
		l, _ := r.Line()
		buf.Write(l)
	}
	os.WriteFile(bad, buf.Bytes(), 0o644)
	if st, err := Merge(filepath.Join(dir, "prov.jsonl"), []string{whole, bad}, &warn); err != nil || st.Duplicates != 12 {
		t.Errorf("provenance-only difference: %+v %v", st, err)
	}
}
