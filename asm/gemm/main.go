// Command gemm generates simdmlp's amd64 GEMM assembly: the register-tile
// micro-kernels the blocked SGEMM driver in kernels/gemm_amd64.go calls (AVX2+FMA
// and AVX-512), the packing routines that copy (and transpose) panels of A and B
// into the layout those kernels stream, and, with -peak, the FMA throughput loops the
// benchmarks measure the machine's peak with.
//
// Every tile size and unroll factor is a Go value in this program; each shape is its
// own TEXT block named after it (sgemmKernelAVX2_4x24, sgemmKernelAVX512_8x48, ...).
package main

//go:generate go run . -pkg kernels -out ../../kernels/gemm_amd64.s -stubs ../../kernels/gemm_stubs_amd64.go
//go:generate go run . -peak -pkg kernels -out ../../kernels/peak_amd64.s -stubs ../../kernels/peak_stubs_amd64.go

import (
	"flag"

	. "github.com/mmcloughlin/avo/build"
)

var peak = flag.Bool("peak", false, "generate the FMA peak-throughput loops instead of the GEMM kernels")

func main() {
	flag.Parse()
	ConstraintExpr("!purego,!noasm")
	if *peak {
		genPeak(avx2)
		genPeak(avx512)
	} else {
		for _, t := range tiles {
			genKernel(t)
		}
		for _, s := range []*isa{avx2, avx512} {
			for _, w := range packWidths(s) {
				genPackCopy(s, w)
			}
			genPackTrans(s)
		}
	}
	Generate()
}

// tiles are the micro-kernels the driver uses: per instruction set, the full tile
// and the narrower ones (fewer vectors per row) for the right edge of C, each in
// two forms: A as packed panels (or A^T in place), and A's rows in place (RowA).
//
// AVX2 (16 ymm): 4x24 = 12 accumulators + 3 vectors of B + 1 broadcast, 7 loads per
// 12 FMAs; measured 2-4 points of peak better than 6x16 (12 + 2 + 2, 8 loads per 12
// FMAs) on the batch-64 shapes, whose M is a multiple of 4. AVX-512 (32 zmm): 8x48 =
// 24 accumulators + 3 of B + 5 broadcasts, 11 loads per 24 FMAs, 97% of peak on
// cached panels; 8 rows divide every M of the MLP (64, 512, 784, 600, 200). Two FMA
// pipes with a 4-cycle latency need at least 8 independent accumulators; both have
// 12 or more.
var tiles = func() []tile {
	var ts []tile
	for _, t := range []tile{{isa: avx2, mr: 4, unroll: 4}, {isa: avx512, mr: 8, unroll: 4}} {
		for _, rowA := range []bool{false, true} {
			for nv := 3; nv >= 1; nv-- {
				t.nv, t.rowA = nv, rowA
				ts = append(ts, t)
			}
		}
	}
	return ts
}()

// packWidths are the panel widths of an ISA's tiles: the height of its A panels
// and the width of each of its B panels.
func packWidths(s *isa) []int {
	seen := map[int]bool{}
	var ws []int
	for _, t := range tiles {
		if t.isa != s {
			continue
		}
		for _, w := range []int{t.mr, t.nr()} { // packing does not depend on rowA
			if !seen[w] {
				seen[w] = true
				ws = append(ws, w)
			}
		}
	}
	return ws
}
