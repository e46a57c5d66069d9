//go:build amd64 && !purego && !noasm

package kernels

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// ewPage is one read-write page between two inaccessible ones: a kernel that reads
// or writes one element before or past a slice placed at either end of it faults,
// which kills the test binary (a failure nobody can miss).
type ewPage struct {
	mem []byte
	f   []float32
}

func newEWPage(t *testing.T) *ewPage {
	t.Helper()
	ps := os.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 3*ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	if err := syscall.Mprotect(mem[:ps], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[2*ps:], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	p := &ewPage{mem: mem, f: unsafe.Slice((*float32)(unsafe.Pointer(&mem[ps])), ps/4)}
	for i := range p.f {
		p.f[i] = 0.25
	}
	return p
}

// end returns the last n floats of the page; start the first n.
func (p *ewPage) end(n int) []float32   { return p.f[len(p.f)-n : len(p.f) : len(p.f)] }
func (p *ewPage) start(n int) []float32 { return p.f[:n:n] }

// labels returns n zero labels ending at the page's end.
func (p *ewPage) labels(n int) []int32 {
	l := unsafe.Slice((*int32)(unsafe.Pointer(&p.f[0])), len(p.f))
	s := l[len(l)-n:]
	clear(s)
	return s
}

// TestKernelsAtPageEdges runs every kernel with every slice ending exactly at an
// inaccessible page, and again starting exactly after one, at every tail length of
// both vector widths: the masked loads and stores of the tails must not touch the
// lanes they mask out (VMASKMOVPS and AVX-512 masked moves suppress faults there).
func TestKernelsAtPageEdges(t *testing.T) {
	forEachSIMD(t, func(t *testing.T, b *impl) {
		pg := []*ewPage{newEWPage(t), newEWPage(t), newEWPage(t), newEWPage(t)}
		for _, atEnd := range []bool{true, false} {
			place := func(k, n int) []float32 {
				if atEnd {
					return pg[k].end(n)
				}
				return pg[k].start(n)
			}
			for n := 0; n <= 3*16+1; n++ {
				b.relu(place(0, n), place(1, n))
				b.sigmoid(place(0, n), place(1, n))
				b.tanh(place(0, n), place(1, n))
				b.reluGrad(place(0, n), place(1, n), place(2, n))
				b.sigmoidGrad(place(0, n), place(1, n), place(2, n))
				b.tanhGrad(place(0, n), place(1, n), place(2, n))
				b.sgd(place(0, n), place(1, n), tLR)
				b.adam(place(0, n), place(1, n), place(2, n), place(3, n), tLRT, tB1, tB2, tEps)
				for _, inside := range []bool{true, false} {
					b.adagrad(place(0, n), place(1, n), place(2, n), tLR, tEps, inside)
					b.rmsprop(place(0, n), place(1, n), place(2, n), tLR, tRho, tEps, inside)
				}
				if n == 0 {
					continue
				}
				for _, m := range []int{1, 3} {
					ld := n + 5
					size := (m-1)*ld + n
					b.addBias(m, n, place(0, size), ld, place(1, n))
					b.colSums(m, n, place(0, size), ld, place(1, n))
					// labels end at page 3's end; logits and grad at pages 0 and 1.
					labels := pg[3].labels(m)
					b.softmaxXent(m, n, place(0, size), ld, labels, place(1, size), ld, 1, place(2, m))
					b.softmaxXent(m, n, place(0, size), ld, labels, nil, ld, 1, nil)
				}
			}
		}
	})
}

// TestGeneratedAssembly checks properties of elementwise_amd64.s that the Go
// assembler would not: AVX2 functions use only the 16 VEX-encodable vector
// registers and no opmask (Y16-Y31 would silently become AVX-512 instructions);
// each function's "Requires:" line names only extensions the dispatch condition of
// its backend checks (arch_amd64.go); every RET is preceded by VZEROUPPER.
func TestGeneratedAssembly(t *testing.T) {
	src, err := os.ReadFile("elementwise_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	if !strings.HasPrefix(text, "// Code generated") || !strings.Contains(strings.SplitN(text, "\n", 2)[0], "DO NOT EDIT.") {
		t.Errorf("elementwise_amd64.s lacks the generated-code header")
	}
	allowed := map[string][]string{
		"AVX2":   {"AVX", "AVX2", "FMA3"},
		"AVX512": {"AVX", "AVX2", "FMA3", "AVX512F", "AVX512DQ", "AVX512BW", "AVX512VL"},
	}
	highReg := regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[0-7])\b`)
	funcs := strings.Split(text, "\n// func ")[1:]
	if len(funcs) == 0 {
		t.Fatal("no functions found")
	}
	seen := 0
	for _, f := range funcs {
		name := f[:strings.Index(f, "(")]
		set := "AVX2"
		if strings.HasSuffix(name, "AVX512") {
			set = "AVX512"
		} else if !strings.HasSuffix(name, "AVX2") {
			t.Errorf("%s: name does not end in AVX2 or AVX512", name)
			continue
		}
		seen++
		if end := strings.Index(f, "\nDATA "); end >= 0 {
			f = f[:end]
		}
		if end := strings.Index(f, "\nGLOBL "); end >= 0 {
			f = f[:end]
		}
		req := regexp.MustCompile(`// Requires: (.*)`).FindStringSubmatch(f)
		if req == nil {
			t.Errorf("%s: no Requires line", name)
		} else {
			for _, ext := range strings.Split(req[1], ", ") {
				if !slices.Contains(allowed[set], ext) {
					t.Errorf("%s requires %s, which the %s dispatch condition does not check", name, ext, set)
				}
			}
		}
		var prev string
		rets := 0
		for _, line := range strings.Split(f, "\n") {
			ins := strings.TrimSpace(line)
			if i := strings.Index(ins, "//"); i >= 0 {
				ins = strings.TrimSpace(ins[:i])
			}
			if ins == "" || strings.HasSuffix(ins, ":") {
				continue
			}
			if set == "AVX2" && highReg.MatchString(ins) {
				t.Errorf("%s uses a register AVX2 cannot encode: %s", name, ins)
			}
			if ins == "RET" {
				rets++
				if prev != "VZEROUPPER" {
					t.Errorf("%s: RET after %q, want VZEROUPPER", name, prev)
				}
			}
			prev = ins
		}
		if rets == 0 {
			t.Errorf("%s has no RET", name)
		}
	}
	if seen < 2*14 {
		t.Errorf("found %d functions, want 14 kernels for each of AVX2 and AVX-512", seen)
	}
}
