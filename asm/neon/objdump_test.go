package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// objdumpName is Debian's binutils-aarch64-linux-gnu disassembler: independent of the
// Go toolchain, so it checks our encodings against the GNU assembler's tables rather
// than against Go's own idea of arm64.
const objdumpName = "aarch64-linux-gnu-objdump"

// objdump returns the path of the disassembler, skipping the test when it is missing
// except under CI=true, where a missing checker is a failure.
func objdump(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath(objdumpName)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (apt-get install binutils-aarch64-linux-gnu): the WORD encodings cannot be checked", objdumpName)
		}
		t.Skipf("SKIP: %s not found (apt-get install binutils-aarch64-linux-gnu)", objdumpName)
	}
	return path
}

// An insn is one line of objdump's disassembly: the instruction word and its text.
type insn struct {
	bits uint32
	text string
}

var insnLine = regexp.MustCompile(`^\s*[0-9a-f]+:\t([0-9a-f]{8}) \t(.*)$`)

// parseDisassembly reads objdump -d output. It returns, per symbol (the name
// between < and > on a symbol's header line), its instructions in address order.
func parseDisassembly(out []byte) map[string][]insn {
	syms := map[string][]insn{}
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, " <"); i > 0 && strings.HasSuffix(line, ">:") {
			cur = line[i+2 : len(line)-2]
			continue
		}
		m := insnLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var bits uint32
		for _, c := range m[1] {
			bits = bits<<4 | uint32(strings.IndexRune("0123456789abcdef", c))
		}
		syms[cur] = append(syms[cur], insn{bits, normalize(m[2])})
	}
	return syms
}

// normalize turns objdump's "fadd\tv0.4s, v1.4s, v2.4s" into the single-spaced form
// our comments use, dropping any trailing "// comment" objdump adds.
func normalize(s string) string {
	if i := strings.Index(s, "//"); i >= 0 {
		s = s[:i]
	}
	return strings.Join(strings.Fields(s), " ")
}
