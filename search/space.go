package search

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

// The initializer schemes of the report: "default" is Keras's Dense default
// (glorot_uniform everywhere), "he_normal-glorot_uniform" is he_normal on the hidden
// layers and glorot_uniform on the softmax layer (protocol.md, "Model").
const (
	InitDefault  = "default"
	InitHeGlorot = "he_normal-glorot_uniform"
)

// DefaultShuffleBuffer is tf.data's shuffle buffer of the report's recipe (protocol.md).
const DefaultShuffleBuffer = 10000

// Space is what a search may try: every dimension the report tuned. A configuration
// draws, in this order, its depth, a width for each hidden layer (independently), an
// activation for each hidden layer (independently), its batch size, initializer scheme,
// optimizer and that optimizer's learning rate, stopping rule, most epochs and
// validation split. The report's staged grid is one instance (ReportGrid): every
// configuration of its 48 rows is in it.
type Space struct {
	Name        string               `json:"name,omitempty"`
	Depth       Param                `json:"depth"` // hidden layers
	Width       Param                `json:"width"` // units of each hidden layer
	Activations []kernels.Activation `json:"activations"`
	Batch       Param                `json:"batch"`
	Init        []string             `json:"init"` // InitDefault, InitHeGlorot
	Optimizers  []OptimizerSpace     `json:"optimizers"`
	// Stop lists the early-stopping rules (protocol.md, "Stopping"); MinDelta 0 means
	// the rule's default.
	Stop []mlp.Stop `json:"stop"`
	// Epochs is the most epochs of a training run. Random search draws it; successive
	// halving's rungs climb to its largest value.
	Epochs Param `json:"epochs"`
	Split  Param `json:"split"` // validation fraction
	// ShuffleBuffer is the tf.data buffer (0: full shuffle); nil means DefaultShuffleBuffer.
	ShuffleBuffer *int `json:"shuffle_buffer,omitempty"`
}

// OptimizerSpace is one optimizer and the learning rates it may use.
type OptimizerSpace struct {
	Name string `json:"name"`
	LR   Param  `json:"lr"`
}

// Limits of a space's dimensions (mlp enforces its own, larger ones).
const (
	maxDepth  = 16
	maxWidth  = 1 << 16
	maxBatch  = 1 << 16
	maxEpochs = 10000
)

// Validate checks every dimension; errors name the field as its JSON spells it.
func (s *Space) Validate() error {
	if err := s.Depth.validate("depth", true, 1, maxDepth); err != nil {
		return err
	}
	if err := s.Width.validate("width", true, 1, maxWidth); err != nil {
		return err
	}
	if len(s.Activations) == 0 {
		return errors.New("activations: expected at least one of relu, sigmoid, tanh, found none")
	}
	for i, a := range s.Activations {
		if a != kernels.ReLU && a != kernels.Sigmoid && a != kernels.Tanh {
			return fmt.Errorf("activations[%d]: expected relu, sigmoid or tanh, found %s", i, a)
		}
		if slices.Contains(s.Activations[:i], a) {
			return fmt.Errorf("activations[%d]: %s listed twice", i, a)
		}
	}
	if err := s.Batch.validate("batch", true, 1, maxBatch); err != nil {
		return err
	}
	if len(s.Init) == 0 {
		return fmt.Errorf("init: expected at least one of %s, %s, found none", InitDefault, InitHeGlorot)
	}
	for i, in := range s.Init {
		if in != InitDefault && in != InitHeGlorot {
			return fmt.Errorf("init[%d]: expected %s or %s, found %q", i, InitDefault, InitHeGlorot, in)
		}
		if slices.Contains(s.Init[:i], in) {
			return fmt.Errorf("init[%d]: %q listed twice", i, in)
		}
	}
	if len(s.Optimizers) == 0 {
		return errors.New("optimizers: expected at least one optimizer, found none")
	}
	for i, o := range s.Optimizers {
		f := fmt.Sprintf("optimizers[%d]", i)
		c := baseConfig()
		c.Optimizer = mlp.Optimizer{Name: o.Name}
		if err := c.Normalize(); err != nil {
			return fmt.Errorf("%s.name: %v", f, err)
		}
		for j := range i {
			if s.Optimizers[j].Name == o.Name {
				return fmt.Errorf("%s.name: %q listed twice", f, o.Name)
			}
		}
		if err := o.LR.validate(f+".lr", false, 1e-12, 100); err != nil {
			return err
		}
	}
	if len(s.Stop) == 0 {
		return errors.New("stop: expected at least one stopping rule, found none")
	}
	for i, st := range s.Stop {
		c := baseConfig()
		c.Stop = st
		if err := c.Normalize(); err != nil {
			return fmt.Errorf("stop[%d]: %v", i, err)
		}
	}
	if err := s.Epochs.validate("epochs", true, 1, maxEpochs); err != nil {
		return err
	}
	if err := s.Split.validate("split", false, 1e-6, 0.999); err != nil {
		return err
	}
	if s.ShuffleBuffer != nil && *s.ShuffleBuffer < 0 {
		return fmt.Errorf("shuffle_buffer: expected >= 0 (0: full shuffle), found %d", *s.ShuffleBuffer)
	}
	return nil
}

