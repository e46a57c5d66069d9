//go:build amd64 && !purego && !noasm

package kernels

import "github.com/klauspost/cpuid/v2"

// registerArch registers the amd64 SIMD backends. cpuid reports AVX2, FMA3 and the
// AVX-512 extensions only when the OS has also enabled the register state they need
// (XCR0: ymm for AVX, zmm and opmask for AVX-512), so a backend is never chosen on a
// kernel that would fault on its first instruction.
//
// The checks cover every ISA the generated files' `// Requires:` lines name: AVX, AVX2,
// FMA3, AVX512F, AVX512DQ, AVX512VL, and avo's "MMX+" for the PREFETCHh hints, which
// are SSE instructions (Intel CPUs do not report AMD's MMXEXT bit, so SSE is what is
// checked for them).
func registerArch() {
	avx2OK := cpuid.CPU.Supports(cpuid.SSE, cpuid.AVX, cpuid.AVX2, cpuid.FMA3)
	register(avx2Impl(), avx2OK, missing("SSE, AVX, AVX2, FMA3", avx2OK))
	avx512OK := avx2OK && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL)
	register(avx512Impl(), avx512OK, missing("AVX512F, AVX512DQ, AVX512BW, AVX512VL with OS zmm/opmask state", avx512OK))
}

func missing(what string, ok bool) string {
	if ok {
		return ""
	}
	return "the CPU or OS lacks " + what
}

// avx2Impl is the AVX2+FMA backend: the generic table with every kernel that has an
// AVX2 version replaced by it.
func avx2Impl() *impl {
	b := genericImpl()
	b.name, b.rank = "avx2", 10
	b.gemmSplit = 8 // a ymm vector: partial tiles are masked, computed like whole ones
	setAVX2Gemm(b)
	setAVX2Elementwise(b)
	return b
}

// avx512Impl is the AVX-512 backend. Its rank relative to avx2 is fixed here from
// measured whole-epoch times (see README, "Backends").
func avx512Impl() *impl {
	b := genericImpl()
	b.name, b.rank = "avx512", 20
	b.gemmSplit = 16 // a zmm vector: partial tiles are masked, computed like whole ones
	setAVX512Gemm(b)
	setAVX512Elementwise(b)
	return b
}
