package mlp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/simdmlp/simdmlp/kernels"
)

// The metadata keys of a model file.
const (
	MetaFormat            = "format"
	MetaFeatures          = "features"
	MetaHiddenWidths      = "hidden_widths"
	MetaHiddenActivations = "hidden_activations"
	MetaHiddenInits       = "hidden_inits"
	MetaClasses           = "classes"
	MetaOutput            = "output"
	MetaWeightLayout      = "weight_layout"
	MetaInputScale        = "input_scale"
	MetaEvalBatch         = "eval_batch"
	MetaTrainConfig       = "train_config"
)

// The fixed values of the metadata keys that admit only one.
const (
	FormatV1          = "simdmlp.mlp.v1"
	outputSoftmax     = "softmax"
	weightLayoutOutIn = "out,in"
	inputScale255     = "1/255"
)

// MaxHeaderBytes is the largest header a model file may declare. A model's header
// takes about 150 bytes per layer plus its metadata; the cap keeps a hostile length
// from costing memory.
const MaxHeaderBytes = 1 << 22

// maxEvalBatch bounds the eval_batch metadata value.
const maxEvalBatch = 1 << 16

// ModelFileError is a model file that cannot be loaded: File names it, Field the part
// of it at fault ("header length", "header", "__metadata__.hidden_widths",
// "dense_0.weight.shape", "data", ...), Msg says what was expected and what was found.
type ModelFileError struct {
	File, Field, Msg string
}

func (e *ModelFileError) Error() string {
	return fmt.Sprintf("mlp: model file %s: %s: %s", e.File, e.Field, e.Msg)
}

func fileErr(file, field, format string, a ...any) error {
	return &ModelFileError{File: file, Field: field, Msg: fmt.Sprintf(format, a...)}
}

// tensorName returns the name of layer l's weight or bias tensor.
func tensorName(l int, bias bool) string {
	if bias {
		return "dense_" + strconv.Itoa(l) + ".bias"
	}
	return "dense_" + strconv.Itoa(l) + ".weight"
}

// tensorInfo is one tensor's entry in the header.
type tensorInfo struct {
	Dtype       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// metadata returns the model's header metadata: the architecture and the free keys.
func (m *Model) metadata() map[string]string {
	md := make(map[string]string, len(m.meta)+10)
	for k, v := range m.meta {
		md[k] = v
	}
	widths := make([]string, 0, len(m.acts)-1)
	acts := make([]string, 0, len(m.acts)-1)
	inits := make([]string, 0, len(m.acts)-1)
	anyInit := false
	for l := 0; l+1 < len(m.acts); l++ {
		widths = append(widths, strconv.Itoa(m.sizes[l+1]))
		acts = append(acts, m.acts[l].String())
		inits = append(inits, string(m.inits[l]))
		anyInit = anyInit || m.inits[l] != ""
	}
	md[MetaFormat] = FormatV1
	md[MetaFeatures] = strconv.Itoa(m.Features())
	md[MetaHiddenWidths] = strings.Join(widths, ",")
	md[MetaHiddenActivations] = strings.Join(acts, ",")
	if anyInit {
		md[MetaHiddenInits] = strings.Join(inits, ",")
	}
	md[MetaClasses] = strconv.Itoa(m.Classes())
	md[MetaOutput] = outputSoftmax
	md[MetaWeightLayout] = weightLayoutOutIn
	md[MetaInputScale] = inputScale255
	md[MetaEvalBatch] = strconv.Itoa(m.evalBatch)
	return md
}

// WriteTo writes the model to w in the safetensors format described at Save.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	header := map[string]any{"__metadata__": m.metadata()}
	var off uint64
	for l := range m.w {
		in, out := uint64(m.sizes[l]), uint64(m.sizes[l+1])
		header[tensorName(l, false)] = tensorInfo{Dtype: "F32", Shape: []uint64{out, in}, DataOffsets: []uint64{off, off + 4*in*out}}
		off += 4 * in * out
		header[tensorName(l, true)] = tensorInfo{Dtype: "F32", Shape: []uint64{out}, DataOffsets: []uint64{off, off + 4*out}}
		off += 4 * out
	}
	h, err := json.Marshal(header) // map keys sorted: the same model gives the same bytes
	if err != nil {
		return 0, fmt.Errorf("mlp: encoding the model header: %w", err)
	}
	// Pad with spaces so the data buffer starts 8-byte aligned, as the reference
	// implementation does (readers that map the file can then view it in place).
	if r := (8 + len(h)) % 8; r != 0 {
		h = append(h, bytes.Repeat([]byte{' '}, 8-r)...)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var n int64
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(h)))
	k, _ := bw.Write(lenBuf[:])
	n += int64(k)
	k, _ = bw.Write(h)
	n += int64(k)
	var f [4]byte
	put := func(v float32) {
		binary.LittleEndian.PutUint32(f[:], math.Float32bits(v))
		k, _ := bw.Write(f[:])
		n += int64(k)
	}
	for l := range m.w {
		in, out := m.sizes[l], m.sizes[l+1]
		for j := 0; j < out; j++ { // file row j = unit j: the transpose of w
			for i := 0; i < in; i++ {
				put(m.w[l][i*out+j])
			}
		}
		for _, v := range m.b[l] {
			put(v)
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("mlp: writing the model: %w", err)
	}
	return n, nil
}

