package harness

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/simdmlp/simdmlp/mlp"
)

// RunInfo describes a run's settings (DIR/run.json), so that `report` lays out the same
// configurations the run trained (the stage order, the epochs cap, the data) without
// being told again.
type RunInfo struct {
	Order     Order    `json:"order"`
	Stages    []string `json:"stages"`
	Seeds     []uint64 `json:"seeds"`
	Protocols []string `json:"protocols"`
	// EpochsCap and Quick are set only by smoke-test runs: Quick describes how the run
	// departs from the report's experiment, and the rendered report leads with it.
	EpochsCap int    `json:"epochs_cap,omitempty"`
	Quick     string `json:"quick,omitempty"`
	// Data is the data fingerprint (part of every trial key), DataSource where the data
	// came from, DataFiles the digests of its files.
	Data       string     `json:"data"`
	DataSource string     `json:"data_source"`
	DataFiles  []FileHash `json:"data_files,omitempty"`
	NTrain     int        `json:"n_train"`
	NTest      int        `json:"n_test"`
}

// PlanOptions returns the options the run was planned with.
func (ri RunInfo) PlanOptions() PlanOptions {
	o := PlanOptions{Stages: ri.Stages, Seeds: ri.Seeds, Order: ri.Order, EpochsCap: ri.EpochsCap}
	for _, p := range ri.Protocols {
		o.Protocols = append(o.Protocols, mlp.Protocol(p))
	}
	return o
}

// WriteRunInfo writes ri to path whole.
func WriteRunInfo(path string, ri RunInfo) error {
	b, err := json.MarshalIndent(ri, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// ReadRunInfo reads a run.json.
func ReadRunInfo(path string) (RunInfo, error) {
	var ri RunInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return ri, fmt.Errorf("run settings: %w", err)
	}
	if err := json.Unmarshal(b, &ri); err != nil {
		return ri, fmt.Errorf("%s: not a run settings file: %v", path, err)
	}
	if ri.Data == "" || len(ri.Seeds) == 0 || len(ri.Protocols) == 0 {
		return ri, fmt.Errorf("%s: incomplete run settings: expected data, seeds and protocols, found %+v", path, ri)
	}
	return ri, nil
}
