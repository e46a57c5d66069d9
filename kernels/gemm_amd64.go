//go:build amd64 && !purego && !noasm

package kernels

// setAVX2Gemm installs the AVX2+FMA GEMM (not written yet: generic).
func setAVX2Gemm(b *impl) {}

// setAVX512Gemm installs the AVX-512 GEMM (not written yet: generic).
func setAVX512Gemm(b *impl) {}
