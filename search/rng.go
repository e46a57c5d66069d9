package search

// rng is splitmix64 (Steele, Lea and Flood, 2014): a tiny generator whose output for a
// seed is fixed by its definition, so a search's configurations do not depend on the
// Go version (math/rand/v2 does not promise the same values from its methods forever).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a uniform value in [0, 1) with 53 random bits.
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns a value in [0, n) (n small: the bias of the multiply is below 2^-40).
func (r *rng) intn(n int) int { return min(int(r.float()*float64(n)), n-1) }

// streamRNG is the generator of candidate i of the search seeded with seed: each
// candidate has its own stream, so candidate i is the same whatever was drawn before it.
func streamRNG(seed uint64, i int) *rng {
	r := &rng{s: seed}
	r.s = r.next() ^ uint64(i)*0xd1b54a32d192ed03
	r.next()
	return r
}

// trainSeed is the training seed of candidate i: drawn from its own stream (after the
// configuration), kept below 2^53 so every JSON reader reads it exactly.
func trainSeed(seed uint64, i int) uint64 {
	r := &rng{s: seed ^ 0x5eed5eed5eed5eed}
	r.s = r.next() ^ uint64(i)*0x9e3779b97f4a7c15
	return r.next() >> 11
}