// Save writes the model to path in the safetensors format, atomically: the bytes go
// to a temporary file in the same folder, which is flushed to stable storage and
// renamed over path, so a reader (or a crash) sees the old file or the whole new one,
// never a part. The file gets permission 0644.
//
// The file is in the safetensors format, so other ecosystems' safetensors readers
// open it:
//
//	8 bytes    N, the header length, unsigned little-endian
//	N bytes    the header: a JSON object, padded with spaces (0x20) so that the data
//	           starts at a multiple of 8 bytes
//	the rest   the data buffer: every tensor's values, float32 little-endian, row-major
//
// The header maps each tensor name to {"dtype": "F32", "shape": [...], "data_offsets":
// [begin, end]} (byte offsets into the data buffer, end exclusive) and holds, under
// "__metadata__", string keys with string values (the format allows no other), which
// carry the architecture.
//
// Layer l (0 = first hidden layer; the softmax layer is the last) is stored as two
// tensors, "dense_<l>.weight" of shape [out, in] and "dense_<l>.bias" of shape [out]:
// the layout of torch.nn.Linear, the convention of the safetensors ecosystem, where a
// layer computes act(x @ weight.T + bias). (In memory, and in Model.Weights, the
// weights are [in, out], Keras's kernel layout: the file holds the transpose, and a
// Keras Dense layer's kernel is weight.T.) The tensors follow each other in layer
// order, weight before bias.
//
// Metadata keys written and checked on loading (the Meta* constants):
//
//	format              "simdmlp.mlp.v1"
//	features            the number of inputs, e.g. "784"
//	hidden_widths       the hidden layers' widths, comma-separated, e.g. "600,200" ("" for none)
//	hidden_activations  their activations: relu, sigmoid or tanh, e.g. "relu,relu"
//	classes             the number of outputs, e.g. "10"
//	output              "softmax": the last layer's outputs are logits of a softmax
//	weight_layout       "out,in": the weight tensors' shape convention above
//	input_scale         "1/255": inputs are uint8 pixels divided by 255
//
// and optionally hidden_inits (the initializers the layers were trained from),
// eval_batch (the batch size Evaluate uses, see Model.Evaluate) and train_config (the
// training configuration as JSON). Other metadata keys are kept (Model.Metadata) and
// written back unchanged.
func (m *Model) Save(path string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("mlp: saving the model: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = m.WriteTo(f); err != nil {
		return fmt.Errorf("mlp: saving the model to %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("mlp: saving the model to %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("mlp: saving the model to %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("mlp: saving the model to %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("mlp: saving the model to %s: %w", path, err)
	}
	// Make the rename itself durable where the platform allows syncing a folder.
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// LoadModel reads a model file written by Save (or by any safetensors writer, given
// the metadata and tensors Save writes); see ReadModel for what is checked.
func LoadModel(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mlp: %w", err)
	}
	defer f.Close()
	return ReadModel(f, path)
}

// ReadModel reads a model in the safetensors format from r; name identifies it in
// errors. Everything is checked before the model is built: the header length (within
// MaxHeaderBytes and the input), the header (one JSON object, no duplicate keys,
// string metadata values), the architecture in the metadata (known keys and values,
// known activations, the limits of NewModel), every tensor (present once, dtype F32,
// the shape the architecture implies, no unknown tensor), the offsets (inside the
// data, not overlapping, covering the data buffer exactly with nothing after it, as
// the format requires) and the values (finite). Any problem is a *ModelFileError
// naming the field. Memory grows only with the bytes actually read, so a short file
// claiming a huge model costs nothing.
func ReadModel(r io.Reader, name string) (*Model, error) {
	var lenBuf [8]byte
	if n, err := io.ReadFull(r, lenBuf[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fileErr(name, "header length", "truncated: want 8 bytes (little-endian uint64), the file has %d", n)
		}
		return nil, fmt.Errorf("mlp: model file %s: %w", name, err)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > MaxHeaderBytes {
		return nil, fileErr(name, "header length", "%d bytes, want at most %d (not a model file, or a corrupt one)", hlen, MaxHeaderBytes)
	}
	if hlen < 2 {
		return nil, fileErr(name, "header length", "%d bytes, want at least 2 (a JSON object)", hlen)
	}
	h, err := io.ReadAll(io.LimitReader(r, int64(hlen)))
	if err != nil {
		return nil, fmt.Errorf("mlp: model file %s: %w", name, err)
	}
	if uint64(len(h)) < hlen {
		return nil, fileErr(name, "header length", "%d bytes, but only %d bytes follow it: truncated file", hlen, len(h))
	}
	tensors, meta, err := parseHeader(h, name)
	if err != nil {
		return nil, err
	}
	m, err := modelFromMeta(meta, name) // no weights allocated yet
	if err != nil {
		return nil, err
	}
	total, err := m.checkTensors(tensors, name)
	if err != nil {
		return nil, err
	}
	// Read at most one byte more than the header accounts for, growing the buffer as
	// bytes arrive: the header's claims never decide an allocation.
	data, err := io.ReadAll(io.LimitReader(r, int64(total)+1))
	if err != nil {
		return nil, fmt.Errorf("mlp: model file %s: %w", name, err)
	}
	if uint64(len(data)) < total {
		return nil, fileErr(name, "data", "the tensors need %d bytes after the header, the file has %d: truncated", total, len(data))
	}
	if uint64(len(data)) > total {
		return nil, fileErr(name, "data", "bytes after the last tensor (the tensors cover %d bytes); the format wants the data buffer covered exactly", total)
	}
	m.alloc()
	for l := range m.w {
		in, out := m.sizes[l], m.sizes[l+1]
		src := data[tensors[tensorName(l, false)].DataOffsets[0]:]
		for j := 0; j < out; j++ {
			for i := 0; i < in; i++ {
				m.w[l][i*out+j] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*(j*in+i):]))
			}
		}
		src = data[tensors[tensorName(l, true)].DataOffsets[0]:]
		for j := range m.b[l] {
			m.b[l][j] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*j:]))
		}
		for bias, vals := range [][]float32{m.w[l], m.b[l]} {
			for i, v := range vals {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fileErr(name, tensorName(l, bias == 1), "value %d (in file order) is %v, want a finite number", fileIndex(i, in, out, bias == 1), v)
				}
			}
		}
	}
	return m, nil
}

