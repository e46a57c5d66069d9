package search

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/mlp"
)

// gridEpochsCSV holds, for each of the report's 48 table rows, the epochs its training
// ran: the report's own number where its table or log gives one (batch_size, val_split,
// initializer, final), else what our `report`-protocol run of the row measured (seed 1;
// derived by GridEpochsFromRecords from testdata/search/grid-report-seed1.jsonl, and
// checked against it by a test). The `report` protocol is the report's own leaky
// pipeline, so its stop epochs are the best stand-in for the ones it did not print.
//
//go:embed grid_epochs.csv
var gridEpochsCSV []byte

// GridRow is one row of the report's tables and what training it cost.
type GridRow struct {
	Row        harness.Row
	Config     mlp.Config
	Epochs     int    // epochs trained
	Source     string // "report" (its table or log) or "measured" (our report-protocol run)
	EpochFLOPs float64
	FLOPs      float64
}

// GridEpoch is the epochs of one row and where the number comes from.
type GridEpoch struct {
	Row    string // "stage/index"
	Epochs int
	Source string
}

// gridConfigs returns every row of the report's tables with the configuration the
// harness trains for it in the report's order (each stage from the report's picks).
func gridConfigs() ([]harness.RowConfig, error) {
	sw, err := harness.NewSweep()
	if err != nil {
		return nil, err
	}
	picks, err := sw.ReportOrderPicks()
	if err != nil {
		return nil, err
	}
	var out []harness.RowConfig
	for _, st := range harness.Stages {
		rcs, err := sw.StageConfigs(st, picks[st])
		if err != nil {
			return nil, err
		}
		out = append(out, rcs...)
	}
	return out, nil
}

// GridEpochsFromRecords derives the epochs of every row: the report's stop epoch where
// it gives one, else the epochs run by the record of the row's configuration under the
// report protocol with seed 1 (records of a `reproduce` run). A row with neither is an
// error naming it.
func GridEpochsFromRecords(recs []harness.Record) ([]GridEpoch, error) {
	rcs, err := gridConfigs()
	if err != nil {
		return nil, err
	}
	byConfig := map[string]harness.Record{}
	for _, r := range recs {
		b, err := harness.CanonicalConfig(r.Config)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", r.Key, err)
		}
		byConfig[string(b)] = r
	}
	var out []GridEpoch
	for _, rc := range rcs {
		if rc.Row.StopEpoch > 0 {
			out = append(out, GridEpoch{rc.Row.ID(), rc.Row.StopEpoch, "report"})
			continue
		}
		c := rc.Config
		c.Seed, c.Protocol = 1, mlp.Report
		b, err := harness.CanonicalConfig(c)
		if err != nil {
			return nil, err
		}
		r, ok := byConfig[string(b)]
		if !ok {
			return nil, fmt.Errorf("row %s: the report gives no epochs and no record of its configuration under the report protocol, seed 1, was given", rc.Row.ID())
		}
		out = append(out, GridEpoch{rc.Row.ID(), len(r.Epochs), "measured"})
	}
	return out, nil
}

// GridEpochsCSV writes epochs in the format of the embedded grid_epochs.csv.
func GridEpochsCSV(eps []GridEpoch) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"row", "epochs", "source"})
	for _, e := range eps {
		w.Write([]string{e.Row, strconv.Itoa(e.Epochs), e.Source})
	}
	w.Flush()
	return b.Bytes()
}

// GridEpochs returns the embedded epochs of every row.
func GridEpochs() ([]GridEpoch, error) {
	r := csv.NewReader(bytes.NewReader(gridEpochsCSV))
	var out []GridEpoch
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("grid_epochs.csv: %w", err)
		}
		if line == 1 {
			continue
		}
		n, err := strconv.Atoi(rec[1])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("grid_epochs.csv:%d: epochs: expected a positive whole number, found %q", line, rec[1])
		}
		out = append(out, GridEpoch{rec[0], n, rec[2]})
	}
	return out, nil
}

// GridCost is what the report's whole grid cost in training FLOPs on data of this
// shape: all 48 rows of its tables (rows its tables repeat, such as depth_width/4 =
// activations/1, count once per table, as the report presents them), each row's
// configuration as the harness trains it, for the epochs of GridEpochs.
func GridCost(sh Shape) ([]GridRow, float64, error) {
	rcs, err := gridConfigs()
	if err != nil {
		return nil, 0, err
	}
	eps, err := GridEpochs()
	if err != nil {
		return nil, 0, err
	}
	if len(eps) != len(rcs) {
		return nil, 0, fmt.Errorf("grid_epochs.csv has %d rows, the report's tables %d", len(eps), len(rcs))
	}
	var rows []GridRow
	total := 0.0
	for i, rc := range rcs {
		if eps[i].Row != rc.Row.ID() {
			return nil, 0, fmt.Errorf("grid_epochs.csv row %d is %s, expected %s", i+1, eps[i].Row, rc.Row.ID())
		}
		g := GridRow{Row: rc.Row, Config: rc.Config, Epochs: eps[i].Epochs, Source: eps[i].Source, EpochFLOPs: sh.EpochFLOPs(rc.Config)}
		g.FLOPs = float64(g.Epochs) * g.EpochFLOPs
		total += g.FLOPs
		rows = append(rows, g)
	}
	return rows, total, nil
}

// MNISTShape is the shape of MNIST's training set.
var MNISTShape = Shape{Features: 784, Classes: 10, N: 60000}
