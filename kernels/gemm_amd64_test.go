//go:build amd64 && !purego && !noasm

package kernels

// Tests of the blocked amd64 SGEMM itself (plans, packing, micro-kernels, blocking),
// run directly on each plan the machine supports, against a float64 reference. The
// backend-agnostic suite in the other *_test.go files checks the public API on every
// backend; these aim at this implementation's own boundaries: every row and column
// count from 0 to 3 tiles + 1, K across the unroll and the kc block, M and N across
// mc and nc, strides with sentinels, guard bands, and operands that end right before
// an unmapped page.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// blkPlan is a gemm plan with the backend name it belongs to.
type blkPlan struct {
	name string
	plan *gemmPlan
}

// blkPlans returns the plans this machine can run (skipping the test when none).
func blkPlans(t *testing.T) []blkPlan {
	var ps []blkPlan
	for _, r := range registry {
		if !r.available {
			continue
		}
		switch r.impl.name {
		case "avx2":
			ps = append(ps, blkPlan{"avx2", avx2Gemm})
		case "avx512":
			ps = append(ps, blkPlan{"avx512", avx512Gemm})
		}
	}
	if len(ps) == 0 {
		t.Skip("the CPU runs neither the avx2 nor the avx512 backend")
	}
	return ps
}

// blkSentinel fills guard bands and the padding between rows. It is a NaN with a
// recognisable payload: read by mistake into a product it turns the result into NaN,
// and an unchanged blkSentinel is checked bit for bit.
var blkSentinel = math.Float32frombits(0x7fc0beef)

// blkGuarded is a matrix stored inside a larger buffer: guard sentinels before and
// after it, and sentinels in the ld-cols padding of every row.
type blkGuarded struct {
	buf            []float32
	s              []float32 // the matrix as passed to Sgemm: exactly (rows-1)*ld+cols long
	rows, cols, ld int
	off            int
	savedBuf       []float32
}

const blkGuardLen = 37

func newBlkGuarded(rows, cols, ld int, f func(i, j int) float32) *blkGuarded {
	n := 0
	if rows > 0 && cols > 0 {
		n = (rows-1)*ld + cols
	}
	g := &blkGuarded{buf: make([]float32, blkGuardLen+n+blkGuardLen), rows: rows, cols: cols, ld: ld, off: blkGuardLen}
	for i := range g.buf {
		g.buf[i] = blkSentinel
	}
	g.s = g.buf[blkGuardLen : blkGuardLen+n : blkGuardLen+n]
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			g.s[i*ld+j] = f(i, j)
		}
	}
	g.savedBuf = append([]float32(nil), g.buf...)
	return g
}

// checkOutside reports any element outside the matrix (guards, padding) that
// changed.
func (g *blkGuarded) checkOutside() error {
	for i, v := range g.buf {
		p := i - g.off
		inside := p >= 0 && p < len(g.s) && p%g.ld < g.cols
		if !inside && math.Float32bits(v) != math.Float32bits(g.savedBuf[i]) {
			return fmt.Errorf("element %d outside the matrix (offset %d from its start) changed from %v to %v", i, p, g.savedBuf[i], v)
		}
	}
	return nil
}

// checkUnchanged reports any change at all.
func (g *blkGuarded) checkUnchanged() error {
	for i, v := range g.buf {
		if math.Float32bits(v) != math.Float32bits(g.savedBuf[i]) {
			return fmt.Errorf("element %d changed from %v to %v", i, g.savedBuf[i], v)
		}
	}
	return nil
}

type blkCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	padA, padB     int // ld - row length
	padC           int
}

func (c blkCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s m=%d n=%d k=%d alpha=%v beta=%v pads=%d,%d,%d", t(c.transA), t(c.transB), c.m, c.n, c.k, c.alpha, c.beta, c.padA, c.padB, c.padC)
}

