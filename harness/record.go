package harness

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/simdmlp/simdmlp/mlp"
)

// Record is one finished trial, one line of a results file. Everything except the wall
// times (Epoch.Seconds, Provenance.WallSeconds) is a deterministic function of the trial
// and the build that ran it, whatever the scheduling: which worker, which order.
type Record struct {
	Key      string     `json:"key"`
	Seed     uint64     `json:"seed"`
	Protocol string     `json:"protocol"`
	Data     string     `json:"data"`   // fingerprint of the data trained on (Dataset.Fingerprint)
	Config   mlp.Config `json:"config"` // canonical: normalized, Threads 0
	Epochs   []Epoch    `json:"epochs"`
	// StopEpoch is the epoch whose weights the final metrics belong to.
	StopEpoch  int    `json:"stop_epoch"`
	StopReason string `json:"stop_reason"`
	ValLoss    Float  `json:"val_loss"`
	ValAcc     Float  `json:"val_accuracy"`
	TestLoss   Float  `json:"test_loss"`
	TestAcc    Float  `json:"test_accuracy"`
	NTrain     int    `json:"n_train"`
	NVal       int    `json:"n_val"`
	NTest      int    `json:"n_test"`

	Provenance Provenance `json:"provenance"`
}

// Epoch is one epoch's metrics (the Keras verbose=2 line), with the test metrics when
// the trial's configuration asks for them.
type Epoch struct {
	Epoch    int     `json:"epoch"`
	Steps    int     `json:"steps"`
	Seconds  float64 `json:"seconds"` // wall time: the one field that varies run to run
	Loss     Float   `json:"loss"`
	Accuracy Float   `json:"accuracy"`
	ValLoss  Float   `json:"val_loss"`
	ValAcc   Float   `json:"val_accuracy"`
	TestLoss *Float  `json:"test_loss,omitempty"`
	TestAcc  *Float  `json:"test_accuracy,omitempty"`
}

// Provenance says what produced a record.
type Provenance struct {
	Commit    string     `json:"commit"` // "unknown" when neither git nor build info tells
	GoVersion string     `json:"go_version"`
	OS        string     `json:"os"`
	Arch      string     `json:"arch"`
	CPU       string     `json:"cpu"`
	Backend   string     `json:"backend"`
	Threads   int        `json:"threads"`
	DataFiles []FileHash `json:"data_files,omitempty"`
	// WallSeconds is the trial's wall time.
	WallSeconds float64 `json:"wall_seconds"`
}

// FileHash is one data file's digest.
type FileHash struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	MD5  string `json:"md5"`
}

// Float is a float64 that survives JSON when training diverges: NaN and the infinities
// are written as the strings "NaN", "+Inf", "-Inf" (plain JSON has no spelling for them).
type Float float64

// MarshalJSON writes finite values as numbers, the rest as strings.
func (f Float) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *Float) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = Float(math.NaN())
		return nil
	case `"+Inf"`:
		*f = Float(math.Inf(1))
		return nil
	case `"-Inf"`:
		*f = Float(math.Inf(-1))
		return nil
	}
	x, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("expected a number, \"NaN\", \"+Inf\" or \"-Inf\", found %s", b)
	}
	*f = Float(x)
	return nil
}

// Comparable returns a copy with every field that may differ between two runs of the
// same trial cleared: wall times and provenance. Two records of the same trial are the
// same result when their Comparable forms marshal to the same bytes.
func (r Record) Comparable() Record {
	c := r
	c.Epochs = append([]Epoch(nil), r.Epochs...)
	for i := range c.Epochs {
		c.Epochs[i].Seconds = 0
	}
	c.Provenance = Provenance{}
	return c
}

// WithoutWallTimes returns a copy with only the wall times cleared (provenance kept):
// what a resumed run on the same build and machine must reproduce byte for byte.
func (r Record) WithoutWallTimes() Record {
	c := r
	c.Epochs = append([]Epoch(nil), r.Epochs...)
	for i := range c.Epochs {
		c.Epochs[i].Seconds = 0
	}
	c.Provenance.WallSeconds = 0
	return c
}

// Line returns the record as one JSON line with its trailing newline.
func (r Record) Line() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", r.Key, err)
	}
	return append(b, '\n'), nil
}

// BestTestAcc returns the best per-epoch test accuracy over the epochs run up to the
// stop epoch, and false when the trial did not record per-epoch test metrics.
func (r Record) BestTestAcc() (float64, bool) {
	best, ok := math.Inf(-1), false
	for _, e := range r.Epochs {
		if e.TestAcc != nil && (r.StopEpoch == 0 || e.Epoch <= r.StopEpoch) {
			best, ok = math.Max(best, float64(*e.TestAcc)), true
		}
	}
	return best, ok
}

// newRecord builds the record of a finished trial from the trainer's result.
func newRecord(t Trial, res *mlp.Result, prov Provenance, data string) (Record, error) {
	canon, err := CanonicalConfig(t.Config)
	if err != nil {
		return Record{}, err
	}
	var cfg mlp.Config
	if err := json.Unmarshal(canon, &cfg); err != nil {
		return Record{}, fmt.Errorf("trial %s: canonical configuration does not read back: %w", t.Key, err)
	}
	r := Record{
		Key: t.Key, Seed: t.Config.Seed, Protocol: string(t.Config.Protocol), Data: data, Config: cfg,
		StopEpoch: res.StopEpoch, StopReason: res.StopReason,
		ValLoss: Float(res.ValLoss), ValAcc: Float(res.ValAcc), TestLoss: Float(res.TestLoss), TestAcc: Float(res.TestAcc),
		NTrain: res.NTrain, NVal: res.NVal, NTest: res.NTest,
		Provenance: prov,
	}
	r.Provenance.Backend = res.Backend
	r.Provenance.Threads = res.Threads
	r.Provenance.WallSeconds = res.WallSeconds
	for _, e := range res.Epochs {
		ep := Epoch{Epoch: e.Epoch, Steps: e.Steps, Seconds: e.Seconds, Loss: Float(e.Loss), Accuracy: Float(e.Accuracy), ValLoss: Float(e.ValLoss), ValAcc: Float(e.ValAcc)}
		if e.HasTest {
			tl, ta := Float(e.TestLoss), Float(e.TestAcc)
			ep.TestLoss, ep.TestAcc = &tl, &ta
		}
		r.Epochs = append(r.Epochs, ep)
	}
	return r, nil
}
