//go:build !linux

package mlp

// threadCPUSeconds is not implemented outside Linux.
func threadCPUSeconds() (float64, bool) { return 0, false }