// fileIndex maps index i of a weight in memory ([in, out]) to its index in the file
// ([out, in]); a bias index is the same in both.
func fileIndex(i, in, out int, bias bool) int {
	if bias {
		return i
	}
	return (i%out)*in + i/out
}

// parseHeader decodes the header JSON: tensor entries and the metadata. It rejects
// anything but one valid JSON object (padded with spaces only), duplicate keys, unknown fields
// in a tensor entry and non-string metadata values.
func parseHeader(h []byte, name string) (map[string]tensorInfo, map[string]string, error) {
	if h[0] != '{' {
		return nil, nil, fileErr(name, "header", "want a JSON object starting with '{', got %q", h[:min(len(h), 16)])
	}
	end := len(bytes.TrimRight(h, " "))
	if !json.Valid(h[:end]) {
		var v any
		err := json.Unmarshal(h[:end], &v)
		return nil, nil, fileErr(name, "header", "invalid JSON: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(h[:end]))
	dec.DisallowUnknownFields()
	bad := func(err error) error {
		return fileErr(name, "header", "invalid JSON at byte %d: %v", dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != nil { // '{'
		return nil, nil, bad(err)
	}
	tensors := map[string]tensorInfo{}
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, bad(err)
		}
		key := tok.(string) // object keys are strings once Token succeeded
		if seen[key] {
			return nil, nil, fileErr(name, "header", "key %q appears twice", key)
		}
		seen[key] = true
		if key == "__metadata__" {
			if meta, err = parseMeta(dec, name); err != nil {
				return nil, nil, err
			}
			continue
		}
		var t tensorInfo
		if err := dec.Decode(&t); err != nil {
			return nil, nil, fileErr(name, key, "want {\"dtype\", \"shape\", \"data_offsets\"} with non-negative integers: %v", err)
		}
		tensors[key] = t
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, bad(err)
	}
	if meta == nil {
		return nil, nil, fileErr(name, "__metadata__", "missing: the architecture is stored there")
	}
	return tensors, meta, nil
}

// parseMeta decodes the metadata object: string keys, each once, with string values.
func parseMeta(dec *json.Decoder, name string) (map[string]string, error) {
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fileErr(name, "__metadata__", "want an object of string values, got %v (%v)", tok, err)
	}
	meta := map[string]string{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, fileErr(name, "__metadata__", "invalid JSON: %v", err)
		}
		key := k.(string)
		v, err := dec.Token()
		if err != nil {
			return nil, fileErr(name, "__metadata__."+key, "invalid JSON: %v", err)
		}
		s, ok := v.(string)
		if !ok {
			return nil, fileErr(name, "__metadata__."+key, "want a string value (the format allows no other), got %v", v)
		}
		if _, dup := meta[key]; dup {
			return nil, fileErr(name, "__metadata__", "key %q appears twice", key)
		}
		meta[key] = s
	}
	if _, err := dec.Token(); err != nil {
		return nil, fileErr(name, "__metadata__", "invalid JSON: %v", err)
	}
	return meta, nil
}

