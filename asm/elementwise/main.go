// Command elementwise generates simdmlp's amd64 elementwise kernels (bias add,
// activations and their gradients, column sums, softmax cross-entropy, optimizer
// updates), each for AVX2+FMA and for AVX-512, from one Go description per kernel
// (see isa.go for the two instruction sets' differences). With -fit it prints the
// exp polynomial's coefficients instead (see fit.go).
package main

//go:generate go run . -pkg kernels -out ../../kernels/elementwise_amd64.s -stubs ../../kernels/elementwise_stubs_amd64.go

import (
	"flag"

	. "github.com/mmcloughlin/avo/build"
)

var fit = flag.Bool("fit", false, "print the exp polynomial's coefficients and exit")

func main() {
	flag.Parse()
	if *fit {
		printFit()
		return
	}
	ConstraintExpr("!purego,!noasm")
	declareConstants()
	for _, s := range []*isa{avx2, avx512} {
		genMatrix(s)
		genActivations(s)
		genSoftmax(s)
		genOptimizers(s)
	}
	Generate()
}
