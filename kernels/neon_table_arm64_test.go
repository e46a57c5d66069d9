//go:build arm64 && !purego && !noasm

package kernels

import (
	"reflect"
	"testing"
)

// TestNEONTableHoldsAssembly checks that the neon backend is what its name says: every
// entry of its table is a different function from the generic backend's, and the
// entries whose signature matches an assembly routine hold that routine itself (the
// others are Go wrappers over assembly: the SGEMM driver, softmax, and the two
// optimizers whose eps placement picks one of two routines).
func TestNEONTableHoldsAssembly(t *testing.T) {
	var neon *impl
	for _, r := range registry {
		if r.impl.name == "neon" {
			if !r.available {
				t.Fatalf("neon backend registered but not available: %s", r.why)
			}
			neon = r.impl
		}
	}
	if neon == nil {
		t.Fatal("no neon backend registered on arm64")
	}
	generic := genericImpl()
	nv, gv := reflect.ValueOf(neon).Elem(), reflect.ValueOf(generic).Elem()
	funcs := 0
	for i := 0; i < nv.NumField(); i++ {
		f := nv.Type().Field(i)
		if f.Type.Kind() != reflect.Func {
			continue
		}
		funcs++
		if nv.Field(i).IsNil() {
			t.Errorf("neon.%s is nil", f.Name)
			continue
		}
		if nv.Field(i).Pointer() == gv.Field(i).Pointer() {
			t.Errorf("neon.%s is the generic kernel", f.Name)
		}
	}
	asm := map[string]any{
		"addBias": addBiasNEON, "relu": reluNEON, "sigmoid": sigmoidNEON, "tanh": tanhNEON,
		"reluGrad": reluGradNEON, "sigmoidGrad": sigmoidGradNEON, "tanhGrad": tanhGradNEON,
		"colSums": colSumsNEON, "sgd": sgdNEON, "adam": adamNEON,
	}
	for name, fn := range asm {
		got := nv.FieldByName(name)
		if got.Pointer() != reflect.ValueOf(fn).Pointer() {
			t.Errorf("neon.%s does not hold the assembly routine", name)
		}
	}
	t.Logf("backend neon: %d table entries, none generic; %d hold assembly routines directly", funcs, len(asm))
}