// reservedMeta are the metadata keys the architecture is read from and written to.
var reservedMeta = []string{MetaFormat, MetaFeatures, MetaHiddenWidths, MetaHiddenActivations, MetaHiddenInits,
	MetaClasses, MetaOutput, MetaWeightLayout, MetaInputScale, MetaEvalBatch}

// modelFromMeta checks the architecture in the metadata and returns a model of it
// whose weights are not allocated yet (see alloc).
func modelFromMeta(meta map[string]string, name string) (*Model, error) {
	field := func(k string) string { return "__metadata__." + k }
	get := func(k string) (string, error) {
		v, ok := meta[k]
		if !ok {
			return "", fileErr(name, field(k), "missing")
		}
		return v, nil
	}
	fixed := map[string]string{MetaFormat: FormatV1, MetaOutput: outputSoftmax, MetaWeightLayout: weightLayoutOutIn, MetaInputScale: inputScale255}
	for _, k := range []string{MetaFormat, MetaOutput, MetaWeightLayout, MetaInputScale} {
		v, err := get(k)
		if err != nil {
			return nil, err
		}
		if v != fixed[k] {
			return nil, fileErr(name, field(k), "want %q, got %q", fixed[k], v)
		}
	}
	count := func(k string, lo int) (int, error) {
		v, err := get(k)
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > MaxUnits {
			return 0, fileErr(name, field(k), "want an integer in %d..%d, got %q", lo, MaxUnits, v)
		}
		return n, nil
	}
	features, err := count(MetaFeatures, 1)
	if err != nil {
		return nil, err
	}
	classes, err := count(MetaClasses, 2)
	if err != nil {
		return nil, err
	}
	list := func(k string, required bool) ([]string, error) {
		v, ok := meta[k]
		if !ok && required {
			return nil, fileErr(name, field(k), "missing")
		}
		if v == "" {
			return nil, nil
		}
		if strings.Count(v, ",") >= MaxLayers {
			return nil, fileErr(name, field(k), "want at most %d hidden layers, got %d", MaxLayers-1, strings.Count(v, ",")+1)
		}
		return strings.Split(v, ","), nil
	}
	ws, err := list(MetaHiddenWidths, true)
	if err != nil {
		return nil, err
	}
	as, err := list(MetaHiddenActivations, true)
	if err != nil {
		return nil, err
	}
	is, err := list(MetaHiddenInits, false)
	if err != nil {
		return nil, err
	}
	if len(as) != len(ws) {
		return nil, fileErr(name, field(MetaHiddenActivations), "want %d activations (one per hidden width %q), got %d (%q)", len(ws), meta[MetaHiddenWidths], len(as), meta[MetaHiddenActivations])
	}
	if is != nil && len(is) != len(ws) {
		return nil, fileErr(name, field(MetaHiddenInits), "want %d initializers (one per hidden width), got %d (%q)", len(ws), len(is), meta[MetaHiddenInits])
	}
	hidden := make([]Layer, len(ws))
	for i, w := range ws {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 || n > MaxUnits {
			return nil, fileErr(name, field(MetaHiddenWidths), "layer %d: want a width in 1..%d, got %q", i, MaxUnits, w)
		}
		hidden[i].Width = n
		a, err := kernels.ParseActivation(as[i])
		if err != nil || a == kernels.Identity {
			return nil, fileErr(name, field(MetaHiddenActivations), "layer %d: want relu, sigmoid or tanh, got %q", i, as[i])
		}
		hidden[i].Act = a
		if is != nil {
			switch Init(is[i]) {
			case GlorotUniform, HeNormal, "":
				hidden[i].Init = Init(is[i])
			default:
				return nil, fileErr(name, field(MetaHiddenInits), "layer %d: want glorot_uniform, he_normal or nothing, got %q", i, is[i])
			}
		}
	}
	m, err := newModel(features, classes, hidden, false)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return nil, fileErr(name, "__metadata__", "architecture %s: want %s, got %s", fe.Field, fe.Want, fe.Got)
		}
		return nil, fileErr(name, "__metadata__", "%v", err)
	}
	if v, ok := meta[MetaEvalBatch]; ok {
		n, err := strconv.Atoi(v)
		units := 0
		for _, s := range m.sizes {
			units += s
		}
		if err != nil || n < 1 || n > maxEvalBatch || n*units > MaxParams {
			return nil, fileErr(name, field(MetaEvalBatch), "want an integer in 1..%d (at most %d values of activations), got %q", maxEvalBatch, MaxParams, v)
		}
		m.evalBatch = n
	}
	for k, v := range meta {
		if !slices.Contains(reservedMeta, k) {
			m.meta[k] = v
		}
	}
	return m, nil
}

