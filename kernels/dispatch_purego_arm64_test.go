//go:build purego || noasm

package kernels_test

import (
	"slices"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// TestPureGoDispatchARM64: with the purego or noasm tag, arm64 builds have the generic
// backend only, and asking for neon is an error, not a silent fallback.
func TestPureGoDispatchARM64(t *testing.T) {
	if names := kernels.Backends(); !slices.Equal(names, []string{"generic"}) {
		t.Fatalf("Backends() = %v, want [generic]", names)
	}
	if got := kernels.Backend(); got != "generic" {
		t.Fatalf("Backend() = %q, want generic", got)
	}
	if err := kernels.Use("neon"); err == nil {
		t.Fatal("Use(neon) succeeded in a pure-Go build")
	}
	t.Logf("backend generic only (pure-Go build)")
}
