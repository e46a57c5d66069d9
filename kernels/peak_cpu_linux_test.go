//go:build linux

package kernels

import (
	"syscall"
	"unsafe"
)

// ThreadCPUNanos returns the CPU time the calling thread has used, in nanoseconds
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), and whether it could be read. With the
// goroutine locked to its thread, the difference between two readings is the time
// the code in between ran, excluding the time other processes had the core: the
// benchmarks report a CPU-time GFLOP/s beside the wall-clock one, so that a busy
// shared machine does not hide how fast the kernels are.
func ThreadCPUNanos() (int64, bool) {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return ts.Nano(), true
}