// checkTensors checks the header's tensor entries against the architecture and
// returns the size of the data buffer they cover.
func (m *Model) checkTensors(tensors map[string]tensorInfo, name string) (uint64, error) {
	type span struct {
		name       string
		begin, end uint64
	}
	spans := make([]span, 0, 2*len(m.sizes))
	want := map[string]bool{}
	for l := 0; l+1 < len(m.sizes); l++ {
		in, out := uint64(m.sizes[l]), uint64(m.sizes[l+1])
		for _, bias := range []bool{false, true} {
			tn := tensorName(l, bias)
			want[tn] = true
			shape := []uint64{out, in}
			if bias {
				shape = []uint64{out}
			}
			t, ok := tensors[tn]
			if !ok {
				return 0, fileErr(name, tn, "missing: the architecture %s needs it", m)
			}
			if t.Dtype != "F32" {
				return 0, fileErr(name, tn+".dtype", "want \"F32\", got %q", t.Dtype)
			}
			if !slices.Equal(t.Shape, shape) {
				what := "[out, in]"
				if bias {
					what = "[out]"
				}
				return 0, fileErr(name, tn+".shape", "want %v (%s, from the architecture %s), got %v", shape, what, m, t.Shape)
			}
			if len(t.DataOffsets) != 2 {
				return 0, fileErr(name, tn+".data_offsets", "want [begin, end], got %v", t.DataOffsets)
			}
			b, e := t.DataOffsets[0], t.DataOffsets[1]
			size := 4 * shape[0] // shapes are at most MaxUnits: no overflow
			if !bias {
				size *= shape[1]
			}
			if e < b || e-b != size {
				return 0, fileErr(name, tn+".data_offsets", "[%d, %d] holds %d bytes, want %d (F32 x %v)", b, e, int64(e-b), size, shape)
			}
			spans = append(spans, span{tn, b, e})
		}
	}
	for tn := range tensors {
		if !want[tn] {
			return 0, fileErr(name, tn, "unexpected tensor: the architecture %s has no such layer", m)
		}
	}
	slices.SortFunc(spans, func(a, b span) int {
		switch {
		case a.begin < b.begin:
			return -1
		case a.begin > b.begin:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	var at uint64
	for _, s := range spans {
		if s.begin < at {
			return 0, fileErr(name, s.name+".data_offsets", "[%d, %d] overlaps the tensor before it (which ends at %d)", s.begin, s.end, at)
		}
		if s.begin > at {
			return 0, fileErr(name, s.name+".data_offsets", "[%d, %d] leaves a hole of %d bytes before it (at %d); the format wants the data buffer covered exactly", s.begin, s.end, s.begin-at, at)
		}
		at = s.end
	}
	return at, nil
}

// alloc allocates the weights of a model made by newModel without them.
func (m *Model) alloc() {
	total, _ := paramCount(m.sizes)
	m.params = make([]float32, total)
	m.w, m.b = m.w[:0], m.b[:0]
	off := 0
	for l := 0; l+1 < len(m.sizes); l++ {
		in, out := m.sizes[l], m.sizes[l+1]
		m.w = append(m.w, m.params[off:off+in*out:off+in*out])
		off += in * out
		m.b = append(m.b, m.params[off:off+out:off+out])
		off += out
	}
}
