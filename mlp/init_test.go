package mlp

import (
	"math"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// TestInitializers checks the initializers' distributions against protocol.md:
// glorot_uniform within +-sqrt(6/(fan_in+fan_out)) with the uniform's variance
// limit^2/3; he_normal truncated at two untruncated stddevs, stddev
// sqrt(2/fan_in)/0.8796... before truncation, so sqrt(2/fan_in) after; biases zero.
func TestInitializers(t *testing.T) {
	n := newNetwork(784, 10, []Layer{{Width: 600, Act: kernels.ReLU}, {Width: 200, Act: kernels.ReLU}}, 1)
	for i := range n.params {
		n.params[i] = 1
	}
	n.initWeights([]Init{HeNormal, GlorotUniform, GlorotUniform}, newStream(1, streamInit))
	stats := func(w []float32) (mean, sd, maxAbs float64) {
		for _, v := range w {
			mean += float64(v)
			maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		}
		mean /= float64(len(w))
		for _, v := range w {
			sd += (float64(v) - mean) * (float64(v) - mean)
		}
		return mean, math.Sqrt(sd / float64(len(w))), maxAbs
	}
	// he_normal, layer 0: 470,400 draws.
	mean, sd, maxAbs := stats(n.w[0])
	want := math.Sqrt(2.0 / 784)
	limit := 2 * want / heTruncationStddev
	if math.Abs(mean) > 0.01*want || math.Abs(sd-want) > 0.01*want || maxAbs > limit*(1+1e-6) || maxAbs < 0.99*limit {
		t.Errorf("he_normal: mean %g sd %g (want %g) max |w| %g (truncation at %g)", mean, sd, want, maxAbs, limit)
	}
	// glorot_uniform, layer 1 (600 -> 200).
	lim := math.Sqrt(6.0 / 800)
	mean, sd, maxAbs = stats(n.w[1])
	if math.Abs(mean) > 0.02*lim || math.Abs(sd-lim/math.Sqrt(3)) > 0.01*lim || maxAbs > lim || maxAbs < 0.999*lim {
		t.Errorf("glorot_uniform: mean %g sd %g (want %g) max |w| %g (limit %g)", mean, sd, lim/math.Sqrt(3), maxAbs, lim)
	}
	for l, b := range n.b {
		for _, v := range b {
			if v != 0 {
				t.Fatalf("layer %d: bias %g, want 0", l, v)
			}
		}
	}
}
