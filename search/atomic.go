package search

import "github.com/simdmlp/simdmlp/harness"

// writeAtomic writes a file whole or not at all (harness.WriteFileAtomic).
func writeAtomic(path string, data []byte) error { return harness.WriteFileAtomic(path, data) }
