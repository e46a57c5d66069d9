package mlp

import "math/rand/v2"

// Random streams. Each purpose draws from its own PCG stream derived from Config.Seed,
// so changing how many numbers one purpose uses (e.g. a wider layer) never changes
// another purpose's numbers (e.g. the split).
const (
	streamInit    = 0x696e6974 // "init": weight initialization
	streamShuffle = 0x73687566 // "shuf": the split and every epoch's order
)

func newStream(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// bufferShuffler is tf.data's Dataset.shuffle(buffer_size) over index sequences: fill
// a buffer with the first B inputs; to emit one element pick a uniformly random slot,
// emit it and refill that slot with the next input; once the input is exhausted emit
// the remaining elements in random order. With B >= n (or B = 0, meaning "full") it is
// a uniform permutation; with B < n an element can move at most about B places
// earlier. The buffer is allocated once; shuffling allocates nothing.
type bufferShuffler struct {
	size int // B; 0 = full shuffle
	buf  []int32
	rng  *rand.Rand
}

func newBufferShuffler(size, maxN int, rng *rand.Rand) *bufferShuffler {
	b := size
	if b == 0 || b > maxN {
		b = maxN
	}
	return &bufferShuffler{size: size, buf: make([]int32, b), rng: rng}
}

// shuffle writes into dst (len(dst) == len(src)) the elements of src in the order the
// shuffle buffer emits them. dst and src must not overlap.
func (s *bufferShuffler) shuffle(dst, src []int32) {
	n := len(src)
	if len(dst) != n {
		panic("mlp: bufferShuffler.shuffle: dst and src lengths differ")
	}
	b := s.size
	if b == 0 || b > n {
		b = n
	}
	buf := s.buf[:b]
	copy(buf, src[:b])
	next := b // next input element to read
	live := b // occupied slots: buf[:live]
	for out := 0; out < n; out++ {
		k := s.rng.IntN(live)
		dst[out] = buf[k]
		if next < n {
			buf[k] = src[next]
			next++
		} else {
			live--
			buf[k] = buf[live]
		}
	}
}
