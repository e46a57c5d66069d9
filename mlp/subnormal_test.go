package mlp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// digitLike makes n samples shaped like MNIST digits: 28x28 uint8 images, dark
// except for each class's strokes (a fixed random set of pixels in the central
// 20x20, drawn with varying intensity, some dropped) and, in 2% of the images, one
// speck somewhere in the outer ring. As in MNIST, most border pixels are zero in
// almost every image: the weights they feed get a gradient only in the rare batch
// that holds a speck, so their optimizer moments decay, step after step, towards
// the subnormal range.
func digitLike(n int, seed uint64) *Data {
	const side, classes = 28, 10
	rng := rand.New(rand.NewPCG(seed, 3))
	protos := make([][]int, classes)
	for c := range protos {
		for range 60 {
			protos[c] = append(protos[c], (4+rng.IntN(20))*side+4+rng.IntN(20))
		}
	}
	d := &Data{N: n, Features: side * side, Classes: classes, X: make([]uint8, n*side*side), Y: make([]uint8, n)}
	for i := range n {
		c := rng.IntN(classes)
		d.Y[i] = uint8(c)
		img := d.X[i*side*side : (i+1)*side*side]
		for _, p := range protos[c] {
			if rng.IntN(8) != 0 {
				img[p] = uint8(128 + rng.IntN(128))
			}
		}
		if rng.IntN(50) == 0 {
			r, col := rng.IntN(side), rng.IntN(side)
			if r >= 4 && r < 24 {
				col = []int{0, 1, 2, 3, 24, 25, 26, 27}[rng.IntN(8)]
			}
			img[r*side+col] = 255
		}
	}
	return d
}

func isSubnormal(x float32) bool {
	b := math.Float32bits(x) & 0x7fffffff
	return b != 0 && b < 0x00800000
}

// TestNoSubnormalOptimizerState trains on digit-like data for 1,250 steps with each
// optimizer that keeps state, on every backend, and checks that no state value (adam
// m and v, rmsprop's mean square, adagrad's accumulator) is subnormal: the kernels
// store moments that decay below the smallest normal float32 as zero, so later steps
// never compute on subnormal numbers (10-100x slower on x86). To show the test
// exercises that case, it counts the parameters whose first moment (adam) or mean
// square (rmsprop) is now exactly zero although their gradient was not zero at some
// step: without the flush those would hold decaying subnormal (or tiny) values.
func TestNoSubnormalOptimizerState(t *testing.T) {
	data := digitLike(11000, 1)
	forEachBackend(t, func(t *testing.T) {
		for _, opt := range []string{"adam", "rmsprop", "adagrad"} {
			c := DefaultConfig()
			c.Hidden = []Layer{{Width: 32, Act: c.Hidden[0].Act, Init: HeNormal}}
			c.Optimizer = Optimizer{Name: opt}
			c.Batch, c.Threads = 16, 2
			tr, err := NewTrainer(c, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			touched := make([]bool, len(tr.net.grads))
			steps := 0
			for steps < 1250 {
				order := tr.split.nextEpoch()
				for lo := 0; lo+c.Batch <= len(order) && steps < 1250; lo += c.Batch {
					tr.step(order[lo : lo+c.Batch])
					for i, g := range tr.net.grads {
						if g != 0 {
							touched[i] = true
						}
					}
					steps++
				}
			}
			for name, s := range map[string][]float32{"s1": tr.opt.s1, "s2": tr.opt.s2} {
				for i, v := range s {
					if isSubnormal(v) {
						t.Fatalf("%s: state %s[%d] = %g is subnormal after %d steps", opt, name, i, v, steps)
					}
				}
			}
			flushed := 0
			for i, v := range tr.opt.s1 {
				if touched[i] && v == 0 {
					flushed++
				}
			}
			t.Logf("%s: %d steps, %d parameters whose state decayed to zero", opt, steps, flushed)
			if opt != "adagrad" && flushed == 0 {
				t.Errorf("%s: no state value decayed to zero: the data no longer exercise the subnormal range", opt)
			}
		}
	})
}
