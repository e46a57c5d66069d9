package mlp

import (
	"github.com/simdmlp/simdmlp/kernels"
)

// Init names a weight initializer. Biases always start at zero.
type Init string

// The initializers of protocol.md.
const (
	// GlorotUniform draws from U(-l, l), l = sqrt(6/(fan_in+fan_out)): Keras's Dense default.
	GlorotUniform Init = "glorot_uniform"
	// HeNormal draws from a normal with mean 0 and stddev sqrt(2/fan_in)/0.87962566103423978,
	// redrawing values beyond two (untruncated) stddevs: Keras's truncated he_normal.
	HeNormal Init = "he_normal"
)

// Layer is one hidden dense layer.
type Layer struct {
	Width int                `json:"width"`
	Act   kernels.Activation `json:"act"`
	Init  Init               `json:"init"`
}

// Optimizer holds an optimizer's name and constants. Zero constants are replaced by the
// Keras defaults of that optimizer by Config.Normalize.
type Optimizer struct {
	Name string  `json:"name"` // adam, sgd, adagrad, rmsprop
	LR   float64 `json:"lr"`
	// Adam
	Beta1 float64 `json:"beta1,omitempty"`
	Beta2 float64 `json:"beta2,omitempty"`
	// Adam, Adagrad, RMSprop
	Eps float64 `json:"eps,omitempty"`
	// RMSprop
	Rho float64 `json:"rho,omitempty"`
	// Adagrad
	InitialAccumulator float64 `json:"initial_accumulator,omitempty"`
	// EpsOutside selects the older form w -= lr*g/(sqrt(a)+eps) for Adagrad and RMSprop
	// instead of current Keras's w -= lr*g/sqrt(a+eps).
	EpsOutside bool `json:"eps_outside,omitempty"`
}

// Protocol is how the 60,000 training images are split into training and validation.
type Protocol string

const (
	// Clean: one seeded buffered shuffle fixes the validation set forever; each epoch
	// reshuffles only the training part.
	Clean Protocol = "clean"
	// Report: the report's leaky tf.data pipeline: validation taken from the first
	// shuffle, each epoch trains on a fresh buffered shuffle of all images minus its first
	// n_val, so validation images are trained on.
	Report Protocol = "report"
)

// StopKind is an early-stopping rule.
type StopKind string

const (
	// StopRise stops at the first epoch whose val_loss exceeds the previous epoch's by
	// more than MinDelta and keeps that epoch's weights.
	StopRise StopKind = "rise"
	// StopPatience is Keras's EarlyStopping(patience).
	StopPatience StopKind = "patience"
	// StopNone trains exactly Epochs epochs.
	StopNone StopKind = "none"
)

// Stop configures early stopping.
type Stop struct {
	Kind        StopKind `json:"kind"`
	MinDelta    float64  `json:"min_delta"`
	Patience    int      `json:"patience,omitempty"`
	RestoreBest bool     `json:"restore_best,omitempty"`
	// LossFloor, when > 0, also stops once the epoch's running training loss is below it.
	LossFloor float64 `json:"loss_floor,omitempty"`
}

// Config is one training run: every setting of protocol.md. DefaultConfig returns the
// report's final configuration.
type Config struct {
	Hidden     []Layer   `json:"hidden"`
	OutputInit Init      `json:"output_init"` // initializer of the softmax layer
	Optimizer  Optimizer `json:"optimizer"`
	Batch      int       `json:"batch"`
	// Epochs is the most epochs to train (StopNone: exactly this many).
	Epochs int `json:"epochs"`
	// Split is the validation fraction of the training images (n_val = round(Split*N)).
	Split         float64  `json:"split"`
	Protocol      Protocol `json:"protocol"`
	ShuffleBuffer int      `json:"shuffle_buffer"` // tf.data buffer size; 0 = full shuffle
	Stop          Stop     `json:"stop"`
	Seed          uint64   `json:"seed"`
	// TestEachEpoch evaluates the test set after every epoch (the batch-size stage
	// reports the best test accuracy over the epochs run).
	TestEachEpoch bool `json:"test_each_epoch,omitempty"`
	// Threads is the number of cores the trainer may use; 0 = all available.
	Threads int `json:"threads,omitempty"`
}

// Data is a labelled image set held in memory: N samples of Features uint8 values each
// (pixels, scaled by 1/255 into float32 as they are batched), labels in [0, Classes).
type Data struct {
	N, Features, Classes int
	X                    []uint8 // N*Features, sample-major
	Y                    []uint8 // N
}

// EpochMetrics is one line of the Keras verbose=2 log, plus test metrics when asked.
type EpochMetrics struct {
	Epoch    int     `json:"epoch"`
	Steps    int     `json:"steps"`
	Seconds  float64 `json:"seconds"`
	Loss     float64 `json:"loss"`     // running mean over the epoch's batches
	Accuracy float64 `json:"accuracy"` // running mean over the epoch's batches
	ValLoss  float64 `json:"val_loss"`
	ValAcc   float64 `json:"val_accuracy"`
	// TestLoss and TestAcc are set (and HasTest true) when Config.TestEachEpoch is true.
	HasTest  bool    `json:"has_test,omitempty"`
	TestLoss float64 `json:"test_loss,omitempty"`
	TestAcc  float64 `json:"test_accuracy,omitempty"`
}

// Stop reasons recorded in Result.StopReason.
const (
	ReasonEpochs    = "epochs"     // ran Config.Epochs epochs without an early stop
	ReasonRise      = "rise"       // the rise rule fired
	ReasonPatience  = "patience"   // EarlyStopping's patience ran out
	ReasonLossFloor = "loss_floor" // the running training loss fell below Stop.LossFloor
)

// DefaultMinDelta is the rise rule's threshold when Stop.MinDelta is zero: the value
// that reproduces every stop epoch of the report's batch-size logs (protocol.md).
const DefaultMinDelta = 0.003

// DefaultConfig returns the report's final configuration (protocol.md, "final" row):
// 784-600-200-10, relu-relu, he_normal on the hidden layers and glorot_uniform on the
// softmax layer, adam with Keras's defaults, batch 64, 7 epochs without early
// stopping, split 0.1 under the clean protocol with a 10,000-element shuffle buffer,
// seed 1. The optimizer's constants are left zero, meaning "the default of the
// optimizer named", so changing Optimizer.Name alone gives that optimizer's defaults;
// Normalize fills them in.
func DefaultConfig() Config {
	return Config{
		Hidden: []Layer{
			{Width: 600, Act: kernels.ReLU, Init: HeNormal},
			{Width: 200, Act: kernels.ReLU, Init: HeNormal},
		},
		OutputInit:    GlorotUniform,
		Optimizer:     Optimizer{Name: "adam"},
		Batch:         64,
		Epochs:        7,
		Split:         0.1,
		Protocol:      Clean,
		ShuffleBuffer: 10000,
		Stop:          Stop{Kind: StopNone},
		Seed:          1,
	}
}
