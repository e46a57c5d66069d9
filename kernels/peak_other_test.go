//go:build !amd64 || purego || noasm

package kernels

// archPeakLoops: no SIMD peak loop on this build (the neon backend would add its own).
func archPeakLoops() map[string]peakLoop { return map[string]peakLoop{} }
