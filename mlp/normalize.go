package mlp

import (
	"fmt"
	"math"
	"strconv"

	"github.com/simdmlp/simdmlp/kernels"
)

// FieldError is a configuration value that cannot be trained with. Field is the
// setting's path as its JSON names spell it ("batch", "hidden[1].width",
// "optimizer.lr"), so a front end can map it back to its own flag names.
type FieldError struct {
	Field string
	Want  string // what is accepted, e.g. ">= 1"
	Got   string // the value found
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: want %s, got %s", e.Field, e.Want, e.Got)
}

func fieldErr(field, want string, got any) error {
	var g string
	switch v := got.(type) {
	case string:
		g = strconv.Quote(v)
	case float64:
		g = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		g = fmt.Sprint(v)
	}
	return &FieldError{Field: field, Want: want, Got: g}
}

// Keras's optimizer defaults (protocol.md).
const (
	defaultAdamLR      = 0.001
	defaultBeta1       = 0.9
	defaultBeta2       = 0.999
	defaultEps         = 1e-7
	defaultSGDLR       = 0.01
	defaultAdagradLR   = 0.001
	defaultInitialAcc  = 0.1
	defaultRMSPropLR   = 0.001
	defaultRho         = 0.9
	maxWidth           = 1 << 20 // far above any MLP of this study; stops absurd allocations
	maxEpochs          = 1 << 20
	maxBatch           = 1 << 20
	maxHiddenLayers    = 64
	maxShuffleBuffer   = 1 << 30
	optimizerNamesWant = "adam, sgd, adagrad or rmsprop"
)

// Normalize fills the defaults the zero values stand for and then validates every
// setting. Defaults: the optimizer constants left zero get the Keras defaults of the
// optimizer named (adam: lr 0.001, beta1 0.9, beta2 0.999, eps 1e-7; sgd: lr 0.01;
// adagrad: lr 0.001, initial accumulator 0.1, eps 1e-7; rmsprop: lr 0.001, rho 0.9,
// eps 1e-7); the rise rule's MinDelta left zero becomes DefaultMinDelta (patience
// keeps zero, Keras's EarlyStopping default); the initializer name "default" becomes
// glorot_uniform. The first invalid setting is returned as a *FieldError; constants
// of an optimizer other than the one named are errors, not silently ignored.
func (c *Config) Normalize() error {
	if len(c.Hidden) > maxHiddenLayers {
		return fieldErr("hidden", fmt.Sprintf("at most %d layers", maxHiddenLayers), len(c.Hidden))
	}
	for i := range c.Hidden {
		l := &c.Hidden[i]
		f := fmt.Sprintf("hidden[%d]", i)
		if err := intRange(f+".width", l.Width, 1, maxWidth); err != nil {
			return err
		}
		switch l.Act {
		case kernels.ReLU, kernels.Sigmoid, kernels.Tanh:
		default:
			return fieldErr(f+".act", "relu, sigmoid or tanh", l.Act.String())
		}
		if err := normalizeInit(&l.Init, f+".init"); err != nil {
			return err
		}
	}
	if err := normalizeInit(&c.OutputInit, "output_init"); err != nil {
		return err
	}
	if err := c.Optimizer.normalize(); err != nil {
		return err
	}
	if err := intRange("batch", c.Batch, 1, maxBatch); err != nil {
		return err
	}
	if err := intRange("epochs", c.Epochs, 1, maxEpochs); err != nil {
		return err
	}
	if !(c.Split > 0 && c.Split < 1) {
		return fieldErr("split", "0 < split < 1", c.Split)
	}
	switch c.Protocol {
	case Clean, Report:
	default:
		return fieldErr("protocol", "clean or report", string(c.Protocol))
	}
	if c.ShuffleBuffer < 0 || c.ShuffleBuffer > maxShuffleBuffer {
		return fieldErr("shuffle_buffer", fmt.Sprintf(">= 0 (0 = full shuffle) and <= %d", maxShuffleBuffer), c.ShuffleBuffer)
	}
	if err := c.Stop.normalize(); err != nil {
		return err
	}
	if c.Threads < 0 {
		return fieldErr("threads", ">= 0 (0 = all available)", c.Threads)
	}
	return nil
}

// intRange checks lo <= v <= hi; the upper bounds only stop absurd allocations.
func intRange(field string, v, lo, hi int) error {
	if v < lo {
		return fieldErr(field, fmt.Sprintf(">= %d", lo), v)
	}
	if v > hi {
		return fieldErr(field, fmt.Sprintf("<= %d", hi), v)
	}
	return nil
}

func normalizeInit(in *Init, field string) error {
	switch *in {
	case GlorotUniform, HeNormal:
		return nil
	case "default":
		*in = GlorotUniform
		return nil
	}
	return fieldErr(field, "glorot_uniform, he_normal or default", string(*in))
}