// blkRef is the float64 reference: want = alpha*op(A)*op(B) + beta*C and the
// magnitude sum |alpha|*sum|op(A)||op(B)| + |beta*C| that bounds its rounding error.
func blkRef(cs blkCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (want, mag []float64) {
	m, n, k := cs.m, cs.n, cs.k
	want, mag = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			if cs.alpha != 0 {
				for p := 0; p < k; p++ {
					var x, y float32
					if cs.transA {
						x = a[p*lda+i]
					} else {
						x = a[i*lda+p]
					}
					if cs.transB {
						y = b[j*ldb+p]
					} else {
						y = b[p*ldb+j]
					}
					s += float64(x) * float64(y)
					sa += math.Abs(float64(x) * float64(y))
				}
			}
			w := float64(cs.alpha) * s
			mg := math.Abs(float64(cs.alpha)) * sa
			if cs.beta != 0 {
				w += float64(cs.beta) * float64(c[i*ldc+j])
				mg += math.Abs(float64(cs.beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], mag[i*n+j] = w, mg
		}
	}
	return want, mag
}

// blkRun runs one case on plan p and checks the result, the guards and the
// padding.
func blkRun(p *gemmPlan, cs blkCase, rng *rand.Rand) error {
	m, n, k := cs.m, cs.n, cs.k
	ar, ac := m, k
	if cs.transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if cs.transB {
		br, bc = n, k
	}
	val := func(int, int) float32 { return float32(rng.IntN(17)-8) / 4 }
	if cs.alpha == 0 { // A and B must not be read
		val = func(int, int) float32 { return float32(math.NaN()) }
	}
	lda, ldb, ldc := max(1, ac)+cs.padA, max(1, bc)+cs.padB, max(1, n)+cs.padC
	A := newBlkGuarded(ar, ac, lda, val)
	B := newBlkGuarded(br, bc, ldb, val)
	cval := func(int, int) float32 { return float32(rng.IntN(9) - 4) }
	if cs.beta == 0 { // C must not be read
		cval = func(i, j int) float32 {
			if (i+j)%2 == 0 {
				return float32(math.NaN())
			}
			return float32(math.Inf(1 - 2*(i%2)))
		}
	}
	C := newBlkGuarded(m, n, ldc, cval)
	want, mag := blkRef(cs, A.s, lda, B.s, ldb, C.s, ldc)
	if m > 0 && n > 0 {
		p.sgemm(cs.transA, cs.transB, m, n, k, cs.alpha, A.s, lda, B.s, ldb, cs.beta, C.s, ldc)
	}
	tol := 4 * float64(k+2) * 0x1p-24
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			got := float64(C.s[i*ldc+j])
			w := want[i*n+j]
			if math.IsNaN(got) || math.Abs(got-w) > tol*mag[i*n+j]+1e-30 {
				return fmt.Errorf("%v: C[%d][%d] = %v, want %v (tolerance %.3g)", cs, i, j, got, w, tol*mag[i*n+j])
			}
		}
	}
	if err := A.checkUnchanged(); err != nil {
		return fmt.Errorf("%v: A: %v", cs, err)
	}
	if err := B.checkUnchanged(); err != nil {
		return fmt.Errorf("%v: B: %v", cs, err)
	}
	if err := C.checkOutside(); err != nil {
		return fmt.Errorf("%v: C: %v", cs, err)
	}
	return nil
}

var blkTransposes = [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}