// baseConfig is a valid configuration the space's draws overwrite.
func baseConfig() mlp.Config {
	c := mlp.DefaultConfig()
	c.Protocol = mlp.Clean
	c.Threads = 0
	return c
}

func (s *Space) shuffleBuffer() int {
	if s.ShuffleBuffer == nil {
		return DefaultShuffleBuffer
	}
	return *s.ShuffleBuffer
}

// Sample returns candidate i of the search seeded with seed: a configuration drawn from
// the space by candidate i's own random stream, under the clean protocol, with its own
// training seed. The same (space, seed, i) gives the same configuration on every
// platform and Go version.
func (s *Space) Sample(seed uint64, i int) mlp.Config {
	r := streamRNG(seed, i)
	c := baseConfig()
	depth := int(s.Depth.draw(r, true))
	c.Hidden = make([]mlp.Layer, depth)
	for l := range c.Hidden {
		c.Hidden[l].Width = int(s.Width.draw(r, true))
	}
	for l := range c.Hidden {
		c.Hidden[l].Act = s.Activations[r.intn(len(s.Activations))]
	}
	c.Batch = int(s.Batch.draw(r, true))
	hid := mlp.GlorotUniform
	if s.Init[r.intn(len(s.Init))] == InitHeGlorot {
		hid = mlp.HeNormal
	}
	for l := range c.Hidden {
		c.Hidden[l].Init = hid
	}
	c.OutputInit = mlp.GlorotUniform
	o := s.Optimizers[r.intn(len(s.Optimizers))]
	c.Optimizer = mlp.Optimizer{Name: o.Name, LR: o.LR.draw(r, false)}
	c.Stop = s.Stop[r.intn(len(s.Stop))]
	c.Epochs = int(s.Epochs.draw(r, true))
	c.Split = s.Split.draw(r, false)
	c.ShuffleBuffer = s.shuffleBuffer()
	c.Seed = trainSeed(seed, i)
	return c
}

// InitScheme names the initializer scheme of cfg (InitDefault, InitHeGlorot), or
// returns an error when cfg mixes initializers in another way.
func InitScheme(cfg mlp.Config) (string, error) {
	if cfg.OutputInit != mlp.GlorotUniform && cfg.OutputInit != "default" {
		return "", fmt.Errorf("output_init: expected glorot_uniform, found %q", cfg.OutputInit)
	}
	glorot, he := 0, 0
	for _, l := range cfg.Hidden {
		switch l.Init {
		case mlp.GlorotUniform, "default":
			glorot++
		case mlp.HeNormal:
			he++
		}
	}
	switch {
	case glorot == len(cfg.Hidden):
		return InitDefault, nil
	case he == len(cfg.Hidden):
		return InitHeGlorot, nil
	}
	return "", fmt.Errorf("hidden[].init: expected glorot_uniform on every hidden layer or he_normal on every one, found a mix")
}

