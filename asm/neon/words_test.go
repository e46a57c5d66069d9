package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestEmittedWordsDisassemble checks every WORD in the committed NEON assembly where
// it matters: in the arm64 binary the Go toolchain builds. It cross-compiles the
// kernels package's test binary (which references every generated function),
// disassembles it with aarch64-linux-gnu-objdump, and for each generated function
// finds its WORDs, in order, among the instructions of that function's symbol: each
// must disassemble to exactly the instruction written in its comment.
func TestEmittedWordsDisassemble(t *testing.T) {
	tool := objdump(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	funcs := generatedWords(t, filepath.Join(root, "kernels"))
	if len(funcs) == 0 {
		t.Fatal("no generated NEON functions found in kernels/*_arm64.s")
	}
	bin := filepath.Join(t.TempDir(), "kernels.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "./kernels/")
	build.Dir = root
	build.Env = append(os.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("cross-compiling the kernels test binary: %v\n%s", err, out)
	}
	out, err := exec.Command(tool, "-d", bin).Output()
	if err != nil {
		t.Fatalf("%s -d: %v", tool, err)
	}
	syms := parseDisassembly(out)
	names := make([]string, 0, len(funcs))
	for name := range funcs {
		names = append(names, name)
	}
	sort.Strings(names)
	total, forms := 0, map[string]bool{}
	for _, name := range names {
		sym := "github.com/simdmlp/simdmlp/kernels." + name + ".abi0"
		got, ok := syms[sym]
		if !ok {
			t.Errorf("%s: symbol %s not in the test binary", name, sym)
			continue
		}
		at := 0
		for _, w := range funcs[name] {
			for at < len(got) && got[at].bits != w.Bits {
				at++
			}
			if at == len(got) {
				t.Errorf("%s: WORD %#08x // %s not found (in order) in the binary", name, w.Bits, w.Text)
				break
			}
			if got[at].text != w.Text {
				t.Errorf("%s: WORD %#08x: objdump says %q, the comment says %q", name, w.Bits, got[at].text, w.Text)
			}
			forms[strings.Fields(w.Text)[0]] = true
			at++
			total++
		}
	}
	list := make([]string, 0, len(forms))
	for f := range forms {
		list = append(list, f)
	}
	sort.Strings(list)
	t.Logf("%d WORDs in %d functions match %s's disassembly; mnemonics: %s", total, len(names), tool, strings.Join(list, " "))
}

var (
	textLine = regexp.MustCompile(`^TEXT ·(\w+)\(SB\)`)
	wordLine = regexp.MustCompile(`^\tWORD \$0x([0-9a-f]{8}) // (.*)$`)
)

// generatedWords reads every asm/neon-generated .s file in dir and returns, per
// function, its WORDs in source order.
func generatedWords(t *testing.T, dir string) map[string][]Word {
	files, err := filepath.Glob(filepath.Join(dir, "*_arm64.s"))
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string][]Word{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		cur, ours := "", false
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, header[:len(header)-2]) {
				ours = true
			}
			if !ours {
				break
			}
			if m := textLine.FindStringSubmatch(line); m != nil {
				cur = m[1]
				funcs[cur] = funcs[cur][:0]
				continue
			}
			if m := wordLine.FindStringSubmatch(line); m != nil {
				bits, err := strconv.ParseUint(m[1], 16, 32)
				if err != nil {
					t.Fatal(err)
				}
				funcs[cur] = append(funcs[cur], Word{uint32(bits), m[2]})
			}
		}
		f.Close()
	}
	return funcs
}
