package mlp

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// heTruncationStddev is the standard deviation of a unit normal truncated to [-2, 2];
// Keras divides by it so the truncated draw has the intended variance 2/fan_in.
const heTruncationStddev = 0.87962566103423978

// initWeights draws every layer's weights, first layer first, row-major, from rng;
// biases are zero. inits[l] is layer l's initializer (the last is the softmax layer's).
func (n *network) initWeights(inits []Init, rng *rand.Rand) {
	for l, w := range n.w {
		fanIn, fanOut := n.sizes[l], n.sizes[l+1]
		switch inits[l] {
		case GlorotUniform:
			limit := math.Sqrt(6 / float64(fanIn+fanOut))
			for i := range w {
				w[i] = float32(limit * (2*rng.Float64() - 1))
			}
		case HeNormal:
			std := math.Sqrt(2/float64(fanIn)) / heTruncationStddev
			for i := range w {
				w[i] = float32(std * truncNormal(rng))
			}
		default:
			panic(fmt.Sprintf("mlp: unknown initializer %q for layer %d", inits[l], l))
		}
		clear(n.b[l])
	}
}

// truncNormal draws from the unit normal, redrawing values beyond two standard
// deviations (Keras's TruncatedNormal).
func truncNormal(rng *rand.Rand) float64 {
	for {
		if x := rng.NormFloat64(); math.Abs(x) <= 2 {
			return x
		}
	}
}
