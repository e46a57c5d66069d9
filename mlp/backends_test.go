package mlp

import (
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// forEachBackend runs f as one subtest per backend this machine has, with that
// backend forced, and restores the previous backend afterwards.
func forEachBackend(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	prev := kernels.Backend()
	t.Cleanup(func() {
		if err := kernels.Use(prev); err != nil {
			t.Fatal(err)
		}
	})
	for _, name := range kernels.Backends() {
		if err := kernels.Use(name); err != nil {
			t.Fatalf("Use(%q): %v", name, err)
		}
		t.Run(name, f)
	}
}
