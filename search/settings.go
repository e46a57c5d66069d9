package search

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
)

// Strategy is how a search spends its budget.
type Strategy string

const (
	// Random trains one configuration after another, each to its most epochs under its
	// early-stopping rule, in waves that the remaining budget can pay for in full.
	Random Strategy = "random"
	// Halving is successive halving: many configurations on few epochs, the best 1/eta
	// by validation loss retrained on eta times more, and so on up to the space's most
	// epochs; brackets of fresh configurations follow while the budget lasts.
	Halving Strategy = "halving"
)

// Settings are everything a search's decisions depend on besides the trial records.
// They are stored with the search (search.json): a restarted search must be given the
// same ones, and a wall-time budget keeps the FLOPs it was converted to.
type Settings struct {
	Strategy Strategy `json:"strategy"`
	Space    *Space   `json:"space"`
	Seed     uint64   `json:"seed"`
	Budget   Budget   `json:"budget"`
	// BudgetFLOPs is the budget the search spends: Budget.FLOPs, or a wall budget times
	// Rate.
	BudgetFLOPs float64 `json:"budget_flops"`
	// Rate is the FLOP/s (all parallel trials together) a wall budget was converted at.
	Rate      float64  `json:"rate,omitempty"`
	Eta       int      `json:"eta"`        // halving: keep the best 1/Eta of each rung
	MinEpochs int      `json:"min_epochs"` // halving: epochs of the first rung
	EvalSeeds []uint64 `json:"eval_seeds"` // seeds the final pick and the baseline are tested with
	// Data is the fingerprint of the data (harness.Dataset.Fingerprint), Shape its shape.
	Data       string `json:"data"`
	Shape      Shape  `json:"shape"`
	DataSource string `json:"data_source,omitempty"`
	// Quick, when set, says how a smoke-test run departs from a real search.
	Quick string `json:"quick,omitempty"`
}

// Validate checks the settings and the space's fitness for a search.
func (s *Settings) Validate() error {
	if s.Strategy != Random && s.Strategy != Halving {
		return fmt.Errorf("strategy: expected random or halving, found %q", s.Strategy)
	}
	if s.Space == nil {
		return errors.New("space: missing")
	}
	if err := s.Space.Validate(); err != nil {
		return fmt.Errorf("space: %w", err)
	}
	if len(s.Space.Split.Values) != 1 {
		return fmt.Errorf("space: split: expected a single value (the search compares validation losses, which needs one validation set), found %v", s.Space.Split)
	}
	if !(s.BudgetFLOPs > 0) {
		return fmt.Errorf("budget: expected a positive number of FLOPs, found %g", s.BudgetFLOPs)
	}
	if s.Strategy == Halving {
		if s.Eta < 2 {
			return fmt.Errorf("eta: expected >= 2, found %d", s.Eta)
		}
		if s.MinEpochs < 1 || float64(s.MinEpochs) > s.Space.Epochs.max() {
			return fmt.Errorf("min-epochs: expected 1..%g (the space's most epochs), found %d", s.Space.Epochs.max(), s.MinEpochs)
		}
	}
	if len(s.EvalSeeds) == 0 {
		return errors.New("eval-seeds: expected at least one seed, found none")
	}
	for i, v := range s.EvalSeeds {
		if slices.Contains(s.EvalSeeds[:i], v) {
			return fmt.Errorf("eval-seeds: %d listed twice", v)
		}
	}
	if s.Data == "" || s.Shape.Features < 1 || s.Shape.Classes < 2 || s.Shape.N < 2 {
		return fmt.Errorf("data: expected a fingerprint and a shape, found %q %+v", s.Data, s.Shape)
	}
	return nil
}

// Rungs returns the epochs of halving's rungs: MinEpochs, times Eta at each rung, the
// last one at the space's most epochs.
func (s *Settings) Rungs() []int {
	top := int(s.Space.Epochs.max())
	var out []int
	for r := s.MinEpochs; r < top; r *= s.Eta {
		out = append(out, r)
	}
	return append(out, top)
}

// WriteSettings stores s at path whole.
func WriteSettings(path string, s *Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

// ReadSettings reads a stored search.
func ReadSettings(path string) (*Settings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Settings
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: not a search settings file: %v", path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// SameSearch returns nil when stored and given describe the same search (the stored
// conversion of a wall budget aside), else an error naming the first difference.
func SameSearch(stored, given *Settings) error {
	a, b := *stored, *given
	if a.Budget.Wall > 0 && a.Budget == b.Budget {
		b.BudgetFLOPs, b.Rate = a.BudgetFLOPs, a.Rate
	}
	fields := []struct {
		name string
		x, y any
	}{
		{"strategy", a.Strategy, b.Strategy}, {"space", a.Space, b.Space}, {"seed", a.Seed, b.Seed},
		{"budget", a.Budget, b.Budget}, {"budget_flops", a.BudgetFLOPs, b.BudgetFLOPs},
		{"eta", a.Eta, b.Eta}, {"min_epochs", a.MinEpochs, b.MinEpochs}, {"eval_seeds", a.EvalSeeds, b.EvalSeeds},
		{"data", a.Data, b.Data}, {"quick", a.Quick, b.Quick},
	}
	for _, f := range fields {
		jx, _ := json.Marshal(f.x)
		jy, _ := json.Marshal(f.y)
		if !bytes.Equal(jx, jy) {
			return fmt.Errorf("%s: the stored search has %s, this command %s", f.name, jx, jy)
		}
	}
	return nil
}