// Contains returns nil when cfg is a configuration the space can draw (any seed,
// protocol, threads and test-metrics setting), else an error naming the first
// dimension that is outside it.
func (s *Space) Contains(cfg mlp.Config) error {
	c := cfg
	c.Hidden = slices.Clone(cfg.Hidden)
	if err := c.Normalize(); err != nil {
		return err
	}
	if !s.Depth.contains(float64(len(c.Hidden))) {
		return fmt.Errorf("depth %d is not in %v", len(c.Hidden), s.Depth)
	}
	for i, l := range c.Hidden {
		if !s.Width.contains(float64(l.Width)) {
			return fmt.Errorf("hidden[%d].width %d is not in %v", i, l.Width, s.Width)
		}
		if !slices.Contains(s.Activations, l.Act) {
			return fmt.Errorf("hidden[%d].act %s is not in %v", i, l.Act, s.Activations)
		}
	}
	if !s.Batch.contains(float64(c.Batch)) {
		return fmt.Errorf("batch %d is not in %v", c.Batch, s.Batch)
	}
	scheme, err := InitScheme(c)
	if err != nil {
		return err
	}
	if !slices.Contains(s.Init, scheme) {
		return fmt.Errorf("init %s is not in %v", scheme, s.Init)
	}
	i := slices.IndexFunc(s.Optimizers, func(o OptimizerSpace) bool { return o.Name == c.Optimizer.Name })
	if i < 0 {
		return fmt.Errorf("optimizer %s is not in the space", c.Optimizer.Name)
	}
	if !s.Optimizers[i].LR.contains(c.Optimizer.LR) {
		return fmt.Errorf("optimizer %s lr %g is not in %v", c.Optimizer.Name, c.Optimizer.LR, s.Optimizers[i].LR)
	}
	// The space draws only the learning rate: every other constant is the default.
	ref := baseConfig()
	ref.Optimizer = mlp.Optimizer{Name: c.Optimizer.Name, LR: c.Optimizer.LR}
	if err := ref.Normalize(); err != nil || ref.Optimizer != c.Optimizer {
		return fmt.Errorf("optimizer %s: constants other than the defaults (%+v)", c.Optimizer.Name, c.Optimizer)
	}
	found := false
	for _, st := range s.Stop {
		n := c
		n.Stop = st
		if n.Normalize() == nil && n.Stop == c.Stop {
			found = true
			break
		}
	}
	if !found {
		return fmt.Errorf("stop %+v is not in the space", c.Stop)
	}
	if !s.Epochs.contains(float64(c.Epochs)) {
		return fmt.Errorf("epochs %d is not in %v", c.Epochs, s.Epochs)
	}
	if !s.Split.contains(c.Split) {
		return fmt.Errorf("split %g is not in %v", c.Split, s.Split)
	}
	if c.ShuffleBuffer != s.shuffleBuffer() {
		return fmt.Errorf("shuffle_buffer %d is not the space's %d", c.ShuffleBuffer, s.shuffleBuffer())
	}
	return nil
}

// ParseSpace reads a space from JSON; name (a file name) prefixes every error. Unknown
// fields are errors, so a typo cannot silently leave a dimension at its zero value.
func ParseSpace(r io.Reader, name string) (*Space, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Space
	if err := dec.Decode(&s); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := lineCol(data, se.Offset)
			return nil, fmt.Errorf("%s:%d:%d: not a search space: %v", name, line, col, err)
		case errors.As(err, &te):
			line, col := lineCol(data, te.Offset)
			return nil, fmt.Errorf("%s:%d:%d: %s: expected %s, found JSON %s", name, line, col, te.Field, te.Type, te.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			line, col := lineCol(data, int64(len(data)))
			return nil, fmt.Errorf("%s:%d:%d: not a search space: the JSON ends early", name, line, col)
		}
		return nil, fmt.Errorf("%s: not a search space: %v", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: not a search space: data after the JSON object", name)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

// LoadSpace reads a space from a JSON file.
func LoadSpace(path string) (*Space, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("search space: %w", err)
	}
	defer f.Close()
	return ParseSpace(f, path)
}

// JSON returns the space as indented JSON (what ParseSpace reads back).
func (s *Space) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	return append(b, '\n'), err
}

func lineCol(data []byte, off int64) (int, int) {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// Describe is a one-line summary of the space's dimensions.
func (s *Space) Describe() string {
	var acts, opts []string
	for _, a := range s.Activations {
		acts = append(acts, a.String())
	}
	for _, o := range s.Optimizers {
		opts = append(opts, fmt.Sprintf("%s lr %v", o.Name, o.LR))
	}
	var stops []string
	for _, st := range s.Stop {
		stops = append(stops, StopString(st))
	}
	return fmt.Sprintf("depth %v, width %v, activations %s, batch %v, init %s, %s, stop %s, epochs %v, split %v",
		s.Depth, s.Width, strings.Join(acts, "/"), s.Batch, strings.Join(s.Init, "/"), strings.Join(opts, "; "), strings.Join(stops, " | "), s.Epochs, s.Split)
}

// StopString names a stopping rule briefly: "rise 0.003", "patience 3 restore", "none".
func StopString(st mlp.Stop) string {
	switch st.Kind {
	case mlp.StopRise:
		d := st.MinDelta
		if d == 0 {
			d = mlp.DefaultMinDelta
		}
		return fmt.Sprintf("rise %g", d) + floor(st)
	case mlp.StopPatience:
		s := fmt.Sprintf("patience %d", st.Patience)
		if st.MinDelta != 0 {
			s += fmt.Sprintf(" Δ%g", st.MinDelta)
		}
		if st.RestoreBest {
			s += " restore"
		}
		return s + floor(st)
	}
	return string(st.Kind)
}

func floor(st mlp.Stop) string {
	if st.LossFloor > 0 {
		return fmt.Sprintf(" floor %g", st.LossFloor)
	}
	return ""
}
