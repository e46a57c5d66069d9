//go:build !amd64 || purego || noasm

package kernels

// archFMALoops: no SIMD peak loop in this build (a neon loop would go here).
func archFMALoops() map[string]fmaLoop { return map[string]fmaLoop{} }
