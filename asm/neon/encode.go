package main

import "fmt"

// Go's arm64 assembler has no mnemonics for most floating-point vector instructions
// (it has VFMLA and VFMLS, the integer and bitwise vector operations, loads and
// stores). The ones below are emitted as WORD directives, each computed here from
// register numbers by ONE function per instruction, which also writes the
// instruction as binutils' objdump prints it; that text becomes the comment beside
// the WORD, and the tests (encode_test.go, words_test.go) assert that
// aarch64-linux-gnu-objdump disassembles every emitted word to exactly its comment.
//
// Every instruction here works on four single-precision lanes (arrangement 4S) or,
// for the bitwise one, sixteen bytes (16B). Field layouts are those of the Arm
// Architecture Reference Manual (A64 "Advanced SIMD" encoding groups).

// V is a SIMD register number, 0..31.
type V uint8

// S4 is the Go assembler operand for the register as four float32 lanes.
func (v V) S4() string { return fmt.Sprintf("V%d.S4", v) }

// B16 is the Go assembler operand for the register as sixteen bytes.
func (v V) B16() string { return fmt.Sprintf("V%d.B16", v) }

// F is the Go assembler name of the register's low 32 bits (a scalar float32).
func (v V) F() string { return fmt.Sprintf("F%d", v) }

// Lane is the Go assembler operand for one float32 lane of the register.
func (v V) Lane(i int) string { return fmt.Sprintf("V%d.S[%d]", v, i) }

// Word is one encoded instruction and its disassembly in objdump's syntax.
type Word struct {
	Bits uint32
	Text string
}

func reg5(v V) uint32 {
	if v > 31 {
		panic(fmt.Sprintf("neon: register V%d out of range", v))
	}
	return uint32(v)
}

// threeSame4S encodes the "three registers of the same type" group for 4S:
// 0 Q=1 U 01110 a sz=0 1 Rm opcode 1 Rn Rd; base holds U, a and the opcode.
func threeSame4S(mnemonic string, base uint32, d, n, m V) Word {
	return Word{
		Bits: base | reg5(m)<<16 | reg5(n)<<5 | reg5(d),
		Text: fmt.Sprintf("%s v%d.4s, v%d.4s, v%d.4s", mnemonic, d, n, m),
	}
}

// twoMisc4S encodes the "two-register miscellaneous" group for 4S:
// 0 Q=1 U 01110 a sz=0 10000 opcode 10 Rn Rd; suffix is what objdump prints after
// the operands (", #0.0" for the compares against zero).
func twoMisc4S(mnemonic string, base uint32, d, n V, suffix string) Word {
	return Word{
		Bits: base | reg5(n)<<5 | reg5(d),
		Text: fmt.Sprintf("%s v%d.4s, v%d.4s%s", mnemonic, d, n, suffix),
	}
}

// byElement4S encodes the "vector x indexed element" group for single precision:
// 0 Q=1 U 01111 1 sz=0 L M Rm opcode H 0 Rn Rd, where the element index is H:L and
// the element's register is M:Rm.
func byElement4S(mnemonic string, base uint32, d, n, m V, index int) Word {
	if index < 0 || index > 3 {
		panic(fmt.Sprintf("neon: lane index %d out of range", index))
	}
	h, l := uint32(index>>1), uint32(index&1)
	return Word{
		Bits: base | h<<11 | l<<21 | reg5(m)<<16 | reg5(n)<<5 | reg5(d),
		Text: fmt.Sprintf("%s v%d.4s, v%d.4s, v%d.s[%d]", mnemonic, d, n, m, index),
	}
}

// FADD: d = n + m.
func FADD(d, n, m V) Word { return threeSame4S("fadd", 0x4e20d400, d, n, m) }

// FSUB: d = n - m.
func FSUB(d, n, m V) Word { return threeSame4S("fsub", 0x4ea0d400, d, n, m) }

// FMUL: d = n * m.
func FMUL(d, n, m V) Word { return threeSame4S("fmul", 0x6e20dc00, d, n, m) }

// FDIV: d = n / m (correctly rounded).
func FDIV(d, n, m V) Word { return threeSame4S("fdiv", 0x6e20fc00, d, n, m) }

// FMIN: d = min(n, m); NaN in either operand gives NaN.
func FMIN(d, n, m V) Word { return threeSame4S("fmin", 0x4ea0f400, d, n, m) }

// FCMGT: d = all ones where n > m, else zero (false for NaN).
func FCMGT(d, n, m V) Word { return threeSame4S("fcmgt", 0x6ea0e400, d, n, m) }

