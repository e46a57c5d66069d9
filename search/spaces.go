package search

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"slices"
	"strings"
)

// The built-in spaces, as data (spaces/*.json):
//   - report: everything the report tuned, widened to what its text asks for: 1 to 4
//     hidden layers, 10 to 784 units per layer (log-scaled), relu/sigmoid/tanh per layer,
//     batch 32..512, both initializer schemes, the four optimizers with log-scaled
//     learning rates around their Keras defaults, the rise rule or EarlyStopping with
//     patience 2 or 4 restoring the best weights, at most 27 epochs, split 0.1.
//   - report-grid: the report's staged grid as a space (every value some row of its
//     tables uses); every configuration of the 48 rows is in it.
//
//go:embed spaces/*.json
var spaceFiles embed.FS

// SpaceNames lists the built-in spaces.
func SpaceNames() []string {
	ents, _ := spaceFiles.ReadDir("spaces")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	slices.Sort(names)
	return names
}

// BuiltinSpace returns the built-in space called name.
func BuiltinSpace(name string) (*Space, error) {
	b, err := spaceFiles.ReadFile("spaces/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("no built-in search space %q: want one of %s, or a JSON file", name, strings.Join(SpaceNames(), ", "))
	}
	return ParseSpace(bytes.NewReader(b), "spaces/"+name+".json")
}

// OpenSpace returns the built-in space called v, or else the space in the JSON file v.
func OpenSpace(v string) (*Space, error) {
	if slices.Contains(SpaceNames(), v) {
		return BuiltinSpace(v)
	}
	if _, err := os.Stat(v); err != nil {
		return nil, fmt.Errorf("search space %q: neither a built-in space (%s) nor a readable file: %v", v, strings.Join(SpaceNames(), ", "), err)
	}
	return LoadSpace(v)
}

// ReportGrid is the report's staged grid as a space.
func ReportGrid() *Space {
	s, err := BuiltinSpace("report-grid")
	if err != nil {
		panic(err) // embedded and tested
	}
	return s
}

// DefaultSpace is the space the search subcommand explores by default ("report").
func DefaultSpace() *Space {
	s, err := BuiltinSpace("report")
	if err != nil {
		panic(err)
	}
	return s
}
