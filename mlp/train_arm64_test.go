//go:build arm64 && !purego && !noasm

package mlp_test

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/idx/mnistdata"
	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/mlp"
)

// envMNISTDir names the directory holding the four MNIST files for the arm64
// training test. The test binary usually runs under qemu-aarch64-static, where
// fetching through the go command is not available, so scripts/test-arm64.sh fetches
// MNIST on the host (mnistdata.Fetch) and passes the directory in this variable.
const envMNISTDir = "SIMDMLP_MNIST_DIR"

// mnistSubset is the first n images of s as trainer data.
func mnistSubset(s idx.Set, n int) *mlp.Data {
	f := s.Images.Rows * s.Images.Cols
	return &mlp.Data{N: n, Features: f, Classes: idx.Classes, X: s.Images.Pix[:n*f], Y: s.Labels[:n]}
}

// TestTrainMNISTNEON is a short real training run of the whole trainer on the neon
// backend: the first 5,000 MNIST training images (4,500 trained on, 500 validation
// under the default split), 3 epochs of Adam, a 784-128-64-10 network whose hidden
// layers are tanh and relu (so the run goes through every GEMM transpose, both
// activation families with their gradients, bias, column sums, softmax
// cross-entropy and the Adam update in NEON). It must reach 85% on the first 1,000
// test images, and be within one point of the same run on the generic backend
// (float32 rounding differs between backends; the model must not).
func TestTrainMNISTNEON(t *testing.T) {
	dir := os.Getenv(envMNISTDir)
	if dir == "" {
		const msg = envMNISTDir + " is not set: scripts/test-arm64.sh fetches MNIST on the host and sets it"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIP: " + msg)
	}
	if err := mnistdata.Verify(dir); err != nil { // the canonical files, by their published md5
		t.Fatalf("%s=%s: %v", envMNISTDir, dir, err)
	}
	ds, err := idx.LoadDir(dir)
	if err != nil {
		t.Fatalf("%s=%s: %v", envMNISTDir, dir, err)
	}
	train, test := mnistSubset(ds.Train, 5000), mnistSubset(ds.Test, 1000)
	cfg := mlp.DefaultConfig()
	cfg.Hidden = []mlp.Layer{
		{Width: 128, Act: kernels.Tanh, Init: mlp.GlorotUniform},
		{Width: 64, Act: kernels.ReLU, Init: mlp.HeNormal},
	}
	cfg.Epochs = 3

	prev := kernels.Backend()
	defer func() { _ = kernels.Use(prev) }()
	acc := map[string]float64{}
	for _, backend := range []string{"neon", "generic"} {
		if err := kernels.Use(backend); err != nil {
			t.Fatalf("Use(%q): %v", backend, err)
		}
		tr, err := mlp.NewTrainer(cfg, train, test)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.Run(context.Background(), nil)
		if err != nil {
			t.Fatalf("backend %s: %v", backend, err)
		}
		if res.Backend != backend {
			t.Fatalf("the run reports backend %q, want %q", res.Backend, backend)
		}
		last := res.Epochs[len(res.Epochs)-1]
		t.Logf("backend %s: %d epochs on %d images (%d validation): loss %.4f, val acc %.4f, test acc %.4f on %d images, %.1f s",
			backend, len(res.Epochs), res.NTrain, res.NVal, last.Loss, res.ValAcc, res.TestAcc, res.NTest, res.WallSeconds)
		acc[backend] = res.TestAcc
	}
	if acc["neon"] < 0.85 {
		t.Errorf("neon test accuracy %.4f, want >= 0.85", acc["neon"])
	}
	if d := math.Abs(acc["neon"] - acc["generic"]); d > 0.01 {
		t.Errorf("neon test accuracy %.4f and generic %.4f differ by %.4f, want <= 0.01", acc["neon"], acc["generic"], d)
	}
}
