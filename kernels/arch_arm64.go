//go:build arm64 && !purego && !noasm

package kernels

import "golang.org/x/sys/cpu"

// registerArch registers the arm64 NEON backend (ASIMD is architecturally required on
// arm64, but the check keeps the rule uniform: a backend runs only where its ISA is
// reported).
func registerArch() {
	ok := cpu.ARM64.HasASIMD
	why := ""
	if !ok {
		why = "the CPU lacks ASIMD"
	}
	register(neonImpl(), ok, why)
}

// neonImpl is the NEON backend: the generic table with every kernel that has a NEON
// version replaced by it.
func neonImpl() *impl {
	b := genericImpl()
	b.name, b.rank = "neon", 10
	b.gemmSplit = neonNR // partial tiles go through a private tile: split on whole ones
	setNEONGemm(b)
	setNEONElementwise(b)
	return b
}
