//go:build purego || noasm || !(amd64 || arm64)

package kernels

// registerArch registers nothing: without assembly only the generic backend exists.
func registerArch() {}
