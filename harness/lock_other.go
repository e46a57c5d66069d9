//go:build !unix

package harness

import "os"

// lockFile is a no-op where flock is unavailable: a results file is then protected only
// within one process.
func lockFile(f *os.File) error { return nil }

func unlockFile(f *os.File) {}
