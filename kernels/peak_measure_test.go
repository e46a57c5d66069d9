package kernels_test

import (
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// TestMeasurePeak: a positive peak for every backend with a loop, 0 for unknown
// names, remembered (the same value twice), and the SIMD loops above the scalar one
// (the zmm loop does 16 lanes per FMA, the Go loop one multiply and one add).
func TestMeasurePeak(t *testing.T) {
	if g := kernels.MeasurePeak("sse9", 1); g != 0 {
		t.Errorf("MeasurePeak(sse9) = %g, want 0", g)
	}
	gen := kernels.MeasurePeak("generic", 1)
	if gen <= 0 {
		t.Fatalf("MeasurePeak(generic, 1) = %g, want > 0", gen)
	}
	if again := kernels.MeasurePeak("generic", 1); again != gen {
		t.Errorf("MeasurePeak(generic, 1) = %g then %g, want the remembered value", gen, again)
	}
	for _, name := range kernels.Backends() {
		g := kernels.MeasurePeak(name, 1)
		t.Logf("%s: %.1f GFLOP/s on one thread", name, g)
		if (name == "avx2" || name == "avx512") && g < 2*gen {
			t.Errorf("%s peak %.1f GFLOP/s, want well above the scalar Go loop's %.1f", name, g, gen)
		}
	}
}