// FACGT: d = all ones where |n| > |m|, else zero (false for NaN).
func FACGT(d, n, m V) Word { return threeSame4S("facgt", 0x6ea0ec00, d, n, m) }

// FADDP: pairwise add: d = {n0+n1, n2+n3, m0+m1, m2+m3}.
func FADDP(d, n, m V) Word { return threeSame4S("faddp", 0x6e20d400, d, n, m) }

// BIC: d = n AND NOT m, bitwise over the 128 bits.
func BIC(d, n, m V) Word {
	return Word{
		Bits: 0x4e601c00 | reg5(m)<<16 | reg5(n)<<5 | reg5(d),
		Text: fmt.Sprintf("bic v%d.16b, v%d.16b, v%d.16b", d, n, m),
	}
}

// FRINTN: d = n rounded to an integral value, ties to even.
func FRINTN(d, n V) Word { return twoMisc4S("frintn", 0x4e218800, d, n, "") }

// FCVTZS: d = n converted to int32, rounding toward zero.
func FCVTZS(d, n V) Word { return twoMisc4S("fcvtzs", 0x4ea1b800, d, n, "") }

// FSQRT: d = sqrt(n) (correctly rounded).
func FSQRT(d, n V) Word { return twoMisc4S("fsqrt", 0x6ea1f800, d, n, "") }

// FNEG: d = -n (sign bit flipped, NaN included).
func FNEG(d, n V) Word { return twoMisc4S("fneg", 0x6ea0f800, d, n, "") }

// FABS: d = |n| (sign bit cleared).
func FABS(d, n V) Word { return twoMisc4S("fabs", 0x4ea0f800, d, n, "") }

// FCMLTZ: d = all ones where n < 0, else zero (false for NaN and -0).
func FCMLTZ(d, n V) Word { return twoMisc4S("fcmlt", 0x4ea0e800, d, n, ", #0.0") }

// FCMGTZ: d = all ones where n > 0, else zero (false for NaN).
func FCMGTZ(d, n V) Word { return twoMisc4S("fcmgt", 0x4ea0c800, d, n, ", #0.0") }

// FMLAE: d += n * m[index] (fused, one rounding).
func FMLAE(d, n, m V, index int) Word { return byElement4S("fmla", 0x4f801000, d, n, m, index) }

// FMULE: d = n * m[index].
func FMULE(d, n, m V, index int) Word { return byElement4S("fmul", 0x4f809000, d, n, m, index) }

// wordForms lists every encoding function, for the tests that sweep their operands
// through the disassembler. Each entry builds the instruction from three register
// numbers and a lane index, ignoring what its form does not use.
var wordForms = map[string]func(d, n, m V, i int) Word{
	"FADD":   func(d, n, m V, _ int) Word { return FADD(d, n, m) },
	"FSUB":   func(d, n, m V, _ int) Word { return FSUB(d, n, m) },
	"FMUL":   func(d, n, m V, _ int) Word { return FMUL(d, n, m) },
	"FDIV":   func(d, n, m V, _ int) Word { return FDIV(d, n, m) },
	"FMIN":   func(d, n, m V, _ int) Word { return FMIN(d, n, m) },
	"FCMGT":  func(d, n, m V, _ int) Word { return FCMGT(d, n, m) },
	"FACGT":  func(d, n, m V, _ int) Word { return FACGT(d, n, m) },
	"FADDP":  func(d, n, m V, _ int) Word { return FADDP(d, n, m) },
	"BIC":    func(d, n, m V, _ int) Word { return BIC(d, n, m) },
	"FRINTN": func(d, n, _ V, _ int) Word { return FRINTN(d, n) },
	"FCVTZS": func(d, n, _ V, _ int) Word { return FCVTZS(d, n) },
	"FSQRT":  func(d, n, _ V, _ int) Word { return FSQRT(d, n) },
	"FNEG":   func(d, n, _ V, _ int) Word { return FNEG(d, n) },
	"FABS":   func(d, n, _ V, _ int) Word { return FABS(d, n) },
	"FCMLTZ": func(d, n, _ V, _ int) Word { return FCMLTZ(d, n) },
	"FCMGTZ": func(d, n, _ V, _ int) Word { return FCMGTZ(d, n) },
	"FMLAE":  func(d, n, m V, i int) Word { return FMLAE(d, n, m, i) },
	"FMULE":  func(d, n, m V, i int) Word { return FMULE(d, n, m, i) },
}
