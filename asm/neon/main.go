// Command neon generates simdmlp's arm64 NEON assembly: the GEMM micro-kernel the
// blocked driver in kernels/gemm_arm64.go calls and the elementwise kernels of
// kernels/elementwise_arm64.go, with their Go declarations. avo has no arm64 back
// end, so this is a small generator of our own: assembly text is built from Go
// values (tile sizes, unroll factors, register plans), and the floating-point vector
// instructions Go's assembler lacks are emitted as WORDs by encode.go, each with the
// instruction it encodes written beside it and checked against objdump by the tests.
package main

//go:generate go run . -out ../../kernels

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "", "the kernels package directory to write into")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "neon: -out is required (the kernels package directory)")
		os.Exit(2)
	}
	for _, f := range []*File{genGemm(), genElementwise()} {
		if err := f.Write(*out); err != nil {
			fmt.Fprintln(os.Stderr, "neon:", err)
			os.Exit(1)
		}
	}
}