// finitePositive reports whether x is a finite number > 0 (false for NaN).
func finitePositive(x float64) bool { return x > 0 && !math.IsInf(x, 1) }

func (o *Optimizer) normalize() error {
	def := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	// unused rejects a constant that the named optimizer does not have.
	unused := func(field string, v float64) error {
		if v != 0 {
			return fieldErr("optimizer."+field, fmt.Sprintf("unset (0): %s has no %s", o.Name, field), v)
		}
		return nil
	}
	var errs []error
	switch o.Name {
	case "adam":
		def(&o.LR, defaultAdamLR)
		def(&o.Beta1, defaultBeta1)
		def(&o.Beta2, defaultBeta2)
		def(&o.Eps, defaultEps)
		errs = append(errs, unused("rho", o.Rho), unused("initial_accumulator", o.InitialAccumulator))
		if o.EpsOutside {
			errs = append(errs, fieldErr("optimizer.eps_outside", "false (only adagrad and rmsprop have the choice; adam's eps is always outside)", true))
		}
	case "sgd":
		def(&o.LR, defaultSGDLR)
		errs = append(errs, unused("beta1", o.Beta1), unused("beta2", o.Beta2), unused("eps", o.Eps),
			unused("rho", o.Rho), unused("initial_accumulator", o.InitialAccumulator))
		if o.EpsOutside {
			errs = append(errs, fieldErr("optimizer.eps_outside", "false (only adagrad and rmsprop have the choice; sgd has no eps)", true))
		}
	case "adagrad":
		def(&o.LR, defaultAdagradLR)
		def(&o.InitialAccumulator, defaultInitialAcc)
		def(&o.Eps, defaultEps)
		errs = append(errs, unused("beta1", o.Beta1), unused("beta2", o.Beta2), unused("rho", o.Rho))
	case "rmsprop":
		def(&o.LR, defaultRMSPropLR)
		def(&o.Rho, defaultRho)
		def(&o.Eps, defaultEps)
		errs = append(errs, unused("beta1", o.Beta1), unused("beta2", o.Beta2), unused("initial_accumulator", o.InitialAccumulator))
	default:
		return fieldErr("optimizer.name", optimizerNamesWant, o.Name)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if !finitePositive(o.LR) {
		return fieldErr("optimizer.lr", "a finite number > 0", o.LR)
	}
	if o.Name == "adam" {
		if !(o.Beta1 > 0 && o.Beta1 < 1) {
			return fieldErr("optimizer.beta1", "0 < beta1 < 1", o.Beta1)
		}
		if !(o.Beta2 > 0 && o.Beta2 < 1) {
			return fieldErr("optimizer.beta2", "0 < beta2 < 1", o.Beta2)
		}
	}
	if o.Name == "rmsprop" && !(o.Rho > 0 && o.Rho < 1) {
		return fieldErr("optimizer.rho", "0 < rho < 1", o.Rho)
	}
	if o.Name == "adagrad" && !(o.InitialAccumulator > 0 && !math.IsInf(o.InitialAccumulator, 1)) {
		return fieldErr("optimizer.initial_accumulator", "a finite number > 0", o.InitialAccumulator)
	}
	if o.Name != "sgd" && !finitePositive(o.Eps) {
		return fieldErr("optimizer.eps", "a finite number > 0", o.Eps)
	}
	return nil
}

func (s *Stop) normalize() error {
	switch s.Kind {
	case StopRise:
		if s.MinDelta == 0 {
			s.MinDelta = DefaultMinDelta
		}
	case StopPatience, StopNone:
	default:
		return fieldErr("stop.kind", "rise, patience or none", string(s.Kind))
	}
	if !(s.MinDelta >= 0 && !math.IsInf(s.MinDelta, 1)) {
		return fieldErr("stop.min_delta", "a finite number >= 0", s.MinDelta)
	}
	if s.Kind == StopNone && s.MinDelta != 0 {
		return fieldErr("stop.min_delta", "unset (0): stop none has no min_delta", s.MinDelta)
	}
	if s.Patience < 0 {
		return fieldErr("stop.patience", ">= 0", s.Patience)
	}
	if s.Kind != StopPatience && s.Patience != 0 {
		return fieldErr("stop.patience", fmt.Sprintf("unset (0): only stop patience uses it, stop is %s", s.Kind), s.Patience)
	}
	if s.Kind != StopPatience && s.RestoreBest {
		return fieldErr("stop.restore_best", fmt.Sprintf("false: only stop patience restores, stop is %s", s.Kind), true)
	}
	if !(s.LossFloor >= 0 && !math.IsInf(s.LossFloor, 1)) {
		return fieldErr("stop.loss_floor", "a finite number >= 0 (0 = off)", s.LossFloor)
	}
	return nil
}
