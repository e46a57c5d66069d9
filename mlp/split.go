package mlp

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// ValCount is n_val = round(split*n), the number of validation samples.
func ValCount(split float64, n int) int {
	return int(math.Round(split * float64(n)))
}

// splitter produces the validation set once and each epoch's training order, under
// one of the two protocols of protocol.md. All of its buffers are allocated by
// newSplitter; nextEpoch allocates nothing.
type splitter struct {
	protocol   Protocol
	nVal       int
	nTrain     int
	shuf       *bufferShuffler
	all        []int32 // 0..n-1, the input order of every pass over all the data
	perm       []int32 // report: the current pass over all the data
	val        []int32 // the validation indices, fixed by the first pass
	trainBase  []int32 // clean: the training indices, in the first pass's order
	trainOrder []int32 // clean: the current epoch's order of trainBase
}

// newSplitter makes the first pass: a buffered shuffle of 0..n-1 whose first nVal
// elements are the validation set for the whole run.
func newSplitter(p Protocol, n, nVal, buffer int, rng *rand.Rand) (*splitter, error) {
	if nVal < 1 || nVal >= n {
		return nil, fmt.Errorf("mlp: split of %d samples leaves %d for validation and %d for training; want at least 1 of each", n, nVal, n-nVal)
	}
	s := &splitter{protocol: p, nVal: nVal, nTrain: n - nVal, shuf: newBufferShuffler(buffer, n, rng)}
	s.all = make([]int32, n)
	for i := range s.all {
		s.all[i] = int32(i)
	}
	first := make([]int32, n)
	s.shuf.shuffle(first, s.all)
	s.val = first[:nVal:nVal]
	switch p {
	case Clean:
		s.trainBase = first[nVal:]
		s.trainOrder = make([]int32, s.nTrain)
	case Report:
		s.perm = make([]int32, n)
	default:
		return nil, fmt.Errorf("mlp: unknown protocol %q", p)
	}
	return s, nil
}

// nextEpoch returns the training order of the next epoch, valid until the next call.
// clean: a buffered shuffle of the fixed training part (never a validation index).
// report: a fresh buffered shuffle of all n samples minus its first nVal, so the
// training set changes every epoch and includes many validation samples.
func (s *splitter) nextEpoch() []int32 {
	if s.protocol == Clean {
		s.shuf.shuffle(s.trainOrder, s.trainBase)
		return s.trainOrder
	}
	s.shuf.shuffle(s.perm, s.all)
	return s.perm[s.nVal:]
}
