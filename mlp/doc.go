// Package mlp is a dense neural network (hidden layers and a softmax output) and a
// trainer built only on package kernels: every buffer is sized once, so a training
// step and a whole epoch allocate nothing, and a seed fixes every random choice
// (initialization, split, shuffles), so the same seed on the same backend gives the
// same bits.
package mlp
