package search

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/simdmlp/simdmlp/mlp"
)

// Short names an architecture: "600-200 relu-relu".
func Short(c mlp.Config) string {
	var w, a []string
	for _, l := range c.Hidden {
		w = append(w, strconv.Itoa(l.Width))
		a = append(a, l.Act.String())
	}
	return strings.Join(w, "-") + " " + strings.Join(a, "-")
}

// Describe names every setting a search varies: "600-200 relu-relu, batch 64, adam lr
// 0.001, he_normal-glorot_uniform, patience 2 restore, at most 27 epochs".
func Describe(c mlp.Config) string {
	init, err := InitScheme(c)
	if err != nil {
		init = "mixed initializers"
	}
	lr := c.Optimizer.LR
	if lr == 0 {
		n := c
		n.Hidden = append([]mlp.Layer(nil), c.Hidden...)
		if n.Normalize() == nil {
			lr = n.Optimizer.LR
		}
	}
	return fmt.Sprintf("%s, batch %d, %s lr %g, %s, %s, at most %d epochs", Short(c), c.Batch, c.Optimizer.Name, lr, init, StopString(c.Stop), c.Epochs)
}
