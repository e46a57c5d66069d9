package harness

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
)

func testRecord(t *testing.T, seed uint64, val float64) Record {
	t.Helper()
	c := mlp.DefaultConfig()
	c.Seed = seed
	key, err := TrialKey(c, "d")
	if err != nil {
		t.Fatal(err)
	}
	tl := Float(0.97)
	return Record{
		Key: key, Seed: seed, Protocol: "clean", Data: "d", Config: c,
		Epochs:    []Epoch{{Epoch: 1, Steps: 844, Seconds: 1.5, Loss: 0.2, Accuracy: 0.9, ValLoss: 0.1, ValAcc: Float(val), TestAcc: &tl, TestLoss: &tl}},
		StopEpoch: 1, StopReason: "epochs", ValAcc: Float(val), TestAcc: 0.97, NTrain: 54000, NVal: 6000, NTest: 10000,
		Provenance: Provenance{Commit: "abc", WallSeconds: 1.5},
	}
}

func TestStoreAppendReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	var warn bytes.Buffer
	s, err := OpenStore(path, &warn)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := testRecord(t, 1, 0.98), testRecord(t, 2, 0.985)
	for _, r := range []Record{r1, r2} {
		if err := s.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	// On disk at once, one line each, before Close.
	data, _ := os.ReadFile(path)
	l1, _ := r1.Line()
	l2, _ := r2.Line()
	if !bytes.Equal(data, append(l1, l2...)) {
		t.Fatalf("file holds\n%s\nwant the two record lines", data)
	}
	if err := s.Append(r1); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second append of the same trial: %v, want ErrDuplicate", err)
	}
	if data2, _ := os.ReadFile(path); !bytes.Equal(data2, data) {
		t.Fatal("a duplicate was written")
	}
	s.Close()

	s, err = OpenStore(path, &warn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if warn.Len() != 0 {
		t.Errorf("warnings on a clean file: %s", warn.String())
	}
	recs := s.Records()
	if len(recs) != 2 || !s.Has(r1.Key) || !s.Has(r2.Key) {
		t.Fatalf("reopened store has %d records", len(recs))
	}
	back, _ := recs[1].Line()
	if !bytes.Equal(back, l2) {
		t.Errorf("record does not round-trip:\n%s\n%s", back, l2)
	}
	if err := s.Append(r2); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate after reopen: %v", err)
	}
}

// A crash mid-write leaves a last line without its newline, or (on some file systems)
// one that is not JSON: it is reported, truncated away, and its trial is missing again.
func TestStoreTornLastLine(t *testing.T) {
	r1, r2 := testRecord(t, 1, 0.98), testRecord(t, 2, 0.985)
	l1, _ := r1.Line()
	l2, _ := r2.Line()
	cases := map[string][]byte{
		"half a line":          append(append([]byte{}, l1...), l2[:len(l2)/2]...),
		"whole line no \\n":    append(append([]byte{}, l1...), l2[:len(l2)-1]...),
		"zeros with a newline": append(append([]byte{}, l1...), append(bytes.Repeat([]byte{0}, 50), '\n')...),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.jsonl")
			os.WriteFile(path, content, 0o644)
			// Reading without modifying: the torn line is ignored and reported.
			var warn bytes.Buffer
			recs, err := ReadRecords(path, &warn)
			if err != nil || len(recs) != 1 || !strings.Contains(warn.String(), "results.jsonl:2: torn last line") {
				t.Fatalf("ReadRecords: %d records, err %v, warning %q", len(recs), err, warn.String())
			}
			warn.Reset()
			s, err := OpenStore(path, &warn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !strings.Contains(warn.String(), "torn last line") || !strings.Contains(warn.String(), "re-run") {
				t.Errorf("warning %q does not report the torn line", warn.String())
			}
			if s.Len() != 1 || s.Has(r2.Key) {
				t.Fatalf("store has %d records, has r2: %v", s.Len(), s.Has(r2.Key))
			}
			if data, _ := os.ReadFile(path); !bytes.Equal(data, l1) {
				t.Fatalf("file not truncated to its whole records: %q", data)
			}
			if err := s.Append(r2); err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(path); !bytes.Equal(data, append(append([]byte{}, l1...), l2...)) {
				t.Fatalf("after re-running the torn trial the file is %q", data)
			}
		})
	}
}

func TestStoreCorruptMiddleLine(t *testing.T) {
	l1, _ := testRecord(t, 1, 0.98).Line()
	path := filepath.Join(t.TempDir(), "results.jsonl")
	os.WriteFile(path, append([]byte("{not json\n"), l1...), 0o644)
	_, err := OpenStore(path, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "results.jsonl:1:") || !strings.Contains(err.Error(), "not the last line") {
		t.Fatalf("error %v, want one naming line 1 as corrupt", err)
	}
}

func TestStoreDuplicatesInFile(t *testing.T) {
	r1 := testRecord(t, 1, 0.98)
	l1, _ := r1.Line()
	again := r1
	again.Provenance.WallSeconds = 99 // same result, other wall time
	la, _ := again.Line()
	path := filepath.Join(t.TempDir(), "results.jsonl")
	os.WriteFile(path, append(append([]byte{}, l1...), la...), 0o644)
	var warn bytes.Buffer
	s, err := OpenStore(path, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 || !strings.Contains(warn.String(), "recorded twice (same result)") {
		t.Errorf("%d records, warning %q", s.Len(), warn.String())
	}
	s.Close()

	conflict := r1
	conflict.ValAcc = 0.5
	lc, _ := conflict.Line()
	os.WriteFile(path, append(append([]byte{}, l1...), lc...), 0o644)
	if _, err := OpenStore(path, &warn); err == nil || !strings.Contains(err.Error(), "different results") {
		t.Errorf("conflicting duplicate: %v", err)
	}
}

func TestStoreLocked(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no flock")
	}
	path := filepath.Join(t.TempDir(), "results.jsonl")
	s, err := OpenStore(path, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := OpenStore(path, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second open: %v", err)
	}
}

func TestRecordComparable(t *testing.T) {
	a := testRecord(t, 1, 0.98)
	b := a
	b.Epochs = append([]Epoch(nil), a.Epochs...)
	b.Epochs[0].Seconds = 7
	b.Provenance.WallSeconds = 8
	b.Provenance.Commit = "def"
	if err := sameResult(a, b); err != nil {
		t.Errorf("wall times and provenance count: %v", err)
	}
	if a.Epochs[0].Seconds != 1.5 {
		t.Error("Comparable modified its receiver")
	}
	b.Epochs[0].Loss = 0.3
	if err := sameResult(a, b); err == nil || !strings.Contains(err.Error(), "differ at byte") {
		t.Errorf("a different loss is the same result: %v", err)
	}
	if best, ok := a.BestTestAcc(); !ok || best != 0.97 {
		t.Errorf("best test acc %v %v", best, ok)
	}
}
