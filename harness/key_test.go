package harness

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/simdmlp/simdmlp/mlp"
)

// The canonical JSON of the report's final configuration, written out by hand from
// protocol.md's final row and Keras's adam defaults: if the canonical form changes,
// every stored result's key changes, so this must fail loudly.
const finalCanonical = `{"hidden":[{"width":600,"act":"relu","init":"he_normal"},{"width":200,"act":"relu","init":"he_normal"}],"output_init":"glorot_uniform","optimizer":{"name":"adam","lr":0.001,"beta1":0.9,"beta2":0.999,"eps":1e-7},"batch":64,"epochs":7,"split":0.1,"protocol":"clean","shuffle_buffer":10000,"stop":{"kind":"none","min_delta":0},"seed":1}`

func TestTrialKeyStable(t *testing.T) {
	c := mlp.DefaultConfig()
	c.Threads = 2 // threads are not part of the experiment
	b, err := CanonicalConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != finalCanonical {
		t.Fatalf("canonical config\n got %s\nwant %s", b, finalCanonical)
	}
	sum := sha256.Sum256([]byte("simdmlp trial v1\n" + finalCanonical + "\nabc"))
	want := hex.EncodeToString(sum[:])[:16]
	key, err := TrialKey(c, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if key != want {
		t.Fatalf("key %s, want %s", key, want)
	}
	// Unnormalized and normalized forms of one configuration have one key.
	n := mlp.DefaultConfig()
	if err := n.Normalize(); err != nil {
		t.Fatal(err)
	}
	if k2, _ := TrialKey(n, "abc"); k2 != key {
		t.Errorf("normalized config key %s != %s", k2, key)
	}
	// Seed, protocol and any setting change it.
	for name, mut := range map[string]func(*mlp.Config){
		"seed":     func(c *mlp.Config) { c.Seed = 2 },
		"protocol": func(c *mlp.Config) { c.Protocol = mlp.Report },
		"lr":       func(c *mlp.Config) { c.Optimizer.LR = 0.002 },
		"width":    func(c *mlp.Config) { c.Hidden[1].Width = 201 },
		"test":     func(c *mlp.Config) { c.TestEachEpoch = true },
	} {
		m := mlp.DefaultConfig()
		mut(&m)
		if k, _ := TrialKey(m, "abc"); k == key {
			t.Errorf("changing %s does not change the key", name)
		}
	}
	if _, err := TrialKey(mlp.Config{}, "abc"); err == nil {
		t.Error("an invalid config has a key")
	}
}

func TestFloatJSON(t *testing.T) {
	for _, x := range []float64{0, 0.9814, 1e-7, -3.5, math.NaN(), math.Inf(1), math.Inf(-1)} {
		b, err := Float(x).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var y Float
		if err := y.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		if !(float64(y) == x || math.IsNaN(x) && math.IsNaN(float64(y))) {
			t.Errorf("%v -> %s -> %v", x, b, y)
		}
	}
	var y Float
	if err := y.UnmarshalJSON([]byte(`"nan"`)); err == nil {
		t.Error(`"nan" accepted`)
	}
}

// The embedded tables are the reference files, byte for byte.
func TestEmbeddedReferenceMatchesShared(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "reference")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("reference folder %s not present beside the checkout: %v", dir, err)
	}
	for name, emb := range map[string][]byte{"report-tables.csv": reportTablesCSV, "report-curves.csv": reportCurvesCSV} {
		ref, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ref, emb) {
			t.Errorf("embedded %s differs from %s", name, filepath.Join(dir, name))
		}
	}
}

func TestReportCurves(t *testing.T) {
	pts, err := ReportCurves()
	if err != nil {
		t.Fatal(err)
	}
	// report-curves.csv: 65 log lines (12 + 9 + 10 + 13 + 14 for the batch sizes, 7 final).
	count := map[string]int{}
	for _, p := range pts {
		count[p.Run]++
	}
	want := map[string]int{"batch32": 12, "batch64": 9, "batch128": 10, "batch256": 13, "batch512": 14, "final": 7}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%s: %d lines, want %d", k, count[k], v)
		}
	}
	if len(pts) != 65 {
		t.Errorf("%d lines, want 65", len(pts))
	}
}
