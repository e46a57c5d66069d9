package kernels_test

import (
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// forEachBackend runs f once per backend this machine has, as a subtest named after
// the backend, with that backend forced, and restores the previous one afterwards.
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
			tt.Run(name, func(t *testing.T) { f(t, name) })
		case *testing.B:
			tt.Run(name, func(b *testing.B) { f(b, name) })
		default:
			f(t, name)
		}
	}
}

func TestUseRejectsUnknownAndUnavailable(t *testing.T) {
	if err := kernels.Use("sse9"); err == nil {
		t.Fatal("Use(sse9) succeeded, want an error")
	}
	if err := kernels.Use("generic"); err != nil {
		t.Fatalf("Use(generic): %v", err)
	}
	if got := kernels.Backend(); got != "generic" {
		t.Fatalf("Backend() = %q after Use(generic)", got)
	}
}
