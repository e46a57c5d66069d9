package mlp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// tinyModel is a 5-3 relu-4 tanh-2 network with distinct, exactly representable
// weights, so a layout mistake (a transpose, a swapped tensor) shows.
func tinyModel(t testing.TB) *Model {
	t.Helper()
	m, err := NewModel(5, 2, []Layer{{Width: 3, Act: kernels.ReLU, Init: HeNormal}, {Width: 4, Act: kernels.Tanh}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.params {
		m.params[i] = float32(i+1) / 64
		if i%3 == 1 {
			m.params[i] = -m.params[i]
		}
	}
	m.meta["note"] = "hello"
	return m
}

func encode(t testing.TB, m *Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo: %d bytes reported, %d written, %v", n, buf.Len(), err)
	}
	return buf.Bytes()
}

// specFile is a safetensors file read with nothing but the format's definition
// (huggingface safetensors README): u64 LE header size, a JSON header, a data buffer.
type specFile struct {
	headerLen uint64
	header    map[string]json.RawMessage
	data      []byte
}

func readSpec(t *testing.T, b []byte) specFile {
	t.Helper()
	var f specFile
	f.headerLen = binary.LittleEndian.Uint64(b[:8])
	if err := json.Unmarshal(b[8:8+f.headerLen], &f.header); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	f.data = b[8+f.headerLen:]
	return f
}

// specTensor decodes one tensor of a spec-read file into float64s, row-major.
func (f specFile) tensor(t *testing.T, name string) (shape []int, vals []float64) {
	t.Helper()
	var e struct {
		Dtype       string `json:"dtype"`
		Shape       []int  `json:"shape"`
		DataOffsets [2]int `json:"data_offsets"`
	}
	raw, ok := f.header[name]
	if !ok {
		t.Fatalf("no tensor %q in the header", name)
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Dtype != "F32" {
		t.Fatalf("tensor %q: %s (%v)", name, raw, err)
	}
	buf := f.data[e.DataOffsets[0]:e.DataOffsets[1]]
	for i := 0; i+4 <= len(buf); i += 4 {
		vals = append(vals, float64(math.Float32frombits(binary.LittleEndian.Uint32(buf[i:]))))
	}
	return e.Shape, vals
}

// TestSafetensorsLayout reads a saved file with an independent reader written from
// the format's definition and checks the byte layout: the header length, the 8-byte
// alignment of the data, the metadata, each tensor's shape [out, in] and values
// (the transpose of Weights), the offsets covering the data exactly. It then runs the
// network from the file's tensors alone, as another framework would (y = act(x @
// weight.T + bias), softmax), and compares with Predict.
func TestSafetensorsLayout(t *testing.T) {
	m := tinyModel(t)
	b := encode(t, m)
	f := readSpec(t, b)
	if (8+f.headerLen)%8 != 0 {
		t.Errorf("data starts at byte %d, want a multiple of 8", 8+f.headerLen)
	}
	if want := 4 * m.Params(); len(f.data) != want {
		t.Errorf("data buffer %d bytes, want %d", len(f.data), want)
	}
	var meta map[string]string
	if err := json.Unmarshal(f.header["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{"format": "simdmlp.mlp.v1", "features": "5", "hidden_widths": "3,4", "hidden_activations": "relu,tanh",
		"hidden_inits": "he_normal,", "classes": "2", "output": "softmax", "weight_layout": "out,in", "input_scale": "1/255", "eval_batch": "64", "note": "hello"}
	if len(meta) != len(wantMeta) {
		t.Errorf("metadata %v, want %v", meta, wantMeta)
	}
	for k, v := range wantMeta {
		if meta[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, meta[k], v)
		}
	}
	if len(f.header) != 1+2*3 {
		t.Errorf("header has %d entries, want metadata + 6 tensors", len(f.header))
	}
	sizes := []int{5, 3, 4, 2}
	weights := make([][]float64, 3)
	biases := make([][]float64, 3)
	covered := 0
	for l := 0; l < 3; l++ {
		in, out := sizes[l], sizes[l+1]
		shape, w := f.tensor(t, "dense_"+string(rune('0'+l))+".weight")
		if len(shape) != 2 || shape[0] != out || shape[1] != in {
			t.Fatalf("layer %d weight shape %v, want [%d %d]", l, shape, out, in)
		}
		mw, mb := m.Weights(l)
		for j := 0; j < out; j++ {
			for i := 0; i < in; i++ {
				if w[j*in+i] != float64(mw[i*out+j]) {
					t.Fatalf("layer %d weight[%d][%d] = %v in the file, Weights()[%d*%d+%d] = %v", l, j, i, w[j*in+i], i, out, j, mw[i*out+j])
				}
			}
		}
		shape, bv := f.tensor(t, "dense_"+string(rune('0'+l))+".bias")
		if len(shape) != 1 || shape[0] != out {
			t.Fatalf("layer %d bias shape %v", l, shape)
		}
		for j := range bv {
			if bv[j] != float64(mb[j]) {
				t.Fatalf("layer %d bias %d: %v, want %v", l, j, bv[j], mb[j])
			}
		}
		weights[l], biases[l] = w, bv
		covered += 4 * (len(w) + len(bv))
	}
	if covered != len(f.data) {
		t.Errorf("tensors cover %d bytes of %d", covered, len(f.data))
	}
	// The other framework's forward pass, from the file's tensors only.
	x := []float32{0.1, 0.9, 0.5, 0, 1}
	in := []float64{0.1, 0.9, 0.5, 0, 1}
	for l := 0; l < 3; l++ {
		out := make([]float64, sizes[l+1])
		for j := range out {
			s := biases[l][j]
			for i := range in {
				s += in[i] * weights[l][j*sizes[l]+i] // x @ weight.T
			}
			switch l {
			case 0:
				s = math.Max(s, 0)
			case 1:
				s = math.Tanh(s)
			}
			out[j] = s
		}
		in = out
	}
	mx := math.Max(in[0], in[1])
	p0 := math.Exp(in[0]-mx) / (math.Exp(in[0]-mx) + math.Exp(in[1]-mx))
	probs := make([]float32, 2)
	if _, err := m.Predict(x, probs); err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(probs[0])-p0) > 1e-6 || math.Abs(float64(probs[1])-(1-p0)) > 1e-6 {
		t.Errorf("Predict %v, the file's tensors read as torch.nn.Linear give [%v %v]", probs, p0, 1-p0)
	}
}

// rewriteHeader decodes b's header, lets edit change it, and re-encodes the file
// with the same data buffer.
func rewriteHeader(t *testing.T, b []byte, edit func(h map[string]any)) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return withHeader(hb, b[8+n:])
}

