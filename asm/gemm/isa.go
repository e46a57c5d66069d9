package main

import (
	"github.com/mmcloughlin/avo/reg"
)

// isa describes one vector instruction set the kernels are generated for.
type isa struct {
	name  string // as it appears in function names: "AVX2", "AVX512"
	lanes int    // float32 lanes per vector register
	// regs are the vector registers a kernel may use, in allocation order. AVX2
	// code gets only Y0-Y15: the VEX encoding cannot name Y16-Y31, and the Go
	// assembler would silently switch to EVEX (an AVX-512 instruction) for them.
	regs []reg.VecPhysical
	evex bool // AVX-512: opmask registers, embedded broadcast, 32 registers
}

func (s *isa) vecBytes() int { return 4 * s.lanes }

var avx2 = &isa{
	name:  "AVX2",
	lanes: 8,
	regs: []reg.VecPhysical{
		reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
		reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15,
	},
}

var avx512 = &isa{
	name:  "AVX512",
	lanes: 16,
	regs: []reg.VecPhysical{
		reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
		reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
		reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
		reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31,
	},
	evex: true,
}
