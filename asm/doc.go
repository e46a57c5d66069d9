// Package asm holds simdmlp's assembly generators, one program per folder, each writing
// a committed .s file (and its Go declarations) under ../kernels. It is its own module
// so that the product's go.mod does not depend on avo. Run them all with `make
// generate` (go generate ./... in this folder).
package asm
