//go:build linux

package mlp

import "syscall"

// threadCPUSeconds returns the CPU time the calling thread has used
// (getrusage(RUSAGE_THREAD)), and whether it could be read.
func threadCPUSeconds() (float64, bool) {
	const rusageThread = 1
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, true
}