func withHeader(h, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	return append(out, data...)
}

func tensorEntry(h map[string]any, name string) map[string]any { return h[name].(map[string]any) }

func metaEntry(h map[string]any) map[string]any { return h["__metadata__"].(map[string]any) }

// TestLoadModelErrors: every kind of corrupt or hostile file gives a *ModelFileError
// naming the file and the field, with what was wanted and found, never a panic.
func TestLoadModelErrors(t *testing.T) {
	good := encode(t, tinyModel(t))
	hlen := binary.LittleEndian.Uint64(good)
	data := good[8+hlen:]
	setLen := func(n uint64) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint64(b, n)
		return b
	}
	nanData := bytes.Clone(good)
	binary.LittleEndian.PutUint32(nanData[8+hlen+4*7:], math.Float32bits(float32(math.NaN())))
	cases := []struct {
		name, field, want string
		file              []byte
	}{
		{"empty", "header length", "want 8 bytes", nil},
		{"truncated length", "header length", "the file has 5", good[:5]},
		{"truncated header", "header length", "truncated", good[:8+hlen/2]},
		{"truncated data", "data", "truncated", good[:len(good)-1]},
		{"header length too large", "header length", "want at most 4194304", setLen(1 << 40)},
		{"header length max uint64", "header length", "want at most", setLen(math.MaxUint64)},
		{"header length past the end", "header length", "truncated", setLen(uint64(len(good)))},
		{"header length zero", "header length", "want at least 2", setLen(0)},
		{"not JSON", "header", "want a JSON object", withHeader([]byte("PK\x03\x04 not json"), data)},
		{"broken JSON", "header", "invalid JSON", withHeader([]byte(`{"a": `), data)},
		{"JSON then garbage", "header", "invalid JSON: invalid character 'x' after top-level value", withHeader([]byte(`{"__metadata__": {}} x`), data)},
		{"duplicate tensor", "header", `key "dense_0.bias" appears twice`, withHeader([]byte(`{"dense_0.bias": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}, "dense_0.bias": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}`), data)},
		{"duplicate metadata key", "__metadata__", `key "format" appears twice`, withHeader([]byte(`{"__metadata__": {"format": "a", "format": "b"}}`), data)},
		{"no metadata", "__metadata__", "missing", withHeader([]byte(`{}`), nil)},
		{"metadata number", "__metadata__.features", "want a string value", rewriteHeader(t, good, func(h map[string]any) { metaEntry(h)["features"] = 5 })},
		{"metadata not an object", "__metadata__", "want an object", rewriteHeader(t, good, func(h map[string]any) { h["__metadata__"] = []any{1} })},
		{"missing features", "__metadata__.features", "missing", rewriteHeader(t, good, func(h map[string]any) { delete(metaEntry(h), "features") })},
		{"wrong format", "__metadata__.format", `want "simdmlp.mlp.v1", got "keras"`, rewriteHeader(t, good, func(h map[string]any) { metaEntry(h)["format"] = "keras" })},
		{"wrong layout", "__metadata__.weight_layout", `want "out,in", got "in,out"`, rewriteHeader(t, good, func(h map[string]any) { metaEntry(h)["weight_layout"] = "in,out" })},
		{"unknown activation", "__metadata__.hidden_activations", `layer 1: want relu, sigmoid or tanh, got "gelu"`, rewriteHeader(t, good, func(h map[string]any) { metaEntry(h)["hidden_activations"] = "relu,gelu" })},
		{"activation count", "__metadata__.hidden_activations", "want 2 activations", rewriteHeader(t, good, func(h map[string]any) { metaEntry(h)["hidden_activations"] = "relu" })},
		{"bad width", "__metadata__.hidden_widths", `layer 0: want a width in 1..1048576, got "-3"`, rewriteHeader(t, good, func(h map[string]any) { metaEntry(h)["hidden_widths"] = "-3,4" })},
		{"huge architecture", "__metadata__", "parameters", rewriteHeader(t, good, func(h map[string]any) { metaEntry(h)["hidden_widths"] = "100000,100000" })},
		{"bad init", "__metadata__.hidden_inits", "want glorot_uniform, he_normal", rewriteHeader(t, good, func(h map[string]any) { metaEntry(h)["hidden_inits"] = "zeros,zeros" })},
		{"bad eval batch", "__metadata__.eval_batch", "want an integer in 1..65536", rewriteHeader(t, good, func(h map[string]any) { metaEntry(h)["eval_batch"] = "0" })},
		{"wrong dtype", "dense_1.weight.dtype", `want "F32", got "F16"`, rewriteHeader(t, good, func(h map[string]any) { tensorEntry(h, "dense_1.weight")["dtype"] = "F16" })},
		{"wrong shape", "dense_0.weight.shape", "want [3 5] ([out, in], from the architecture 5-3 relu-4 tanh-2 softmax), got [5 3]", rewriteHeader(t, good, func(h map[string]any) { tensorEntry(h, "dense_0.weight")["shape"] = []int{5, 3} })},
		{"negative shape", "dense_0.weight", "non-negative integers", rewriteHeader(t, good, func(h map[string]any) { tensorEntry(h, "dense_0.weight")["shape"] = []int{-3, 5} })},
		{"unknown field", "dense_0.weight", "unknown field", rewriteHeader(t, good, func(h map[string]any) { tensorEntry(h, "dense_0.weight")["scale"] = 2 })},
		{"missing tensor", "dense_2.bias", "missing", rewriteHeader(t, good, func(h map[string]any) { delete(h, "dense_2.bias") })},
		{"extra tensor", "dense_3.weight", "unexpected tensor", rewriteHeader(t, good, func(h map[string]any) {
			h["dense_3.weight"] = map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{0, 4}}
		})},
		{"offsets size", "dense_0.bias.data_offsets", "holds 8 bytes, want 12", rewriteHeader(t, good, func(h map[string]any) { tensorEntry(h, "dense_0.bias")["data_offsets"] = []int{60, 68} })},
		{"offsets reversed", "dense_0.bias.data_offsets", "want 12", rewriteHeader(t, good, func(h map[string]any) { tensorEntry(h, "dense_0.bias")["data_offsets"] = []int{72, 60} })},
		{"offsets three", "dense_0.bias.data_offsets", "want [begin, end]", rewriteHeader(t, good, func(h map[string]any) { tensorEntry(h, "dense_0.bias")["data_offsets"] = []int{60, 72, 80} })},
		{"overlapping offsets", "data_offsets", "overlaps the tensor before it", rewriteHeader(t, good, func(h map[string]any) {
			tensorEntry(h, "dense_0.bias")["data_offsets"] = []int{48, 60} // the last 12 bytes of dense_0.weight
		})},
		{"hole", "data_offsets", "leaves a hole", rewriteHeader(t, good, func(h map[string]any) {
			tensorEntry(h, "dense_0.weight")["data_offsets"] = []int{4, 64}
		})},
		{"bytes after the data", "data", "bytes after the last tensor", append(bytes.Clone(good), 0, 0, 0, 0)},
		{"NaN weight", "dense_0.weight", "value 7 (in file order) is NaN", nanData},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ReadModel(bytes.NewReader(c.file), "bad.safetensors")
			var fe *ModelFileError
			if !errors.As(err, &fe) {
				t.Fatalf("got model %v, error %v; want a *ModelFileError", m, err)
			}
			msg := err.Error()
			if fe.File != "bad.safetensors" || !strings.Contains(fe.Field, c.field) || !strings.Contains(msg, c.want) ||
				!strings.HasPrefix(msg, "mlp: model file bad.safetensors: ") {
				t.Errorf("got %q (field %q); want field %q and %q", msg, fe.Field, c.field, c.want)
			}
		})
	}
}

