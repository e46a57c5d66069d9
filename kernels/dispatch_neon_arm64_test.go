//go:build !purego && !noasm

package kernels_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// TestNEONDispatch: on arm64 with assembly, the neon backend is available (ASIMD is
// reported by golang.org/x/sys/cpu), ranks above generic, is the default unless
// SIMDMLP_BACKEND forces another, and can be forced by name; the amd64 backends are
// refused with an error naming the choices.
func TestNEONDispatch(t *testing.T) {
	names := kernels.Backends()
	if !slices.Equal(names, []string{"neon", "generic"}) {
		t.Fatalf("Backends() = %v, want [neon generic]", names)
	}
	if env := os.Getenv(kernels.EnvBackend); env == "" {
		if got := kernels.Backend(); got != "neon" {
			t.Errorf("default backend %q, want neon", got)
		}
	}
	prev := kernels.Backend()
	defer func() { _ = kernels.Use(prev) }()
	for _, name := range names {
		if err := kernels.Use(name); err != nil {
			t.Fatalf("Use(%q): %v", name, err)
		}
		if got := kernels.Backend(); got != name {
			t.Fatalf("Backend() = %q after Use(%q)", got, name)
		}
	}
	for _, name := range []string{"avx2", "avx512"} {
		err := kernels.Use(name)
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "neon") {
			t.Errorf("Use(%q) = %v, want an error naming it and the available backends", name, err)
		}
	}
	t.Logf("backends on this arm64 build: %v", names)
}
