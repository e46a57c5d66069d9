package kernels

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// impl is one backend: a table of function values filled once at init. Every field is
// set; a backend that has no faster version of a kernel points the field at the
// generic one. The exported API validates arguments, then calls through the table of
// the current backend, so hot loops never branch on CPU features.
type impl struct {
	name string
	// rank orders backends when several are available: the highest wins by default.
	// It is fixed in code from measured whole-epoch times (see backend files), never
	// measured at start-up, so two runs on one machine use the same backend.
	rank int

	sgemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	// fused holds the backend's fused kernels; SgemmBiasAct composes the kernels
	// above where it has none.
	fused fusedKernels
	// gemmSplit is the column multiple at which a Pool may split a GEMM's C (and
	// op(B)) between threads without changing any element's bits: a multiple of
	// the widths the backend computes C in (its vector, or its register tile when
	// partial tiles take a different path).
	gemmSplit int

	addBias     func(m, n int, x []float32, ldx int, bias []float32)
	relu        func(dst, src []float32)
	sigmoid     func(dst, src []float32)
	tanh        func(dst, src []float32)
	reluGrad    func(dx, dy, y []float32)
	sigmoidGrad func(dx, dy, y []float32)
	tanhGrad    func(dx, dy, y []float32)
	colSums     func(m, n int, x []float32, ldx int, dst []float32)
	softmaxXent func(m, n int, logits []float32, ldl int, labels []int32, grad []float32, ldg int, scale float32, rowLoss []float32) (correct int)

	sgd     func(w, g []float32, lr float32)
	adam    func(w, g, m, v []float32, lrT, beta1, beta2, eps float32)
	adagrad func(w, g, acc []float32, lr, eps float32, epsInside bool)
	rmsprop func(w, g, s []float32, lr, rho, eps float32, epsInside bool)
}

// registry holds every backend this build knows, whether or not the CPU can run it.
var registry []*registered

type registered struct {
	impl      *impl
	available bool   // the CPU and OS support every ISA the backend's code needs
	why       string // when not available: what is missing
}

// current is the backend in use. It is read on every call (one atomic load) and
// changed only by Use.
var current atomic.Pointer[impl]

// register adds a backend. Backend files call it from init; the generic backend is
// always registered and always available.
func register(b *impl, available bool, why string) {
	registry = append(registry, &registered{impl: b, available: available, why: why})
}

// EnvBackend names the environment variable that forces a backend for a whole program.
const EnvBackend = "SIMDMLP_BACKEND"

func init() {
	register(genericImpl(), true, "")
	registerArch()
	best := registry[0]
	for _, r := range registry[1:] {
		if r.available && r.impl.rank > best.impl.rank {
			best = r
		}
	}
	current.Store(best.impl)
	if name := os.Getenv(EnvBackend); name != "" {
		if err := Use(name); err != nil {
			panic(fmt.Sprintf("simdmlp/kernels: %s=%s: %v", EnvBackend, name, err))
		}
	}
}

// Backend returns the name of the backend in use.
func Backend() string { return current.Load().name }

// Backends returns the names of the backends this machine can run, fastest first.
// "generic" is always among them.
func Backends() []string {
	var avail []*impl
	for _, r := range registry {
		if r.available {
			avail = append(avail, r.impl)
		}
	}
	for i := 1; i < len(avail); i++ { // insertion sort by rank, highest first
		for j := i; j > 0 && avail[j].rank > avail[j-1].rank; j-- {
			avail[j], avail[j-1] = avail[j-1], avail[j]
		}
	}
	names := make([]string, len(avail))
	for i, b := range avail {
		names[i] = b.name
	}
	return names
}

// Use switches every kernel to the named backend ("generic", "avx2", "avx512" or
// "neon"). It returns an error, and changes nothing, when the name is unknown or the
// machine cannot run that backend. Use is meant for start-up, tests and benchmarks:
// kernels already running keep the backend they started with.
func Use(name string) error {
	for _, r := range registry {
		if r.impl.name != name {
			continue
		}
		if !r.available {
			return fmt.Errorf("backend %q is not available on this machine (%s); available: %s",
				name, r.why, strings.Join(Backends(), ", "))
		}
		current.Store(r.impl)
		return nil
	}
	known := []string{"generic", "avx2", "avx512", "neon"}
	return fmt.Errorf("unknown backend %q: want one of %s; available here: %s",
		name, strings.Join(known, ", "), strings.Join(Backends(), ", "))
}
