//go:build arm64 && !purego && !noasm

package kernels

// setNEONElementwise installs the NEON elementwise kernels (not written yet: generic).
func setNEONElementwise(b *impl) {}
