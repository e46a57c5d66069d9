package harness

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/simdmlp/simdmlp/mlp"
)

// Order is how a stage obtains the settings the earlier stages fixed.
type Order string

const (
	// OrderReport: every stage starts from the report's own picks, so each of our rows
	// runs exactly the configuration of the report's row (the default).
	OrderReport Order = "report"
	// OrderAdaptive: every stage starts from the winner we measured in the stage before,
	// by mean validation accuracy over seeds under the clean protocol (never test
	// accuracy). A stage left out of the run hands on the report's pick.
	OrderAdaptive Order = "adaptive"
)

// PlanOptions selects the trials of a run.
type PlanOptions struct {
	Stages    []string // stages to run, a subset of Stages; nil means all
	Seeds     []uint64
	Protocols []mlp.Protocol
	Order     Order
	// EpochsCap, when > 0, caps every trial's epochs. For smoke tests only: the result
	// is not the report's experiment (the rendered report says so at the top).
	EpochsCap int
}

// Validate checks the options and fills defaults (all stages, report order).
func (o *PlanOptions) Validate() error {
	if len(o.Stages) == 0 {
		o.Stages = slices.Clone(Stages)
	}
	seen := map[string]bool{}
	for _, s := range o.Stages {
		if !slices.Contains(Stages, s) {
			return fmt.Errorf("stages: unknown stage %q: want all or a list of %s", s, strings.Join(Stages, ","))
		}
		if seen[s] {
			return fmt.Errorf("stages: %q listed twice", s)
		}
		seen[s] = true
	}
	// Keep protocol order whatever order they were listed in.
	o.Stages = slices.DeleteFunc(slices.Clone(Stages), func(s string) bool { return !seen[s] })
	if len(o.Seeds) == 0 {
		return fmt.Errorf("seeds: expected at least one seed, found none")
	}
	if len(o.Protocols) == 0 {
		return fmt.Errorf("protocols: expected clean, report or both, found none")
	}
	for _, p := range o.Protocols {
		if p != mlp.Clean && p != mlp.Report {
			return fmt.Errorf("protocols: unknown protocol %q: want clean or report", p)
		}
	}
	switch o.Order {
	case "":
		o.Order = OrderReport
	case OrderReport:
	case OrderAdaptive:
		if !slices.Contains(o.Protocols, mlp.Clean) {
			return fmt.Errorf("order adaptive picks winners by validation accuracy under the clean protocol: protocols must include clean, found %v", o.Protocols)
		}
	default:
		return fmt.Errorf("order: expected report or adaptive, found %q", o.Order)
	}
	if o.EpochsCap < 0 {
		return fmt.Errorf("epochs cap: expected >= 0, found %d", o.EpochsCap)
	}
	return nil
}

// Trial is one configuration x seed x protocol.
type Trial struct {
	Index  int        // position in the run's deterministic trial list (shards split by it)
	Key    string     // TrialKey(Config, data)
	Config mlp.Config // complete: Seed and Protocol set
	Rows   []string   // the report rows ("stage/index") this trial reproduces
}

// Label is a short human name: the first row it reproduces, protocol and seed.
func (t Trial) Label() string {
	extra := ""
	if len(t.Rows) > 1 {
		extra = fmt.Sprintf("(+%d)", len(t.Rows)-1)
	}
	return fmt.Sprintf("%s%s %s s%d", t.Rows[0], extra, t.Config.Protocol, t.Config.Seed)
}

// StagePlan is one stage laid out: where it starts from, its rows' configurations and
// the row it hands on.
type StagePlan struct {
	Stage string
	Run   bool // part of this run
	In    Picks
	Rows  []RowConfig
	// Pick is the row the next stage starts from: the report's pick, or in adaptive
	// order the measured winner. -1 for final, or when the winner is not known yet.
	Pick int
}

// Plan is a run's stages and trials.
type Plan struct {
	Options PlanOptions
	Data    string // data fingerprint
	Stages  []StagePlan
	Trials  []Trial
	// Complete is false in adaptive order while a stage waits for the results of the
	// stage before it: run Trials, then plan again.
	Complete bool
	// Waiting names the stage whose winner is not yet measurable when !Complete.
	Waiting string
}

