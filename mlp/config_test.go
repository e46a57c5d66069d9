package mlp

import (
	"errors"
	"math"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

func TestDefaultConfigNormalizes(t *testing.T) {
	c := DefaultConfig()
	if err := c.Normalize(); err != nil {
		t.Fatal(err)
	}
	o := c.Optimizer
	if o.Name != "adam" || o.LR != 0.001 || o.Beta1 != 0.9 || o.Beta2 != 0.999 || o.Eps != 1e-7 {
		t.Errorf("adam defaults: %+v", o)
	}
	if len(c.Hidden) != 2 || c.Hidden[0] != (Layer{600, kernels.ReLU, HeNormal}) || c.Hidden[1] != (Layer{200, kernels.ReLU, HeNormal}) ||
		c.OutputInit != GlorotUniform || c.Batch != 64 || c.Epochs != 7 || c.Split != 0.1 || c.Protocol != Clean ||
		c.ShuffleBuffer != 10000 || c.Stop.Kind != StopNone || c.Seed != 1 {
		t.Errorf("DefaultConfig is not the report's final configuration: %+v", c)
	}
	// Normalize is idempotent.
	d := c
	if err := d.Normalize(); err != nil || d.Optimizer != c.Optimizer {
		t.Errorf("second Normalize: %v, %+v", err, d.Optimizer)
	}
}

func TestOptimizerDefaults(t *testing.T) {
	for _, c := range []struct {
		in   Optimizer
		want Optimizer
	}{
		{Optimizer{Name: "sgd"}, Optimizer{Name: "sgd", LR: 0.01}},
		{Optimizer{Name: "adagrad"}, Optimizer{Name: "adagrad", LR: 0.001, InitialAccumulator: 0.1, Eps: 1e-7}},
		{Optimizer{Name: "rmsprop"}, Optimizer{Name: "rmsprop", LR: 0.001, Rho: 0.9, Eps: 1e-7}},
		{Optimizer{Name: "adam", LR: 0.01}, Optimizer{Name: "adam", LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-7}},
	} {
		cfg := DefaultConfig()
		cfg.Optimizer = c.in
		if err := cfg.Normalize(); err != nil {
			t.Errorf("%+v: %v", c.in, err)
			continue
		}
		if cfg.Optimizer != c.want {
			t.Errorf("%+v normalized to %+v, want %+v", c.in, cfg.Optimizer, c.want)
		}
	}
}

// TestConfigErrors: each bad setting is an error naming the field, what is accepted
// and what was found.
func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Batch = 0 }, "batch: want >= 1, got 0"},
		{func(c *Config) { c.Batch = -3 }, "batch: want >= 1, got -3"},
		{func(c *Config) { c.Split = 1 }, "split: want 0 < split < 1, got 1"},
		{func(c *Config) { c.Split = 0 }, "split: want 0 < split < 1, got 0"},
		{func(c *Config) { c.Split = math.NaN() }, "split: want 0 < split < 1, got NaN"},
		{func(c *Config) { c.Hidden[1].Width = 0 }, "hidden[1].width: want >= 1, got 0"},
		{func(c *Config) { c.Hidden[0].Width = 1 << 30 }, "hidden[0].width: want <= 1048576, got 1073741824"},
		{func(c *Config) { c.Hidden[0].Act = kernels.Identity }, `hidden[0].act: want relu, sigmoid or tanh, got "identity"`},
		{func(c *Config) { c.Hidden[1].Init = "zeros" }, `hidden[1].init: want glorot_uniform, he_normal or default, got "zeros"`},
		{func(c *Config) { c.OutputInit = "" }, `output_init: want glorot_uniform, he_normal or default, got ""`},
		{func(c *Config) { c.Optimizer.Name = "adamw" }, `optimizer.name: want adam, sgd, adagrad or rmsprop, got "adamw"`},
		{func(c *Config) { c.Optimizer.LR = -0.1 }, "optimizer.lr: want a finite number > 0, got -0.1"},
		{func(c *Config) { c.Optimizer.LR = math.Inf(1) }, "optimizer.lr: want a finite number > 0, got +Inf"},
		{func(c *Config) { c.Optimizer.Beta1 = 1 }, "optimizer.beta1: want 0 < beta1 < 1, got 1"},
		{func(c *Config) { c.Optimizer.Beta2 = 1.5 }, "optimizer.beta2: want 0 < beta2 < 1, got 1.5"},
		{func(c *Config) { c.Optimizer.Eps = -1 }, "optimizer.eps: want a finite number > 0, got -1"},
		{func(c *Config) { c.Optimizer.Rho = 0.9 }, "optimizer.rho: want unset (0): adam has no rho, got 0.9"},
		{func(c *Config) { c.Optimizer = Optimizer{Name: "sgd", Beta1: 0.9} }, "optimizer.beta1: want unset (0): sgd has no beta1, got 0.9"},
		{func(c *Config) { c.Optimizer = Optimizer{Name: "rmsprop", Rho: 1} }, "optimizer.rho: want 0 < rho < 1, got 1"},
		{func(c *Config) { c.Optimizer = Optimizer{Name: "adagrad", InitialAccumulator: -1} }, "optimizer.initial_accumulator: want a finite number > 0, got -1"},
		{func(c *Config) { c.Optimizer.EpsOutside = true }, "optimizer.eps_outside: want false (only adagrad and rmsprop have the choice; adam's eps is always outside), got true"},
		{func(c *Config) { c.Epochs = 0 }, "epochs: want >= 1, got 0"},
		{func(c *Config) { c.Protocol = "leaky" }, `protocol: want clean or report, got "leaky"`},
		{func(c *Config) { c.ShuffleBuffer = -1 }, "shuffle_buffer: want >= 0 (0 = full shuffle) and <= 1073741824, got -1"},
		{func(c *Config) { c.Stop.Kind = "never" }, `stop.kind: want rise, patience or none, got "never"`},
		{func(c *Config) { c.Stop = Stop{Kind: StopRise, MinDelta: -0.1} }, "stop.min_delta: want a finite number >= 0, got -0.1"},
		{func(c *Config) { c.Stop = Stop{Kind: StopPatience, Patience: -1} }, "stop.patience: want >= 0, got -1"},
		{func(c *Config) { c.Stop = Stop{Kind: StopRise, Patience: 3} }, "stop.patience: want unset (0): only stop patience uses it, stop is rise, got 3"},
		{func(c *Config) { c.Stop.RestoreBest = true }, "stop.restore_best: want false: only stop patience restores, stop is none, got true"},
		{func(c *Config) { c.Stop.LossFloor = -1 }, "stop.loss_floor: want a finite number >= 0 (0 = off), got -1"},
		{func(c *Config) { c.Threads = -2 }, "threads: want >= 0 (0 = all available), got -2"},
	} {
		cfg := DefaultConfig()
		c.mut(&cfg)
		err := cfg.Normalize()
		if err == nil {
			t.Errorf("no error, want %q", c.want)
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%v: not a *FieldError", err)
		}
		if err.Error() != c.want {
			t.Errorf("error %q\n            want %q", err, c.want)
		}
	}
}

func TestInitDefaultAlias(t *testing.T) {
	c := DefaultConfig()
	c.Hidden[0].Init, c.OutputInit = "default", "default"
	if err := c.Normalize(); err != nil {
		t.Fatal(err)
	}
	if c.Hidden[0].Init != GlorotUniform || c.OutputInit != GlorotUniform {
		t.Errorf("default init became %q, %q", c.Hidden[0].Init, c.OutputInit)
	}
}
