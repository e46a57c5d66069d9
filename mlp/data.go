package mlp

import "fmt"

// Validate checks that d is a consistent data set: positive sizes, X holding
// N*Features values, Y holding N labels, each in [0, Classes). name ("train", "test")
// prefixes the error.
func (d *Data) Validate(name string) error {
	if d == nil {
		return fmt.Errorf("mlp: %s data: want a data set, got nil", name)
	}
	if d.N < 1 || d.Features < 1 || d.Classes < 2 {
		return fmt.Errorf("mlp: %s data: want N >= 1, Features >= 1, Classes >= 2, got N=%d Features=%d Classes=%d", name, d.N, d.Features, d.Classes)
	}
	if d.N > 1<<31-1 {
		return fmt.Errorf("mlp: %s data: want at most %d samples, got %d", name, 1<<31-1, d.N)
	}
	if len(d.X) != d.N*d.Features {
		return fmt.Errorf("mlp: %s data: X has %d values, want N*Features = %d*%d = %d", name, len(d.X), d.N, d.Features, d.N*d.Features)
	}
	if len(d.Y) != d.N {
		return fmt.Errorf("mlp: %s data: Y has %d labels, want N = %d", name, len(d.Y), d.N)
	}
	for i, y := range d.Y {
		if int(y) >= d.Classes {
			return fmt.Errorf("mlp: %s data: label %d of sample %d, want 0 <= label < %d (Classes)", name, y, i, d.Classes)
		}
	}
	return nil
}

// pixelScale maps a uint8 pixel to float32(p)/255, the protocol's preprocessing,
// exactly as a float32 division would.
var pixelScale = func() (t [256]float32) {
	for p := range t {
		t[p] = float32(p) / 255
	}
	return t
}()

// gather scales the samples idx of d into x (row i = sample idx[i]) and their labels
// into labels.
func gather(x []float32, labels []int32, d *Data, idx []int32) {
	f := d.Features
	for i, s := range idx {
		src := d.X[int(s)*f : int(s)*f+f]
		dst := x[i*f : i*f+f]
		for j, p := range src {
			dst[j] = pixelScale[p]
		}
		labels[i] = int32(d.Y[s])
	}
}

// gatherRange is gather for the consecutive samples lo..hi-1.
func gatherRange(x []float32, labels []int32, d *Data, lo, hi int) {
	f := d.Features
	src := d.X[lo*f : hi*f]
	dst := x[:len(src)]
	for j, p := range src {
		dst[j] = pixelScale[p]
	}
	for i, y := range d.Y[lo:hi] {
		labels[i] = int32(y)
	}
}
