package search

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

// splitmix64 seeded with 0 gives 0xe220a8397b1dcdaf first (the reference sequence of
// Vigna's splitmix64.c), then 0x6e789e6aa1b965f4.
func TestSplitmix64Reference(t *testing.T) {
	r := &rng{}
	if a, b := r.next(), r.next(); a != 0xe220a8397b1dcdaf || b != 0x6e789e6aa1b965f4 {
		t.Fatalf("splitmix64(0) = %#x, %#x", a, b)
	}
}

// The report's grid is an instance of the space type: every configuration of its 48
// rows (as the harness trains them) is in it, and every value it lists is used by at
// least one row, so it is exactly the grid's values per dimension.
func TestReportGridIsAnInstance(t *testing.T) {
	g := ReportGrid()
	rcs, err := gridConfigs()
	if err != nil {
		t.Fatal(err)
	}
	if len(rcs) != 48 {
		t.Fatalf("%d rows", len(rcs))
	}
	used := map[string]map[any]bool{}
	use := func(dim string, v any) {
		if used[dim] == nil {
			used[dim] = map[any]bool{}
		}
		used[dim][v] = true
	}
	for _, rc := range rcs {
		c := rc.Config
		if err := g.Contains(c); err != nil {
			t.Errorf("row %s is not in the report-grid space: %v", rc.Row.ID(), err)
		}
		if err := c.Normalize(); err != nil {
			t.Fatal(err)
		}
		use("depth", float64(len(c.Hidden)))
		for _, l := range c.Hidden {
			use("width", float64(l.Width))
			use("act", l.Act)
		}
		use("batch", float64(c.Batch))
		scheme, _ := InitScheme(c)
		use("init", scheme)
		use("lr "+c.Optimizer.Name, c.Optimizer.LR)
		use("stop", c.Stop.Kind)
		use("epochs", float64(c.Epochs))
		use("split", c.Split)
	}
	check := func(dim string, vals []any) {
		for _, v := range vals {
			if !used[dim][v] {
				t.Errorf("report-grid lists %s %v, which no row of the report uses", dim, v)
			}
		}
		if len(used[dim]) != len(vals) {
			t.Errorf("%s: rows use %d values, the space lists %d", dim, len(used[dim]), len(vals))
		}
	}
	floats := func(p Param) []any {
		var out []any
		for _, v := range p.Values {
			out = append(out, v)
		}
		return out
	}
	check("depth", floats(g.Depth))
	check("width", floats(g.Width))
	var acts, inits, stops []any
	for _, a := range g.Activations {
		acts = append(acts, a)
	}
	for _, s := range g.Init {
		inits = append(inits, s)
	}
	for _, s := range g.Stop {
		stops = append(stops, s.Kind)
	}
	check("act", acts)
	check("init", inits)
	check("stop", stops)
	check("batch", floats(g.Batch))
	check("epochs", floats(g.Epochs))
	check("split", floats(g.Split))
	for _, o := range g.Optimizers {
		check("lr "+o.Name, floats(o.LR))
	}
	// A configuration outside the grid is rejected, naming the dimension.
	c := rcs[0].Config
	c.Hidden = slices.Clone(c.Hidden)
	c.Hidden[1].Width = 64
	if err := g.Contains(c); err == nil || !strings.Contains(err.Error(), "hidden[1].width 64") {
		t.Errorf("width 64: %v", err)
	}
}

// The default space is the issue's: depth 1-4, width 10-784 log-scaled, relu/sigmoid/
// tanh per layer, the report's batch sizes, both initializers, the four optimizers with
// log-scaled learning rates, rise and patience stopping, one validation split.
func TestDefaultSpace(t *testing.T) {
	s := DefaultSpace()
	if !reflect.DeepEqual(s.Depth, Range(1, 4, false)) || !reflect.DeepEqual(s.Width, Range(10, 784, true)) {
		t.Errorf("depth %v, width %v", s.Depth, s.Width)
	}
	if !reflect.DeepEqual(s.Activations, []kernels.Activation{kernels.ReLU, kernels.Sigmoid, kernels.Tanh}) {
		t.Errorf("activations %v", s.Activations)
	}
	var names []string
	for _, o := range s.Optimizers {
		names = append(names, o.Name)
		if !o.LR.Log || o.LR.Min <= 0 {
			t.Errorf("%s: lr %v is not log-scaled", o.Name, o.LR)
		}
	}
	if !reflect.DeepEqual(names, []string{"adam", "sgd", "adagrad", "rmsprop"}) {
		t.Errorf("optimizers %v", names)
	}
	kinds := map[mlp.StopKind]bool{}
	for _, st := range s.Stop {
		kinds[st.Kind] = true
	}
	if !kinds[mlp.StopRise] || !kinds[mlp.StopPatience] {
		t.Errorf("stop rules %v", s.Stop)
	}
	if len(s.Split.Values) != 1 {
		t.Errorf("split %v", s.Split)
	}
}

