package harness

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

// Stages are the report's sweeps in the order it ran them; each stage keeps the earlier
// stages' winners (protocol.md, "The sweeps").
var Stages = []string{"depth_width", "activations", "node_distribution", "batch_size", "val_split", "initializer", "optimizer", "final"}

// Settings protocol.md fixes where the report is silent.
const (
	sweepBatch      = 100   // depth_width .. node_distribution: the recipe's batch size
	sweepSplit      = 0.1   // validation fraction until the val_split stage
	sweepMaxEpochs  = 20    // the `rise` rule's cap
	sweepMinDelta   = 0.003 // the `rise` rule's val_loss tolerance
	shuffleBuffer   = 10000 // tf.data shuffle buffer
	initDefault     = "default"
	initHeGlorot    = "he_normal-glorot_uniform"
	optimizerAdam   = "adam"
	nodeTotalPerRow = 400 // node_distribution rows hold 2 x 400 nodes: the depth_width pick's width
)

// Picks is what the stages before a stage hand on to it: the winners so far, or, before
// the first stage, protocol.md's fixed settings.
type Picks struct {
	Hidden    []mlp.Layer // widths and activations (initializers are set from Init)
	Batch     int
	Split     float64
	Init      string // "default" or "he_normal-glorot_uniform"
	Optimizer string
}

func (p Picks) clone() Picks {
	p.Hidden = slices.Clone(p.Hidden)
	return p
}

// InitialPicks are the settings the first stage starts from (protocol.md: batch 100,
// adam, default init, split 0.1). Hidden is set by the depth_width stage itself.
func InitialPicks() Picks {
	return Picks{Batch: sweepBatch, Split: sweepSplit, Init: initDefault, Optimizer: optimizerAdam}
}

// apply returns the picks with the dimension stage varies taken from row: the settings
// that row's trial runs with, and, if row wins its stage, what the later stages inherit.
func apply(stage string, in Picks, r Row) (Picks, error) {
	p := in.clone()
	switch stage {
	case "depth_width":
		p.Hidden = nil
		for i := range r.Depth {
			act, err := kernels.ParseActivation(r.Acts[i])
			if err != nil {
				return p, fmt.Errorf("report-tables.csv row %s: %v", r.ID(), err)
			}
			p.Hidden = append(p.Hidden, mlp.Layer{Width: r.Widths[i], Act: act})
		}
	case "activations":
		// Layer 1 takes the row's first activation, every later layer the row's last one
		// (the report's rows are 2 layers; a deeper adaptive pick extends the pattern).
		if len(p.Hidden) == 0 {
			return p, fmt.Errorf("stage %s needs the depth_width pick", stage)
		}
		for i := range p.Hidden {
			act, err := kernels.ParseActivation(r.Acts[min(i, len(r.Acts)-1)])
			if err != nil {
				return p, fmt.Errorf("report-tables.csv row %s: %v", r.ID(), err)
			}
			p.Hidden[i].Act = act
		}
	case "node_distribution":
		// The report moves 100 nodes at a time between two layers of 400 (its depth_width
		// pick). An adaptive pick of another width scales the row's widths by width/400;
		// layers beyond the second take the row's second width.
		if len(p.Hidden) == 0 {
			return p, fmt.Errorf("stage %s needs the depth_width pick", stage)
		}
		scale := float64(p.Hidden[0].Width) / nodeTotalPerRow
		for i := range p.Hidden {
			w := int(math.Round(float64(r.Widths[min(i, len(r.Widths)-1)]) * scale))
			p.Hidden[i].Width = max(w, 1)
		}
	case "batch_size":
		p.Batch = r.Batch
	case "val_split":
		p.Split = r.Split
	case "initializer":
		p.Init = r.Initializer
	case "optimizer":
		p.Optimizer = r.Optimizer
	case "final":
	default:
		return p, fmt.Errorf("unknown stage %q: want one of %s", stage, strings.Join(Stages, ", "))
	}
	return p, nil
}

