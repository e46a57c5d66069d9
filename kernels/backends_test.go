package kernels_test

import (
	"slices"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// forEachBackend runs f once per backend this machine has, as a subtest named after
// the backend, with that backend forced, and restores the previous one afterwards.
// Each subtest logs the backend it ran on, so `go test -v` shows what was covered.
func forEachBackend(t testing.TB, f func(t testing.TB, name string)) {
	prev := kernels.Backend()
	defer func() {
		if err := kernels.Use(prev); err != nil {
			t.Fatal(err)
		}
	}()
	for _, name := range kernels.Backends() {
		if err := kernels.Use(name); err != nil {
			t.Fatalf("Use(%q): %v", name, err)
		}
		switch tt := t.(type) {
		case *testing.T:
			tt.Run(name, func(t *testing.T) {
				t.Logf("backend %s", kernels.Backend())
				f(t, name)
			})
		case *testing.B:
			tt.Run(name, func(b *testing.B) { f(b, name) })
		default:
			f(t, name)
		}
	}
}

func TestUseRejectsUnknownAndUnavailable(t *testing.T) {
	prev := kernels.Backend()
	defer func() { _ = kernels.Use(prev) }()
	if err := kernels.Use("sse9"); err == nil {
		t.Fatal("Use(sse9) succeeded, want an error")
	}
	if got := kernels.Backend(); got != prev {
		t.Fatalf("a failed Use changed the backend from %q to %q", prev, got)
	}
	if err := kernels.Use("generic"); err != nil {
		t.Fatalf("Use(generic): %v", err)
	}
	if got := kernels.Backend(); got != "generic" {
		t.Fatalf("Backend() = %q after Use(generic)", got)
	}
}

func TestBackendsListsGeneric(t *testing.T) {
	names := kernels.Backends()
	if !slices.Contains(names, "generic") {
		t.Fatalf("Backends() = %v, want generic among them", names)
	}
	t.Logf("backends on this machine, fastest first: %v", names)
}