// Built-in spaces survive a JSON round trip.
func TestSpaceJSONRoundTrip(t *testing.T) {
	for _, name := range SpaceNames() {
		s, err := BuiltinSpace(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.JSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSpace(strings.NewReader(string(b)), name)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		if !reflect.DeepEqual(s, back) {
			t.Errorf("%s: round trip differs:\n%+v\n%+v", name, s, back)
		}
	}
	if _, err := BuiltinSpace("nope"); err == nil || !strings.Contains(err.Error(), "report, report-grid") {
		t.Errorf("unknown built-in: %v", err)
	}
}

// Sampling is a function of (space, seed, candidate): the same arguments give the same
// configuration, every sample is in the space, and the log-scaled dimensions are
// uniform in log space (half the widths below the geometric mean of 10 and 784).
func TestSample(t *testing.T) {
	s := DefaultSpace()
	if !reflect.DeepEqual(s.Sample(7, 3), s.Sample(7, 3)) {
		t.Fatal("the same candidate differs")
	}
	if reflect.DeepEqual(s.Sample(7, 3), s.Sample(7, 4)) || reflect.DeepEqual(s.Sample(7, 3), s.Sample(8, 3)) {
		t.Fatal("different candidates or seeds give the same configuration")
	}
	const n = 4000
	below, widths := 0, 0
	depths := map[int]int{}
	seeds := map[uint64]bool{}
	for i := range n {
		c := s.Sample(1, i)
		if err := s.Contains(c); err != nil {
			t.Fatalf("candidate %d is outside the space: %v", i, err)
		}
		if c.Protocol != mlp.Clean || c.TestEachEpoch || c.Seed >= 1<<53 {
			t.Fatalf("candidate %d: protocol %s, test each epoch %v, seed %d", i, c.Protocol, c.TestEachEpoch, c.Seed)
		}
		seeds[c.Seed] = true
		depths[len(c.Hidden)]++
		for _, l := range c.Hidden {
			widths++
			if float64(l.Width) < math.Sqrt(10*784) {
				below++
			}
		}
	}
	if f := float64(below) / float64(widths); math.Abs(f-0.5) > 0.03 {
		t.Errorf("%.3f of the widths are below the geometric mean, want 0.5 (log-uniform)", f)
	}
	for d := 1; d <= 4; d++ {
		if f := float64(depths[d]) / n; math.Abs(f-0.25) > 0.03 {
			t.Errorf("depth %d: %.3f of the samples, want 0.25", d, f)
		}
	}
	if len(seeds) != n {
		t.Errorf("%d distinct training seeds for %d candidates", len(seeds), n)
	}
}

// Bad spaces are rejected with the file, the field, what was expected and what was found.
func TestParseSpaceErrors(t *testing.T) {
	good := `{"depth":{"min":1,"max":2},"width":{"values":[8,16]},"activations":["relu"],"batch":{"values":[32]},"init":["default"],` +
		`"optimizers":[{"name":"adam","lr":{"min":0.0001,"max":0.01,"log":true}}],"stop":[{"kind":"rise"}],"epochs":{"values":[5]},"split":{"values":[0.1]}}`
	if _, err := ParseSpace(strings.NewReader(good), "good.json"); err != nil {
		t.Fatalf("good space: %v", err)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"depth":{"min":1,"max":2}`, `"depth":{"min":3,"max":2}`, "bad.json: depth: expected min <= max, found min 3 > max 2"},
		{`"depth":{"min":1,"max":2}`, `"depth":{"min":1.5,"max":2}`, "depth: expected min a whole number, found 1.5"},
		{`"depth":{"min":1,"max":2}`, `"depth":{}`, `depth: expected "values" or a range "min".."max", found neither`},
		{`"width":{"values":[8,16]}`, `"width":{"values":[8,8]}`, "width: expected distinct values, found 8 listed twice"},
		{`"width":{"values":[8,16]}`, `"width":{"values":[8],"max":9}`, `width: expected either "values" or "min"/"max"/"log", not both`},
		{`"width":{"values":[8,16]}`, `"width":{"min":0,"max":9,"log":true}`, "width: expected min in [1, 65536], found 0"},
		{`"activations":["relu"]`, `"activations":["softmax"]`, `unknown activation "softmax"`},
		{`"activations":["relu"]`, `"activations":[]`, "activations: expected at least one of relu, sigmoid, tanh, found none"},
		{`"init":["default"]`, `"init":["he_normal"]`, `init[0]: expected default or he_normal-glorot_uniform, found "he_normal"`},
		{`"name":"adam"`, `"name":"adamw"`, "optimizers[0].name"},
		{`"log":true}}]`, `"log":true}},{"name":"adam","lr":{"values":[0.1]}}]`, `optimizers[1].name: "adam" listed twice`},
		{`"min":0.0001,"max":0.01,"log":true`, `"min":-1,"max":0.01`, "optimizers[0].lr: expected min in [1e-12, 100], found -1"},
		{`"stop":[{"kind":"rise"}]`, `"stop":[{"kind":"soon"}]`, "stop[0]"},
		{`"stop":[{"kind":"rise"}]`, `"stop":[]`, "stop: expected at least one stopping rule, found none"},
		{`"split":{"values":[0.1]}`, `"split":{"values":[1.5]}`, "split: expected values[0] in [1e-06, 0.999], found 1.5"},
		{`"epochs":{"values":[5]}`, `"epochs":{"values":[5]},"epoch":3`, `unknown field "epoch"`},
		{`"batch":{"values":[32]}`, `"batch":{"values":"32"}`, "bad.json:1:"},
		{`"batch":{"values":[32]}`, `"batch":{"values":[32]`, "bad.json:1:"},
	} {
		bad := strings.Replace(good, c.from, c.to, 1)
		if bad == good {
			t.Fatalf("%q not in the good space", c.from)
		}
		_, err := ParseSpace(strings.NewReader(bad), "bad.json")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bad.json") {
			t.Errorf("%s -> %s: error %v, want %q", c.from, c.to, err, c.want)
		}
	}
}
