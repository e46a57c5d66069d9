package mlp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/simdmlp/simdmlp/digit"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

// stripes makes n 4x4 "images" of two classes: class 0 lights the top two rows, class
// 1 the bottom two, with a little deterministic variation. A program's own data
// already in memory: no files.
func stripes(n int) *mlp.Data {
	d := &mlp.Data{N: n, Features: 16, Classes: 2, X: make([]uint8, n*16), Y: make([]uint8, n)}
	for i := 0; i < n; i++ {
		y := i % 2
		d.Y[i] = uint8(y)
		for p := 0; p < 16; p++ {
			v := 20 + (i*7+p*13)%40 // background
			if (p < 8) == (y == 0) {
				v = 200 + (i*5+p*3)%55 // ink
			}
			d.X[i*16+p] = uint8(v)
		}
	}
	return d
}

// Train a small network on data held in memory and predict with the result.
func Example_trainFromMemory() {
	train, test := stripes(400), stripes(100)

	cfg := mlp.DefaultConfig() // the report's settings; shrink the network for 16 inputs
	cfg.Hidden = []mlp.Layer{{Width: 8, Act: kernels.ReLU, Init: mlp.HeNormal}}
	cfg.Epochs = 3
	cfg.Batch = 16
	tr, err := mlp.NewTrainer(cfg, train, test)
	if err != nil {
		log.Fatal(err)
	}
	res, err := tr.Run(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("test accuracy %.2f after %d epochs\n", res.TestAcc, len(res.Epochs))

	m := tr.Model() // the trained weights, ready to predict with (and to Save)
	x := make([]float32, 16)
	mlp.ScalePixels(x, test.X[:16]) // pixel/255, as in training
	class, err := m.Predict(x, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first test sample: class", class, "label", test.Y[0])
	// Output:
	// test accuracy 1.00 after 3 epochs
	// first test sample: class 0 label 0
}

// Cancel training through its context: Run stops between two steps, returns the
// epochs it finished and an error wrapping the context's.
func Example_cancel() {
	train := stripes(400)
	cfg := mlp.DefaultConfig()
	cfg.Hidden = []mlp.Layer{{Width: 8, Act: kernels.ReLU, Init: mlp.HeNormal}}
	cfg.Epochs = 50
	tr, err := mlp.NewTrainer(cfg, train, nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A program would cancel on a signal or a deadline (context.WithTimeout); here
	// the second epoch's end does, so the output is the same on every machine.
	res, err := tr.Run(ctx, func(m mlp.EpochMetrics) {
		if m.Epoch == 2 {
			cancel()
		}
	})
	fmt.Println(errors.Is(err, context.Canceled), res.StopReason, len(res.Epochs), "epochs finished")
	// Output:
	// true canceled 2 epochs finished
}

// Load a saved model (train -save, or Model.Save) and tell the digit in a picture.
func ExampleLoadModel() {
	m, err := mlp.LoadModel(filepath.Join("..", "testdata", "model", "mnist-100.safetensors"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m)

	img, err := digit.Load(filepath.Join("..", "testdata", "digit", "mnist-0000-7-dark-moved-4x.png"))
	if err != nil {
		log.Fatal(err)
	}
	g, err := digit.Prepare(img, digit.Options{}) // the 28x28 image MNIST would have made
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, m.Features())
	mlp.ScalePixels(x, g.Pix)
	probs := make([]float32, m.Classes())
	class, err := m.Predict(x, probs)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("digit %d (p = %.2f)\n", class, probs[class])
	// Output:
	// 784-100 relu-10 softmax
	// digit 7 (p = 1.00)
}

// Predict a batch: n samples in one slice, sample-major; classes and probabilities
// come back in the same order. PredictBatch may be called from many goroutines at
// once; with a Predictor per goroutine it allocates nothing at all.
func ExampleModel_PredictBatch() {
	m, err := mlp.LoadModel(filepath.Join("..", "testdata", "model", "mnist-100.safetensors"))
	if err != nil {
		log.Fatal(err)
	}
	names := []string{"mnist-0001-2-plain.png", "mnist-0002-1-plain.png", "mnist-0003-0-plain.png"}
	x := make([]float32, len(names)*m.Features())
	for i, name := range names {
		img, err := digit.Load(filepath.Join("..", "testdata", "digit", name))
		if err != nil {
			log.Fatal(err)
		}
		g, err := digit.Prepare(img, digit.Options{})
		if err != nil {
			log.Fatal(err)
		}
		mlp.ScalePixels(x[i*m.Features():], g.Pix)
	}
	classes := make([]int, len(names))
	if err := m.PredictBatch(len(names), x, classes, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println(classes)
	// Output:
	// [2 1 0]
}

// Save a trained model and load it back: the same weights, bit for bit, so the same
// predictions. The file is safetensors, readable by other ecosystems.
func ExampleModel_Save() {
	train := stripes(200)
	cfg := mlp.DefaultConfig()
	cfg.Hidden = []mlp.Layer{{Width: 8, Act: kernels.Tanh, Init: mlp.GlorotUniform}}
	cfg.Epochs = 1
	tr, err := mlp.NewTrainer(cfg, train, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), nil); err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "stripes.safetensors")
	if err := tr.Model().Save(path); err != nil { // atomic: temporary file + rename
		log.Fatal(err)
	}
	m, err := mlp.LoadModel(path)
	if err != nil {
		log.Fatal(err)
	}
	w, _ := m.Weights(0)
	before, _ := tr.Model().Weights(0)
	fmt.Println(m, len(w) == len(before) && w[5] == before[5])
	// Output:
	// 16-8 tanh-2 softmax true
}
