//go:build amd64 && !purego && !noasm

package kernels

// setAVX2Elementwise installs the AVX2 elementwise kernels (not written yet: generic).
func setAVX2Elementwise(b *impl) {}

// setAVX512Elementwise installs the AVX-512 elementwise kernels (not written yet: generic).
func setAVX512Elementwise(b *impl) {}
