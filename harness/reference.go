package harness

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The report's numbers, copied byte for byte from ../shared/reference (a test checks the
// copies when that folder is present). They are facts to compare against, never inputs to
// a computation of ours other than which configurations to run.
var (
	//go:embed reference/report-tables.csv
	reportTablesCSV []byte
	//go:embed reference/report-curves.csv
	reportCurvesCSV []byte
)

// ReportTablesCSV and ReportCurvesCSV return the embedded reference files.
func ReportTablesCSV() []byte { return bytes.Clone(reportTablesCSV) }

// ReportCurvesCSV returns the embedded report-curves.csv.
func ReportCurvesCSV() []byte { return bytes.Clone(reportCurvesCSV) }

// Row is one row of one results table of the report (report-tables.csv). Missing
// numbers are NaN (ValAcc, TestAcc) or 0 (Batch, Split, StopEpoch).
type Row struct {
	Stage       string   // the sweep column: depth_width, activations, ...
	Index       int      // the row column: 1-based position in the report's table
	Depth       int      // hidden_layers
	Acts        []string // activations, one per hidden layer
	Widths      []int    // widths, one per hidden layer
	Batch       int      // 0 when the report leaves it empty
	Split       float64  // 0 when empty
	Initializer string   // "" when empty; else "default" or "he_normal-glorot_uniform"
	Optimizer   string   // "" when empty
	StopEpoch   int      // the epochs column: the epoch the report stopped at; 0 when empty
	ValAcc      float64  // percent; NaN when the report gives none
	TestAcc     float64  // percent
	Note        string
}

// ID names the row as "stage/index".
func (r Row) ID() string { return fmt.Sprintf("%s/%d", r.Stage, r.Index) }

// Chosen reports whether the report picked this row as its stage's winner (its note
// starts with "chosen").
func (r Row) Chosen() bool { return strings.HasPrefix(r.Note, "chosen") }

// ReportRows parses the embedded report-tables.csv.
func ReportRows() ([]Row, error) {
	return ParseRows(bytes.NewReader(reportTablesCSV), "report-tables.csv")
}

// ParseRows parses a file in the format of report-tables.csv; name is used in errors.
func ParseRows(r io.Reader, name string) ([]Row, error) {
	recs, err := readCSV(r, name, []string{"sweep", "row", "hidden_layers", "activations", "widths", "batch", "val_split", "initializer", "optimizer", "epochs", "val_acc", "test_acc", "note"})
	if err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(recs))
	for i, f := range recs {
		line := i + 2
		bad := func(col, val, want string) error {
			return fmt.Errorf("%s:%d: column %s: expected %s, found %q", name, line, col, want, val)
		}
		var row Row
		var err error
		row.Stage = f[0]
		if row.Index, err = strconv.Atoi(f[1]); err != nil || row.Index < 1 {
			return nil, bad("row", f[1], "a positive integer")
		}
		if row.Depth, err = strconv.Atoi(f[2]); err != nil || row.Depth < 1 {
			return nil, bad("hidden_layers", f[2], "a positive integer")
		}
		row.Acts = strings.Split(f[3], "-")
		if len(row.Acts) != row.Depth {
			return nil, bad("activations", f[3], fmt.Sprintf("%d activations joined by '-'", row.Depth))
		}
		for _, w := range strings.Split(f[4], "-") {
			n, err := strconv.Atoi(w)
			if err != nil || n < 1 {
				return nil, bad("widths", f[4], "positive widths joined by '-'")
			}
			row.Widths = append(row.Widths, n)
		}
		if len(row.Widths) != row.Depth {
			return nil, bad("widths", f[4], fmt.Sprintf("%d widths", row.Depth))
		}
		if f[5] != "" {
			if row.Batch, err = strconv.Atoi(f[5]); err != nil || row.Batch < 1 {
				return nil, bad("batch", f[5], "a positive integer or empty")
			}
		}
		if f[6] != "" {
			if row.Split, err = strconv.ParseFloat(f[6], 64); err != nil || !(row.Split > 0 && row.Split < 1) {
				return nil, bad("val_split", f[6], "a fraction in (0, 1) or empty")
			}
		}
		row.Initializer, row.Optimizer = f[7], f[8]
		if f[9] != "" {
			if row.StopEpoch, err = strconv.Atoi(f[9]); err != nil || row.StopEpoch < 1 {
				return nil, bad("epochs", f[9], "a positive integer or empty")
			}
		}
		if row.ValAcc, err = optFloat(f[10]); err != nil {
			return nil, bad("val_acc", f[10], "a percentage or empty")
		}
		if row.TestAcc, err = optFloat(f[11]); err != nil {
			return nil, bad("test_acc", f[11], "a percentage or empty")
		}
		row.Note = f[12]
		rows = append(rows, row)
	}
	return rows, nil
}

// CurvePoint is one per-epoch log line the report prints (report-curves.csv).
type CurvePoint struct {
	Run     string // batch32 .. batch512, final
	Epoch   int
	Steps   int
	Seconds float64
	Loss    float64
	Acc     float64
	ValLoss float64
	ValAcc  float64
}

// ReportCurves parses the embedded report-curves.csv.
func ReportCurves() ([]CurvePoint, error) {
	recs, err := readCSV(bytes.NewReader(reportCurvesCSV), "report-curves.csv", []string{"run", "epoch", "steps", "seconds", "loss", "accuracy", "val_loss", "val_accuracy"})
	if err != nil {
		return nil, err
	}
	out := make([]CurvePoint, 0, len(recs))
	for i, f := range recs {
		var p CurvePoint
		p.Run = f[0]
		ints := []*int{&p.Epoch, &p.Steps}
		for j, dst := range ints {
			n, err := strconv.Atoi(f[1+j])
			if err != nil {
				return nil, fmt.Errorf("report-curves.csv:%d: column %d: expected an integer, found %q", i+2, 2+j, f[1+j])
			}
			*dst = n
		}
		floats := []*float64{&p.Seconds, &p.Loss, &p.Acc, &p.ValLoss, &p.ValAcc}
		for j, dst := range floats {
			x, err := strconv.ParseFloat(f[3+j], 64)
			if err != nil {
				return nil, fmt.Errorf("report-curves.csv:%d: column %d: expected a number, found %q", i+2, 4+j, f[3+j])
			}
			*dst = x
		}
		out = append(out, p)
	}
	return out, nil
}

func readCSV(r io.Reader, name string, header []string) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty, expected the header %s", name, strings.Join(header, ","))
	}
	if got := strings.Join(recs[0], ","); got != strings.Join(header, ",") {
		return nil, fmt.Errorf("%s:1: expected the header %q, found %q", name, strings.Join(header, ","), got)
	}
	for i, rec := range recs[1:] {
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s:%d: expected %d fields, found %d", name, i+2, len(header), len(rec))
		}
	}
	return recs[1:], nil
}

func optFloat(s string) (float64, error) {
	if s == "" {
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}
