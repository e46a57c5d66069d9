package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// peakChains is the number of independent FMA dependency chains of the peak loop:
// an FMA has a latency of 4 cycles here and two FMA pipes, so at least 8 chains are
// needed to keep both busy; 12 leaves slack (and matches the C reference in
// /work/shared/tools/fmapeak).
const peakChains = 12

// genPeak writes the FMA throughput loop of one instruction set.
func genPeak(s *isa) {
	name := "fmaPeak" + s.name
	TEXT(name, NOSPLIT, "func(n int)")
	Doc(
		fmt.Sprintf("%s runs n iterations of %d independent %d-lane FMAs (acc[i] = acc[i]*x + y),", name, peakChains, s.lanes),
		fmt.Sprintf("%d float32 flops per iteration: the machine's FMA throughput ceiling.", 2*peakChains*s.lanes),
	)
	n := Load(Param("n"), GP64())
	acc := s.regs[:peakChains]
	x, y := s.regs[peakChains], s.regs[peakChains+1]
	for _, r := range append(acc, x, y) {
		zero(s, r)
	}
	TESTQ(n, n)
	JLE(LabelRef("done"))
	Label("loop")
	for _, r := range acc {
		VFMADD213PS(y, x, r)
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
