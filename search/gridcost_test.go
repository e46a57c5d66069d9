package search

import (
	"bytes"
	"flag"
	"io"
	"math"
	"os"
	"testing"

	"github.com/simdmlp/simdmlp/harness"
)

var update = flag.Bool("update", false, "rewrite grid_epochs.csv from testdata/search/grid-report-seed1.jsonl")

// The embedded epochs are exactly what the report's tables say where they say it, and
// what our report-protocol run measured elsewhere (the committed records of that run).
func TestGridEpochsFromRecords(t *testing.T) {
	recs, err := harness.ReadRecords("../testdata/search/grid-report-seed1.jsonl", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := GridEpochsFromRecords(recs)
	if err != nil {
		t.Fatal(err)
	}
	got := GridEpochsCSV(eps)
	if *update {
		if err := os.WriteFile("grid_epochs.csv", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, gridEpochsCSV) {
		t.Fatalf("grid_epochs.csv differs from the records' derivation (go test -run TestGridEpochsFromRecords -update):\n%s", got)
	}
	if len(eps) != 48 {
		t.Fatalf("%d rows, want the report's 48", len(eps))
	}
	// The report's own numbers, read from its tables (report-tables.csv's epochs column).
	want := map[string]int{"batch_size/1": 7, "batch_size/4": 11, "batch_size/5": 20, "val_split/1": 6, "initializer/2": 8, "final/1": 7}
	n := 0
	for _, e := range eps {
		if e.Source == "report" {
			n++
		}
		if w, ok := want[e.Row]; ok && (e.Epochs != w || e.Source != "report") {
			t.Errorf("%s: %d epochs from %s, want %d from the report", e.Row, e.Epochs, e.Source, w)
		}
	}
	if n != 15 {
		t.Errorf("%d rows from the report's numbers, want 15 (batch_size 5, val_split 7, initializer 2, final 1)", n)
	}
	// A row with neither number is an error naming it.
	if _, err := GridEpochsFromRecords(recs[1:]); err == nil {
		t.Error("a missing record went unnoticed")
	}
}

// The grid's cost is the sum over rows of epochs x (n_train x train + n_val x forward),
// checked here against a hand computation of the final row: 784-600-200-10,
// P = 784*600 + 600*200 + 200*10 = 592,400 weights, d0*d1 = 470,400; n_val = 6000,
// n_train = 54,000; one epoch = 54,000*(6P - 2*470,400) + 6000*2P
// = 54,000*2,613,600 + 6000*1,184,800 = 141,134,400,000 + 7,108,800,000.
func TestGridCost(t *testing.T) {
	rows, total, err := GridCost(MNISTShape)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 48 {
		t.Fatalf("%d rows", len(rows))
	}
	last := rows[47]
	if last.Row.ID() != "final/1" || last.Epochs != 7 {
		t.Fatalf("last row %s, %d epochs", last.Row.ID(), last.Epochs)
	}
	if want := 141134400000.0 + 7108800000.0; last.EpochFLOPs != want || last.FLOPs != 7*want {
		t.Errorf("final row: %g FLOPs per epoch, %g in all; want %g, %g", last.EpochFLOPs, last.FLOPs, want, 7*want)
	}
	sum := 0.0
	for _, r := range rows {
		sum += float64(r.Epochs) * r.EpochFLOPs
	}
	if math.Abs(sum-total) > 1e-9*total {
		t.Errorf("total %g, rows sum to %g", total, sum)
	}
	t.Logf("the report's grid: %.4g training FLOPs over 48 rows", total)
}
