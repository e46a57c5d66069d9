package mlp

import (
	"fmt"
	"math"

	"github.com/simdmlp/simdmlp/kernels"
)

// optimizer holds an optimizer's constants (already normalized) and its state, one
// value per parameter, allocated once. step applies one update to the whole
// parameter vector with one kernel call and allocates nothing.
type optimizer struct {
	cfg Optimizer
	t   int       // steps taken; Adam's bias correction uses t+1 for the next step
	s1  []float32 // adam: m; adagrad: accumulator; rmsprop: mean square
	s2  []float32 // adam: v
}

func newOptimizer(cfg Optimizer, n int) *optimizer {
	o := &optimizer{cfg: cfg}
	switch cfg.Name {
	case "sgd":
	case "adam":
		o.s1, o.s2 = make([]float32, n), make([]float32, n)
	case "adagrad":
		o.s1 = make([]float32, n)
		for i := range o.s1 {
			o.s1[i] = float32(cfg.InitialAccumulator)
		}
	case "rmsprop":
		o.s1 = make([]float32, n)
	default:
		panic(fmt.Sprintf("mlp: unknown optimizer %q", cfg.Name))
	}
	return o
}

// adamLRT is Adam's bias-corrected learning rate for step t (counted from 1):
// lr*sqrt(1-beta2^t)/(1-beta1^t), computed in float64.
func adamLRT(lr, beta1, beta2 float64, t int) float64 {
	return lr * math.Sqrt(1-math.Pow(beta2, float64(t))) / (1 - math.Pow(beta1, float64(t)))
}

// step updates w in place from the gradient g, on the pool's threads (nil: the
// calling goroutine): one pass over all parameters.
func (o *optimizer) step(p *kernels.Pool, w, g []float32) {
	o.t++
	c := &o.cfg
	switch c.Name {
	case "sgd":
		p.SGD(w, g, float32(c.LR))
	case "adam":
		lrT := adamLRT(c.LR, c.Beta1, c.Beta2, o.t)
		p.Adam(w, g, o.s1, o.s2, float32(lrT), float32(c.Beta1), float32(c.Beta2), float32(c.Eps))
	case "adagrad":
		p.Adagrad(w, g, o.s1, float32(c.LR), float32(c.Eps), !c.EpsOutside)
	case "rmsprop":
		p.RMSProp(w, g, o.s1, float32(c.LR), float32(c.Rho), float32(c.Eps), !c.EpsOutside)
	}
}