// Plan lays out the run. In adaptive order the winners are measured from done (the
// records so far, by key); planning stops at the first stage whose winner is not yet
// known.
func (s *Sweep) Plan(o PlanOptions, data string, done map[string]Record) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p := &Plan{Options: o, Data: data, Complete: true}
	byKey := map[string]int{}
	in := InitialPicks()
	for _, st := range Stages {
		rcs, err := s.StageConfigs(st, in)
		if err != nil {
			return nil, err
		}
		for i := range rcs {
			if o.EpochsCap > 0 && rcs[i].Config.Epochs > o.EpochsCap {
				rcs[i].Config.Epochs = o.EpochsCap
			}
		}
		sp := StagePlan{Stage: st, Run: slices.Contains(o.Stages, st), In: in, Rows: rcs, Pick: -1}
		if sp.Run {
			for _, rc := range rcs {
				for _, seed := range o.Seeds {
					for _, proto := range o.Protocols {
						c := cloneConfig(rc.Config)
						c.Seed, c.Protocol = seed, proto
						key, err := TrialKey(c, data)
						if err != nil {
							return nil, fmt.Errorf("row %s: %w", rc.Row.ID(), err)
						}
						if i, ok := byKey[key]; ok {
							if !slices.Contains(p.Trials[i].Rows, rc.Row.ID()) {
								p.Trials[i].Rows = append(p.Trials[i].Rows, rc.Row.ID())
							}
							continue
						}
						byKey[key] = len(p.Trials)
						p.Trials = append(p.Trials, Trial{Index: len(p.Trials), Key: key, Config: c, Rows: []string{rc.Row.ID()}})
					}
				}
			}
		}
		if st != "final" {
			reportPick := slices.IndexFunc(rcs, func(rc RowConfig) bool { return rc.Row.Chosen() })
			sp.Pick = reportPick
			if o.Order == OrderAdaptive && sp.Run {
				w, err := winner(rcs, o.Seeds, data, done)
				if err != nil {
					return nil, err
				}
				sp.Pick = w
			}
		}
		p.Stages = append(p.Stages, sp)
		if st == "final" {
			break
		}
		pick := sp.Pick
		if pick < 0 {
			if slices.ContainsFunc(o.Stages, func(later string) bool { return slices.Index(Stages, later) > slices.Index(Stages, st) }) {
				p.Complete, p.Waiting = false, st
				break
			}
			// No later stage runs: lay the rest out (for the report) from the report's pick.
			pick = slices.IndexFunc(rcs, func(rc RowConfig) bool { return rc.Row.Chosen() })
		}
		in = rcs[pick].Picks
	}
	return p, nil
}

// winner returns the index of the row with the best mean clean validation accuracy over
// seeds (the first such row on a tie), or -1 while any of those trials is missing.
func winner(rcs []RowConfig, seeds []uint64, data string, done map[string]Record) (int, error) {
	best, bestMean := -1, math.Inf(-1)
	for i, rc := range rcs {
		sum := 0.0
		for _, seed := range seeds {
			c := cloneConfig(rc.Config)
			c.Seed, c.Protocol = seed, mlp.Clean
			key, err := TrialKey(c, data)
			if err != nil {
				return -1, err
			}
			r, ok := done[key]
			if !ok {
				return -1, nil
			}
			sum += float64(r.ValAcc)
		}
		if mean := sum / float64(len(seeds)); mean > bestMean {
			best, bestMean = i, mean
		}
	}
	return best, nil
}

// RowKeys returns the keys of the trials of one row configuration for the given seeds
// and protocol.
func RowKeys(rc RowConfig, seeds []uint64, proto mlp.Protocol, data string) ([]string, error) {
	var keys []string
	for _, seed := range seeds {
		c := cloneConfig(rc.Config)
		c.Seed, c.Protocol = seed, proto
		k, err := TrialKey(c, data)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}
