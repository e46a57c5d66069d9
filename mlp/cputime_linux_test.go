//go:build linux

package mlp

import (
	"syscall"
	"unsafe"
)

// threadCPUSeconds returns the CPU time the calling thread has used
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID), nanosecond resolution), and whether it
// could be read.
func threadCPUSeconds() (float64, bool) {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return float64(ts.Nano()) / 1e9, true
}