// stageConfig is the training configuration of one row's trial (seed and protocol not
// yet set): the row's picks plus the settings the stage fixes.
func stageConfig(stage string, p Picks, r Row) (mlp.Config, error) {
	c := mlp.DefaultConfig()
	var hidInit mlp.Init
	switch p.Init {
	case initDefault:
		hidInit = mlp.GlorotUniform
	case initHeGlorot:
		hidInit = mlp.HeNormal
	default:
		return c, fmt.Errorf("row %s: unknown initializer %q: want %s or %s", r.ID(), p.Init, initDefault, initHeGlorot)
	}
	c.Hidden = make([]mlp.Layer, len(p.Hidden))
	for i, l := range p.Hidden {
		c.Hidden[i] = mlp.Layer{Width: l.Width, Act: l.Act, Init: hidInit}
	}
	c.OutputInit = mlp.GlorotUniform
	c.Optimizer = mlp.Optimizer{Name: p.Optimizer}
	c.Batch = p.Batch
	c.Split = p.Split
	c.ShuffleBuffer = shuffleBuffer
	c.Seed = 0
	c.Protocol = mlp.Clean
	c.Threads = 0
	c.TestEachEpoch = stage == "batch_size" // it reports the best test accuracy over the epochs run
	if stage == "final" {
		c.Stop = mlp.Stop{Kind: mlp.StopNone}
		c.Epochs = r.StopEpoch // the report's final run: exactly 7 epochs
	} else {
		c.Stop = mlp.Stop{Kind: mlp.StopRise, MinDelta: sweepMinDelta}
		c.Epochs = sweepMaxEpochs
	}
	return c, nil
}

// Sweep is the report's tables as trial configurations.
type Sweep struct {
	rows    map[string][]Row // stage -> rows in table order
	chosen  map[string]Row   // stage -> the report's pick (every stage but final)
	ordered []Row
}

// NewSweep reads the embedded report-tables.csv and checks that it has every stage and
// one pick ("chosen") per stage except final.
func NewSweep() (*Sweep, error) {
	rows, err := ReportRows()
	if err != nil {
		return nil, err
	}
	return newSweep(rows)
}

func newSweep(rows []Row) (*Sweep, error) {
	s := &Sweep{rows: map[string][]Row{}, chosen: map[string]Row{}, ordered: rows}
	for _, r := range rows {
		if !slices.Contains(Stages, r.Stage) {
			return nil, fmt.Errorf("report-tables.csv row %s: unknown sweep %q: want one of %s", r.ID(), r.Stage, strings.Join(Stages, ", "))
		}
		s.rows[r.Stage] = append(s.rows[r.Stage], r)
		if r.Chosen() {
			if prev, dup := s.chosen[r.Stage]; dup {
				return nil, fmt.Errorf("report-tables.csv: stage %s has two chosen rows, %s and %s", r.Stage, prev.ID(), r.ID())
			}
			s.chosen[r.Stage] = r
		}
	}
	for _, st := range Stages {
		if len(s.rows[st]) == 0 {
			return nil, fmt.Errorf("report-tables.csv: no rows for stage %s", st)
		}
		if _, ok := s.chosen[st]; !ok && st != "final" {
			return nil, fmt.Errorf("report-tables.csv: stage %s has no row whose note starts with \"chosen\"", st)
		}
	}
	return s, nil
}

// Rows returns every row in file order.
func (s *Sweep) Rows() []Row { return slices.Clone(s.ordered) }

// StageRows returns the rows of one stage in table order.
func (s *Sweep) StageRows(stage string) []Row { return slices.Clone(s.rows[stage]) }

// ReportPick returns the row the report chose in stage (false for final).
func (s *Sweep) ReportPick(stage string) (Row, bool) {
	r, ok := s.chosen[stage]
	return r, ok
}

// RowConfig is one row and the configuration that reproduces it.
type RowConfig struct {
	Row    Row
	Config mlp.Config // Seed 0 and Protocol clean: the trial sets both
	Picks  Picks      // what the later stages inherit if this row wins
}

// StageConfigs returns the configuration of every row of stage, given the picks of the
// stages before it.
func (s *Sweep) StageConfigs(stage string, in Picks) ([]RowConfig, error) {
	rows, ok := s.rows[stage]
	if !ok {
		return nil, fmt.Errorf("unknown stage %q: want one of %s", stage, strings.Join(Stages, ", "))
	}
	out := make([]RowConfig, 0, len(rows))
	for _, r := range rows {
		p, err := apply(stage, in, r)
		if err != nil {
			return nil, err
		}
		c, err := stageConfig(stage, p, r)
		if err != nil {
			return nil, err
		}
		out = append(out, RowConfig{Row: r, Config: c, Picks: p})
	}
	return out, nil
}

// ReportOrderPicks returns, for every stage, the picks it starts from when each earlier
// stage hands on the report's own choice.
func (s *Sweep) ReportOrderPicks() (map[string]Picks, error) {
	in := InitialPicks()
	out := map[string]Picks{}
	for _, st := range Stages {
		out[st] = in.clone()
		if st == "final" {
			break
		}
		next, err := apply(st, in, s.chosen[st])
		if err != nil {
			return nil, err
		}
		in = next
	}
	return out, nil
}
