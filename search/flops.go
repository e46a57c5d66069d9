package search

import (
	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/mlp"
)

// The budget's unit is the training FLOP, counted from the architecture alone so that it
// is the same on every machine and every run. Only the dense layers' matrix products
// count (bias, activation, softmax and optimizer updates are O(units), not O(weights),
// and are left out). With d_0 = features, d_1..d_L the hidden widths and d_{L+1} =
// classes, and P = sum over layers l = 1..L+1 of d_{l-1} * d_l (the weights):
//
//	forward, per sample:  2P                  (one multiply-add per weight)
//	backward, per sample: 4P - 2*d_0*d_1      (weight gradient 2*d_{l-1}*d_l for every
//	                                           layer, input gradient 2*d_{l-1}*d_l for
//	                                           every layer but the first: nothing
//	                                           needs the gradient of the pixels)
//	training, per sample: 6P - 2*d_0*d_1
//	one epoch:            n_train * (6P - 2*d_0*d_1) + n_val * 2P   (the validation pass)
//	one trial:            epochs run * one epoch
//
// Test-set evaluation is not counted: the search never evaluates the test set, and the
// report's grid cost (GridCost) leaves it out too, so both sides count the same work.

// weights returns P and d_0*d_1 for the architecture.
func weights(features, classes int, hidden []mlp.Layer) (p, first float64) {
	prev := features
	for i, l := range hidden {
		p += float64(prev) * float64(l.Width)
		if i == 0 {
			first = float64(prev) * float64(l.Width)
		}
		prev = l.Width
	}
	p += float64(prev) * float64(classes)
	if len(hidden) == 0 {
		first = float64(features) * float64(classes)
	}
	return p, first
}

// ForwardFLOPs is the forward pass's FLOPs per sample: 2P.
func ForwardFLOPs(features, classes int, hidden []mlp.Layer) float64 {
	p, _ := weights(features, classes, hidden)
	return 2 * p
}

// TrainFLOPs is one training step's FLOPs per sample, forward and backward: 6P - 2*d_0*d_1.
func TrainFLOPs(features, classes int, hidden []mlp.Layer) float64 {
	p, first := weights(features, classes, hidden)
	return 6*p - 2*first
}

// Shape is what a cost depends on besides the configuration: the data's shape.
type Shape struct {
	Features, Classes int
	N                 int // training images (validation included)
}

// DataShape returns the shape of a data set's training part.
func DataShape(d *harness.Dataset) Shape {
	return Shape{Features: d.Train.Features, Classes: d.Train.Classes, N: d.Train.N}
}

// EpochFLOPs is one epoch of cfg on data of this shape: n_train training steps' worth
// of samples and one validation pass (n_val = mlp.ValCount(split, N)).
func (sh Shape) EpochFLOPs(cfg mlp.Config) float64 {
	nVal := mlp.ValCount(cfg.Split, sh.N)
	nTrain := sh.N - nVal
	return float64(nTrain)*TrainFLOPs(sh.Features, sh.Classes, cfg.Hidden) + float64(nVal)*ForwardFLOPs(sh.Features, sh.Classes, cfg.Hidden)
}

// RecordFLOPs is what a finished trial cost: the epochs it ran (not the epoch it kept)
// times one epoch, from the sample counts the record holds.
func RecordFLOPs(r harness.Record, features, classes int) float64 {
	per := float64(r.NTrain)*TrainFLOPs(features, classes, r.Config.Hidden) + float64(r.NVal)*ForwardFLOPs(features, classes, r.Config.Hidden)
	return float64(len(r.Epochs)) * per
}
