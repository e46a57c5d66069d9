package kernels_test

import (
	"fmt"

	"github.com/simdmlp/simdmlp/kernels"
)

// Sgemm is a BLAS sgemm for row-major matrices: C = alpha*op(A)*op(B) + beta*C. Here a
// 2x3 matrix times a 3x2 matrix, then the same product with A stored transposed and
// accumulated into C. (The values are small integers, exact in float32 whatever the
// order of the sums, so every backend prints the same.)
func ExampleSgemm() {
	a := []float32{ // 2x3
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{ // 3x2
		7, 8,
		9, 10,
		11, 12,
	}
	c := make([]float32, 2*2)
	// m=2, n=2, k=3; leading dimensions are the row lengths as stored.
	kernels.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)

	at := []float32{ // A stored as its 3x2 transpose
		1, 4,
		2, 5,
		3, 6,
	}
	// C = 0.5*A*B + 1*C: op(A) = A^T of the stored 3x2 matrix (lda 2).
	kernels.Sgemm(true, false, 2, 2, 3, 0.5, at, 2, b, 2, 1, c, 2)
	fmt.Println(c)
	// Output:
	// [58 64 139 154]
	// [87 96 208.5 231]
}

// A sub-matrix is addressed with an offset slice and the full matrix's leading
// dimension, as in BLAS: here the product of the bottom-right 2x2 blocks of two 3x3
// matrices, written into the top-left block of a 3x3 result.
func ExampleSgemm_subMatrix() {
	a := []float32{
		1, 1, 1,
		1, 2, 0,
		1, 0, 3,
	}
	b := []float32{
		1, 1, 1,
		1, 4, 5,
		1, 6, 7,
	}
	c := make([]float32, 9)
	kernels.Sgemm(false, false, 2, 2, 2, 1, a[4:], 3, b[4:], 3, 0, c, 3)
	fmt.Println(c)
	// Output:
	// [8 10 0 18 21 0 0 0 0]
}
