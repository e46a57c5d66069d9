//go:build linux || darwin

package kernels_test

import (
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
	"testing"
	"unsafe"
)

// guardedPages is a readable, writable run of pages with an inaccessible page on
// each side: an operand placed flush against either edge makes any read or write
// past that end of the slice fault.
type guardedPages struct {
	mem    []byte    // the whole mapping
	floats []float32 // the accessible pages
}

func mapGuardedPages(t testing.TB, bytes int) *guardedPages {
	page := os.Getpagesize()
	n := (bytes + page - 1) / page
	mem, err := syscall.Mmap(-1, 0, (n+2)*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	for _, p := range [][]byte{mem[:page], mem[(n+1)*page:]} {
		if err := syscall.Mprotect(p, syscall.PROT_NONE); err != nil {
			t.Fatalf("mprotect: %v", err)
		}
	}
	rw := mem[page : (n+1)*page]
	return &guardedPages{mem: mem, floats: unsafe.Slice((*float32)(unsafe.Pointer(&rw[0])), len(rw)/4)}
}

// atEnd returns n floats ending at the last float32 before the inaccessible page;
// atStart returns n floats starting at the first float32 after the other one.
func (g *guardedPages) atEnd(n int) []float32 {
	e := len(g.floats)
	return g.floats[e-n : e : e]
}

func (g *guardedPages) atStart(n int) []float32 { return g.floats[:n:n] }

// TestEveryKernelReadsOnlyItsSlices places every operand of every kernel call flush
// against an inaccessible page, first with its last element the last float32 before
// the page, then with its first element the first float32 after one, for every
// length up to 66 and longer ones (every tail modulo 16 and 32): a kernel that loads a
// whole vector past either end of a slice faults, which debug.SetPanicOnFault turns
// into a panic this test reports.
func TestEveryKernelReadsOnlyItsSlices(t *testing.T) {
	const regionBytes = 64 << 10 // more than the largest operand of kernelCalls
	var regions []*guardedPages
	for i := 0; i < 4; i++ {
		regions = append(regions, mapGuardedPages(t, regionBytes))
	}
	forEachBackend(t, func(t testing.TB, _ string) {
		for _, n := range tableLens(testing.Short()) {
			for _, kc := range kernelCalls(n) {
				for _, atEnd := range []bool{true, false} {
					s := make([][]float32, len(kc.ops))
					for i, op := range kc.ops {
						if 4*op.n > regionBytes {
							t.Fatalf("%s: operand %s of %d floats does not fit the test's mapping", kc.name, op.name, op.n)
						}
						if atEnd {
							s[i] = regions[i].atEnd(op.n)
						} else {
							s[i] = regions[i].atStart(op.n)
						}
						for j := range s[i] {
							s[i][j] = op.fill(j)
						}
					}
					if err := callCatchingFaults(kc, s); err != nil {
						where := "start right after"
						if atEnd {
							where = "end right before"
						}
						t.Fatalf("%s (size %d), operands that %s an inaccessible page: %v", kc.name, n, where, err)
					}
				}
			}
		}
	})
}

// callCatchingFaults runs the call, turning a memory fault into an error.
func callCatchingFaults(kc kernelCall, s [][]float32) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fault: %v", r)
		}
	}()
	kc.call(s)
	return nil
}