// TestGemmPlanTiles covers every M and N from 0 to 3 tiles + 1 of each plan's
// register tile, with K crossing the kernels' unroll (4), every transpose, and both
// beta == 0 (NaN and Inf in C) and beta != 0.
func TestGemmPlanTiles(t *testing.T) {
	for _, pu := range blkPlans(t) {
		t.Run(pu.name, func(t *testing.T) {
			p := pu.plan
			rng := rand.New(rand.NewPCG(1, 2))
			ks := []int{1, 5}
			if testing.Short() {
				ks = []int{5}
			}
			for _, tr := range blkTransposes {
				for m := 0; m <= 3*p.mr+1; m++ {
					for n := 0; n <= 3*p.nr()+1; n++ {
						for ki, k := range ks {
							cs := blkCase{transA: tr[0], transB: tr[1], m: m, n: n, k: k, alpha: 1, beta: 0,
								padA: (m + n) % 3, padB: (m * n) % 5, padC: (m + 2*n) % 4}
							if (m+n+ki)%2 == 1 {
								cs.alpha, cs.beta = -1.5, 0.5
							}
							if err := blkRun(p, cs, rng); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmPlanK crosses the unroll and the kc blocking (kcDirect with B in place, kc
// with B packed) with K, for tile-edge M and N.
func TestGemmPlanK(t *testing.T) {
	for _, pu := range blkPlans(t) {
		t.Run(pu.name, func(t *testing.T) {
			p := pu.plan
			rng := rand.New(rand.NewPCG(3, 4))
			ks := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 13, p.kcDirect - 1, p.kcDirect, p.kcDirect + 1, p.kc - 1, p.kc, p.kc + 1, 2*p.kc + 3}
			ms := []int{1, p.mr - 1, p.mr, p.mr + 1, 2*p.mr + 3}
			ns := []int{1, p.lanes - 1, p.lanes + 1, p.nr(), p.nr() + 1, 2*p.nr() + 5}
			for _, tr := range blkTransposes {
				for _, k := range ks {
					for _, m := range ms {
						for _, n := range ns {
							for _, ab := range [][2]float32{{1, 0}, {2, 1}, {0.5, -2}, {0, 0}, {0, 3}} {
								cs := blkCase{transA: tr[0], transB: tr[1], m: m, n: n, k: k, alpha: ab[0], beta: ab[1],
									padA: k % 3, padB: 1, padC: 2}
								if err := blkRun(p, cs, rng); err != nil {
									t.Fatal(err)
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmPlanBlocks crosses the mc, nc and kc blocks together, so the packing of
// later blocks, beta = 1 on later kc blocks and the C offsets of later blocks run,
// both with B packed (large M) and read in place (small M).
func TestGemmPlanBlocks(t *testing.T) {
	for _, pu := range blkPlans(t) {
		t.Run(pu.name, func(t *testing.T) {
			p := pu.plan
			rng := rand.New(rand.NewPCG(5, 6))
			// Above directMaxM B is packed; at or below it B is read in place, with
			// only its last partial panel packed (and reused by later mc blocks
			// when directMaxM > mc).
			for _, m := range []int{max(p.mc, p.directMaxM) + p.mr + 3, p.directMaxM, min(p.directMaxM, 2*p.mr+1)} {
				for _, tr := range blkTransposes {
					for _, beta := range []float32{0, 0.25} {
						cs := blkCase{transA: tr[0], transB: tr[1], m: m, n: p.nc + p.nr() + 7, k: 2*p.kc + 9,
							alpha: 0.75, beta: beta, padA: 3, padB: 5, padC: 1}
						if err := blkRun(p, cs, rng); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		})
	}
}

// TestGemmPlanConcurrent runs several goroutines' GEMMs at once: each must get its
// own packing workspace.
func TestGemmPlanConcurrent(t *testing.T) {
	for _, pu := range blkPlans(t) {
		t.Run(pu.name, func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 7))
					for it := 0; it < 20; it++ {
						cs := blkCase{transA: it%2 == 1, transB: g%2 == 1, m: 40 + g, n: 70 + it, k: 300, alpha: 1, beta: 0.5}
						if err := blkRun(pu.plan, cs, rng); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		})
	}
}

// blkEndOfMapping returns a slice of n float32s that ends exactly at the start of an
// unmapped (PROT_NONE) page, so reading even one element past it faults, and a
// function that releases the mapping.
func blkEndOfMapping(t *testing.T, n int) ([]float32, func()) {
	page := syscall.Getpagesize()
	size := (n*4+page-1)/page*page + page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	end := size - page
	b := mem[end-4*n : end]
	var s []float32
	if n > 0 {
		s = blkFloats(b)
	}
	return s, func() { syscall.Munmap(mem) }
}

// TestGemmPlanEndOfPage puts A, B and C right before an unmapped page for tail
// shapes: a masked load (or a packing read) touching anything past the end of a
// slice faults, which SetPanicOnFault turns into a test failure.
func TestGemmPlanEndOfPage(t *testing.T) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	for _, pu := range blkPlans(t) {
		t.Run(pu.name, func(t *testing.T) {
			p := pu.plan
			rng := rand.New(rand.NewPCG(8, 9))
			for _, tr := range blkTransposes {
				for _, m := range []int{1, p.mr - 1, p.mr + 1} {
					for _, n := range []int{1, 3, p.lanes - 1, p.lanes + 1, p.nr() - 1, p.nr() + 5} {
						for _, k := range []int{1, 3, 6, 17} {
							for _, beta := range []float32{0, 1} {
								if err := blkEndOfPageCase(t, p, tr[0], tr[1], m, n, k, beta, rng); err != nil {
									t.Fatal(err)
								}
							}
						}
					}
				}
			}
		})
	}
}

func blkEndOfPageCase(t *testing.T, p *gemmPlan, transA, transB bool, m, n, k int, beta float32, rng *rand.Rand) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("transA=%v transB=%v m=%d n=%d k=%d beta=%v: fault: %v", transA, transB, m, n, k, beta, r)
		}
	}()
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+1, bc+2, n+3 // the last row is still the end of the slice
	a, freeA := blkEndOfMapping(t, (ar-1)*lda+ac)
	defer freeA()
	b, freeB := blkEndOfMapping(t, (br-1)*ldb+bc)
	defer freeB()
	c, freeC := blkEndOfMapping(t, (m-1)*ldc+n)
	defer freeC()
	for i := range a {
		a[i] = float32(rng.IntN(5) - 2)
	}
	for i := range b {
		b[i] = float32(rng.IntN(5) - 2)
	}
	for i := range c {
		c[i] = float32(rng.IntN(5) - 2)
	}
	cs := blkCase{transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, beta: beta}
	want, _ := blkRef(cs, a, lda, b, ldb, c, ldc)
	p.sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if got := c[i*ldc+j]; float64(got) != want[i*n+j] { // small integers: exact
				return fmt.Errorf("transA=%v transB=%v m=%d n=%d k=%d: C[%d][%d] = %v, want %v", transA, transB, m, n, k, i, j, got, want[i*n+j])
			}
		}
	}
	return nil
}

func blkFloats(b []byte) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// BenchmarkGemmKernel measures the micro-kernel alone on packed panels already in
// cache (one mc x kc block of A against a kc x nc block of B, as the driver calls
// it), against the backend's FMA peak: the ceiling of the whole GEMM.
func BenchmarkGemmKernel(b *testing.B) {
	for _, pu := range []blkPlan{{"avx2", avx2Gemm}, {"avx512", avx512Gemm}} {
		if PeakGFLOPS(pu.name) == 0 {
			continue
		}
		p := pu.plan
		for _, sh := range [][3]int{{64, 600, 256}, {64, 600, 64}, {128, 672, 256}} {
			m, n, kc := sh[0], sh[1], sh[2]
			b.Run(fmt.Sprintf("%s/m%dn%dkc%d", pu.name, m, n, kc), func(b *testing.B) {
				a := alignedFloats((m + p.mr) * kc)
				bb := alignedFloats(kc * (n + p.nr()))
				c := make([]float32, m*n)
				for i := range a {
					a[i] = 1
				}
				for i := range bb {
					bb[i] = 1
				}
				nr := p.nr()
				for b.Loop() {
					for ir := 0; ir < m; ir += p.mr {
						for jr := 0; jr < n; jr += nr {
							cols := min(nr, n-jr)
							nv := (cols + p.lanes - 1) / p.lanes
							p.kernel(nv, kc, &a[ir*kc], p.mr, &bb[jr*kc], nv*p.lanes, &bb[jr*kc], 4*nv*p.lanes, &c[ir*n+jr], n, 1, 0, min(p.mr, m-ir), cols)
						}
					}
				}
				g := 2 * float64(m*n*kc) * float64(b.N) / float64(b.Elapsed().Nanoseconds())
				b.ReportMetric(g, "GFLOP/s")
				b.ReportMetric(100*g/PeakGFLOPS(pu.name), "%peak")
			})
		}
	}
}