// TestLoadHostileAllocation: a short file whose header claims the largest model the
// limits allow costs memory in proportion to the file, not to the claim.
func TestLoadHostileAllocation(t *testing.T) {
	good := encode(t, tinyModel(t))
	// 8192-8192-... : 2^26 weights per layer, 256 MiB claimed by the header.
	hostile := rewriteHeader(t, good, func(h map[string]any) {
		md := metaEntry(h)
		md["features"], md["hidden_widths"], md["hidden_activations"], md["classes"] = "8192", "8192,8192", "relu,relu", "2"
		delete(md, "hidden_inits")
		for k := range h {
			if k != "__metadata__" {
				delete(h, k)
			}
		}
		sizes := []int{8192, 8192, 8192, 2}
		off := 0
		for l := 0; l < 3; l++ {
			in, out := sizes[l], sizes[l+1]
			h[tensorName(l, false)] = map[string]any{"dtype": "F32", "shape": []int{out, in}, "data_offsets": []int{off, off + 4*in*out}}
			off += 4 * in * out
			h[tensorName(l, true)] = map[string]any{"dtype": "F32", "shape": []int{out}, "data_offsets": []int{off, off + 4*out}}
			off += 4 * out
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadModel(bytes.NewReader(hostile), "hostile")
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("got %v, want a truncated-data error", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("reading a %d-byte file claiming 256 MiB allocated %d bytes", len(hostile), grew)
	}
}

// TestSaveAtomic: Save replaces an existing file whole, leaves no temporary file
// behind, and fails cleanly (nothing written) in a missing folder.
func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := os.WriteFile(path, []byte("old contents"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := tinyModel(t)
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, encode(t, m)) {
		t.Error("saved file differs from WriteTo's bytes")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("permission %v, want 0644", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after Save, want only the model", len(entries))
	}
	if err := m.Save(filepath.Join(dir, "missing", "m.safetensors")); err == nil {
		t.Error("Save into a missing folder: no error")
	}
	if _, err := LoadModel(filepath.Join(dir, "nope.safetensors")); err == nil || !strings.Contains(err.Error(), "nope.safetensors") {
		t.Errorf("LoadModel of a missing file: %v", err)
	}
}

// TestLoadForeignWriter: a file written the way other tools write (tensors in another
// order in the buffer, header padded differently, extra metadata) loads to the same
// model.
func TestLoadForeignWriter(t *testing.T) {
	m := tinyModel(t)
	f := encode(t, m)
	hlen := binary.LittleEndian.Uint64(f)
	data := f[8+hlen:]
	var h map[string]any
	if err := json.Unmarshal(f[8:8+hlen], &h); err != nil {
		t.Fatal(err)
	}
	// Reverse the order of the tensors in the buffer.
	type tens struct {
		name  string
		bytes []byte
	}
	var ts []tens
	for l := 2; l >= 0; l-- {
		for _, bias := range []bool{true, false} {
			n := tensorName(l, bias)
			off := tensorEntry(h, n)["data_offsets"].([]any)
			ts = append(ts, tens{n, data[int(off[0].(float64)):int(off[1].(float64))]})
		}
	}
	var nd []byte
	for _, x := range ts {
		tensorEntry(h, x.name)["data_offsets"] = []int{len(nd), len(nd) + len(x.bytes)}
		nd = append(nd, x.bytes...)
	}
	metaEntry(h)["producer"] = "another tool"
	hb, _ := json.Marshal(h)
	hb = append(hb, "     "...)
	got, err := ReadModel(bytes.NewReader(withHeader(hb, nd)), "foreign")
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.params {
		if got.params[i] != m.params[i] {
			t.Fatalf("param %d: %v, want %v", i, got.params[i], m.params[i])
		}
	}
	if got.Metadata()["producer"] != "another tool" || got.Metadata()["note"] != "hello" {
		t.Errorf("metadata %v", got.Metadata())
	}
}

// FuzzLoadModel: whatever the bytes, ReadModel returns a model or an error, never
// panics; a model it accepts writes back to a file that loads to the same model.
func FuzzLoadModel(f *testing.F) {
	good := encode(f, tinyModel(f))
	f.Add(good)
	f.Add(good[:40])
	f.Add(good[:len(good)-3])
	m2, _ := NewModel(3, 2, nil)
	f.Add(encode(f, m2))
	f.Add(withHeader([]byte(`{"__metadata__": {"format": "simdmlp.mlp.v1"}}`), nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadModel(bytes.NewReader(b), "fuzz")
		if err != nil {
			var fe *ModelFileError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		again, err := ReadModel(bytes.NewReader(encode(t, m)), "again")
		if err != nil {
			t.Fatalf("an accepted model does not load after WriteTo: %v", err)
		}
		if again.String() != m.String() || len(again.params) != len(m.params) {
			t.Fatalf("round trip: %s, want %s", again, m)
		}
		for i := range m.params {
			if math.Float32bits(again.params[i]) != math.Float32bits(m.params[i]) {
				t.Fatalf("round trip: param %d %v, want %v", i, again.params[i], m.params[i])
			}
		}
		if !bytes.Equal(encode(t, again), encode(t, m)) {
			t.Fatal("WriteTo is not stable across a round trip")
		}
	})
}
