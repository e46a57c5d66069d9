package mlp

import (
	"math"
	"math/rand/v2"
	"testing"
)

func seqInt32(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(i)
	}
	return s
}

// TestBufferShuffleIsPermutationAndLocal: every output is a permutation of the input,
// and with a buffer of B an input element i >= B cannot be emitted before position
// i-B+1 (it enters the buffer only after i-B+1 emissions).
func TestBufferShuffleIsPermutationAndLocal(t *testing.T) {
	for _, c := range []struct{ n, b int }{{1, 0}, {10, 0}, {10, 3}, {1000, 100}, {1000, 1}, {1000, 5000}, {7, 7}} {
		s := newBufferShuffler(c.b, c.n, rand.New(rand.NewPCG(1, 2)))
		src := seqInt32(c.n)
		dst := make([]int32, c.n)
		for rep := 0; rep < 3; rep++ {
			s.shuffle(dst, src)
			pos := make([]int, c.n)
			seen := make([]bool, c.n)
			for p, v := range dst {
				if seen[v] {
					t.Fatalf("n=%d B=%d: %d emitted twice", c.n, c.b, v)
				}
				seen[v] = true
				pos[v] = p
			}
			if c.b >= 1 && c.b < c.n {
				for i := c.b; i < c.n; i++ {
					if pos[i] < i-c.b+1 {
						t.Fatalf("n=%d B=%d: element %d emitted at %d, earlier than %d", c.n, c.b, i, pos[i], i-c.b+1)
					}
				}
			}
			if c.b == 1 {
				for i, v := range dst {
					if int(v) != i {
						t.Fatalf("B=1 must keep the order, got %v...", dst[:10])
					}
				}
			}
		}
	}
}

// TestBufferShuffleDistribution: with n = 6 and B = 3 the exact distribution of the
// first two outputs is known by hand: the first is uniform over inputs 0..2; input 3
// is first with probability 0 and second with probability 1/3 (it replaces the first
// emitted slot, then is picked with probability 1/3).
func TestBufferShuffleDistribution(t *testing.T) {
	const trials = 60000
	s := newBufferShuffler(3, 6, rand.New(rand.NewPCG(3, 4)))
	src, dst := seqInt32(6), make([]int32, 6)
	var first [6]int
	second3 := 0
	for range trials {
		s.shuffle(dst, src)
		first[dst[0]]++
		if dst[1] == 3 {
			second3++
		}
	}
	within := func(count int, p float64) bool {
		sd := math.Sqrt(trials * p * (1 - p))
		return math.Abs(float64(count)-trials*p) <= 5*sd
	}
	for i := 0; i < 3; i++ {
		if !within(first[i], 1.0/3) {
			t.Errorf("first output %d: %d of %d, want about 1/3", i, first[i], trials)
		}
	}
	if first[3]+first[4]+first[5] != 0 {
		t.Errorf("inputs beyond the buffer emitted first: %v", first)
	}
	if !within(second3, 1.0/3) {
		t.Errorf("input 3 second: %d of %d, want about 1/3", second3, trials)
	}
}

// TestCleanSplitNeverLeaks: under clean, no validation index appears in any epoch's
// training order, and each epoch trains on exactly the other n - n_val samples.
func TestCleanSplitNeverLeaks(t *testing.T) {
	const n = 60000
	nVal := ValCount(0.1, n)
	s, err := newSplitter(Clean, n, nVal, 10000, newStream(1, streamShuffle))
	if err != nil {
		t.Fatal(err)
	}
	isVal := make([]bool, n)
	for _, v := range s.val {
		isVal[v] = true
	}
	prevFirst := int32(-1)
	changed := false
	for e := 1; e <= 7; e++ {
		order := s.nextEpoch()
		if len(order) != n-nVal {
			t.Fatalf("epoch %d: %d training samples, want %d", e, len(order), n-nVal)
		}
		seen := make([]bool, n)
		for _, v := range order {
			if isVal[v] {
				t.Fatalf("epoch %d trains on validation sample %d", e, v)
			}
			if seen[v] {
				t.Fatalf("epoch %d trains twice on %d", e, v)
			}
			seen[v] = true
		}
		if e > 1 && order[0] != prevFirst {
			changed = true
		}
		prevFirst = order[0]
	}
	if !changed {
		t.Error("the training order never changed between epochs")
	}
}

// TestReportSplitLeaks measures the report protocol's leakage (N = 60,000, split 0.1,
// B = 10,000): the share of validation samples inside each epoch's training set
// (protocol.md: about 58%) and the share trained on at least once within 7 epochs
// (over 99%).
func TestReportSplitLeaks(t *testing.T) {
	const n = 60000
	nVal := ValCount(0.1, n)
	if nVal != 6000 {
		t.Fatalf("n_val = %d, want 6000", nVal)
	}
	s, err := newSplitter(Report, n, nVal, 10000, newStream(1, streamShuffle))
	if err != nil {
		t.Fatal(err)
	}
	isVal := make([]bool, n)
	for _, v := range s.val {
		isVal[v] = true
	}
	everTrained := make([]bool, n)
	for e := 1; e <= 7; e++ {
		order := s.nextEpoch()
		if len(order) != n-nVal {
			t.Fatalf("epoch %d: %d training samples, want %d", e, len(order), n-nVal)
		}
		in := 0
		for _, v := range order {
			if isVal[v] {
				in++
				everTrained[v] = true
			}
		}
		share := float64(in) / float64(nVal)
		t.Logf("epoch %d: %.1f%% of the validation set is in the training set", e, 100*share)
		if share < 0.50 || share > 0.66 {
			t.Errorf("epoch %d: %.3f of validation samples trained on, want 0.50..0.66", e, share)
		}
	}
	ever := 0
	for _, v := range s.val {
		if everTrained[v] {
			ever++
		}
	}
	share := float64(ever) / float64(nVal)
	t.Logf("within 7 epochs: %.2f%% trained on", 100*share)
	if share <= 0.99 {
		t.Errorf("within 7 epochs %.4f of validation samples trained on, want > 0.99", share)
	}
}

func TestValCount(t *testing.T) {
	for _, c := range []struct {
		split float64
		n     int
		want  int
	}{{0.1, 60000, 6000}, {0.075, 60000, 4500}, {0.175, 60000, 10500}, {0.05, 60000, 3000}, {0.5, 3, 2}, {0.1, 4, 0}} {
		if got := ValCount(c.split, c.n); got != c.want {
			t.Errorf("ValCount(%g, %d) = %d, want %d", c.split, c.n, got, c.want)
		}
	}
}
