//go:build linux

package kernels

import (
	"syscall"
	"unsafe"
)

// threadCPUNanos returns the CPU time the calling thread has used, in nanoseconds
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), and whether it could be read: with the
// goroutine locked to its thread, the difference between two readings leaves out
// the time other processes held the core.
func threadCPUNanos() (int64, bool) {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return ts.Nano(), true
}
