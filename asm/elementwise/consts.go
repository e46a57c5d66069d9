package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// Lane constants: each is stored as 16 copies (64 bytes), so AVX2 code reads it as a
// 256-bit memory operand and AVX-512 code as a 512-bit one. Values are given as bit
// patterns so that the generated data never depends on how this program rounds.
var lanes = []struct {
	name string
	bits uint32
}{
	{"absmask", 0x7fffffff},
	{"signmask", 0x80000000},
	{"minnormal", 0x00800000}, // smallest normal float32, 2^-126
	{"neginf", 0xff800000},
	{"one", math.Float32bits(1)},
	{"two", math.Float32bits(2)},
	{"bias127", 127}, // float32 exponent bias, as an int32
	// exp: the argument is clamped to [explo, exphi] first (NaN passes), which
	// keeps k in the range scale2k handles and sends -Inf to 0, +Inf to +Inf.
	{"explo", math.Float32bits(-112)}, // exp(-112) is below half the smallest subnormal
	{"exphi", math.Float32bits(89)},   // exp(89) is above the largest float32
	{"log2e", math.Float32bits(float32(math.Log2E))},
	// ln2 split in two float32s: ln2hi is ln2 rounded, ln2lo the rest.
	{"ln2hi", math.Float32bits(float32(math.Ln2))},
	{"ln2lo", math.Float32bits(float32(math.Ln2 - float64(float32(math.Ln2))))},
	{"q0", expQ[0]}, {"q1", expQ[1]}, {"q2", expQ[2]}, {"q3", expQ[3]}, {"q4", expQ[4]},
	// Adam's negligible-step test (optimizers.go).
	{"two64", math.Float32bits(0x1p64)},
	{"p2m62", math.Float32bits(0x1p-62)},
	{"p2m70", math.Float32bits(0x1p-70)},
	{"p2m30", math.Float32bits(0x1p-30)},
	// tanh: |x| is clamped to tanhhi, where tanh rounds to exactly 1 in float32
	// (1 - tanh(9.5) = 1.1e-8 < 2^-25).
	{"tanhhi", math.Float32bits(9.5)},
}

var constants = map[string]Mem{}

// constant returns the data symbol called name (declared by declareConstants).
func constant(name string) Mem {
	m, ok := constants[name]
	if !ok {
		panic("unknown constant " + name)
	}
	return m
}

// declareConstants emits every data section the kernels use.
func declareConstants() {
	for _, c := range lanes {
		m := GLOBL(c.name, RODATA|NOPTR)
		for i := 0; i < 16; i++ {
			DATA(4*i, U32(c.bits))
		}
		constants[c.name] = m
	}
	// ymasks: 8 all-ones dwords then 8 zero dwords; the 8 dwords starting at 8-r
	// are the AVX2 lane mask of the first r lanes.
	m := GLOBL("ymasks", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	constants["ymasks"] = m
	// kmasks[r] = (1<<r)-1: the AVX-512 opmask of the first r lanes.
	m = GLOBL("kmasks", RODATA|NOPTR)
	for r := 0; r <= 16; r++ {
		DATA(2*r, U16(uint16(1<<r-1)))
	}
	constants["kmasks"] = m
}
