package main

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

// TestEncodingsDisassemble sweeps every encoding function through the independent
// disassembler: each register field through all 32 values (the others held at values
// that differ from it, so a field written to the wrong bits shows), every lane index,
// and a set of mixed operands. objdump must print exactly the text the function
// gives, which is the comment the generator writes beside the WORD.
func TestEncodingsDisassemble(t *testing.T) {
	tool := objdump(t)
	var words []Word
	names := make([]string, 0, len(wordForms))
	for name := range wordForms {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		enc := wordForms[name]
		for r := V(0); r < 32; r++ {
			for i := 0; i < 4; i++ {
				words = append(words,
					enc(r, (r+7)%32, (r+19)%32, i),
					enc((r+5)%32, r, (r+23)%32, i),
					enc((r+11)%32, (r+29)%32, r, i),
				)
			}
		}
		words = append(words, enc(31, 31, 31, 3), enc(0, 0, 0, 0), enc(30, 1, 17, 2))
	}
	buf := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(buf[4*i:], w.Bits)
	}
	file := filepath.Join(t.TempDir(), "words.bin")
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-D", "-b", "binary", "-m", "aarch64", file).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, out)
	}
	var got []insn
	for _, ins := range parseDisassembly(out) {
		got = append(got, ins...)
	}
	if len(got) != len(words) {
		t.Fatalf("objdump printed %d instructions for %d words", len(got), len(words))
	}
	bad := 0
	for i, w := range words {
		if got[i].bits != w.Bits || got[i].text != w.Text {
			bad++
			if bad <= 20 {
				t.Errorf("word %#08x: objdump says %q (%#08x), the comment says %q", w.Bits, got[i].text, got[i].bits, w.Text)
			}
		}
	}
	t.Logf("%d encodings of %d instruction forms checked against %s", len(words), len(names), tool)
}
