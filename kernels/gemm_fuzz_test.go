package kernels_test

import (
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

var (
	fuzzAlphas = []float32{1, -0.5, 0, 0.3, 2.5, -1, 1e-3, 7}
	fuzzBetas  = []float32{0, 1, 0.7, -2}
	fuzzTester gemmTester // reused: a fuzz worker runs its inputs one at a time
)

// FuzzSgemm compares Sgemm on every backend with the float64 reference over bounded
// shapes (m < 50, n < 98, k < 512), every transpose, leading-dimension padding up to
// 31, several alphas and betas, integer or real data: guard bands, padding, read-only
// operands and the result are checked as in the differential tests, and any panic
// for these valid arguments fails.
//
//	go test -run '^$' -fuzz FuzzSgemm -fuzztime 60s ./kernels/
func FuzzSgemm(f *testing.F) {
	f.Add(uint64(1), uint8(17), uint8(33), uint8(9), uint8(0), uint8(0), uint8(1), uint8(3))
	f.Add(uint64(2), uint8(49), uint8(97), uint8(255), uint8(0xff), uint8(5), uint8(0), uint8(16))
	f.Add(uint64(3), uint8(0), uint8(5), uint8(0), uint8(0x13), uint8(0), uint8(0), uint8(0))
	f.Add(uint64(4), uint8(16), uint8(32), uint8(64), uint8(0x86), uint8(2), uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, seed uint64, m, n, k, flags, padA, padB, padC uint8) {
		c := gemmCase{
			tA: flags&1 != 0, tB: flags&2 != 0,
			m: int(m) % 50, n: int(n) % 98, k: int(k) + 256*int(flags>>7),
			alpha: fuzzAlphas[(flags>>2)&7], beta: fuzzBetas[(flags>>5)&3],
			padA: int(padA % 32), padB: int(padB % 32), padC: int(padC % 32),
			ints: seed%3 == 0, seed: seed,
		}
		prev := kernels.Backend()
		defer func() { _ = kernels.Use(prev) }()
		for _, name := range kernels.Backends() {
			if err := kernels.Use(name); err != nil {
				t.Fatal(err)
			}
			if err := fuzzTester.run(c); err != nil {
				t.Fatalf("backend %s: %v: %v", name, c, err)
			}
		}
	})
}
