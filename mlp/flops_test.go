package mlp

import "testing"

// TestSampleFlops checks the benchmarks' flop count against the hand count of the
// final model, 784-600-200-10: forward 2*(784*600 + 600*200 + 200*10) = 1,184,800
// per sample; training adds the weight gradients (the same again) and the input
// gradients of the last two layers, 2*(600*200 + 200*10) = 244,000: 2,613,600, or
// 141.1 GFLOP for the 54,000 training samples of an epoch (issue 6's figure).
func TestSampleFlops(t *testing.T) {
	train, fwd := sampleFlops([]int{784, 600, 200, 10})
	if train != 2613600 || fwd != 1184800 {
		t.Errorf("sampleFlops(784-600-200-10) = %v, %v; want 2613600, 1184800", train, fwd)
	}
	if got := train * 54000 / 1e9; got < 141.1 || got > 141.2 {
		t.Errorf("an epoch is %.2f GFLOP, want 141.1", got)
	}
}
