package search

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Budget is how much training a search may do: FLOPs (reproducible: counted from the
// architectures, see flops.go) or wall time. A wall-time budget is converted once, when
// the search starts, into FLOPs at the rate this machine measures (Settings.Rate), and
// the conversion is stored with the search, so a resumed search makes the same
// decisions; the search then runs for about that long.
type Budget struct {
	FLOPs float64       `json:"flops,omitempty"`
	Wall  time.Duration `json:"wall,omitempty"`
	// Grid is the multiple of the report's grid cost the budget was given as ("grid",
	// "0.5grid"), 0 when it was given otherwise.
	Grid float64 `json:"grid,omitempty"`
}

// ParseBudget reads a budget: FLOPs as a number ("2.5e15"), a wall time ("30m",
// "1h30m"), or a multiple of what the report's whole grid cost ("grid", "0.5grid"),
// for which gridFLOPs is called.
func ParseBudget(v string, gridFLOPs func() (float64, error)) (Budget, error) {
	v = strings.TrimSpace(v)
	if k, ok := strings.CutSuffix(v, "grid"); ok {
		m := 1.0
		if k != "" {
			var err error
			if m, err = strconv.ParseFloat(strings.TrimSuffix(k, "*"), 64); err != nil || !(m > 0) || math.IsInf(m, 0) {
				return Budget{}, fmt.Errorf("budget: expected a positive multiple before \"grid\" (e.g. 0.5grid), found %q", v)
			}
		}
		g, err := gridFLOPs()
		if err != nil {
			return Budget{}, fmt.Errorf("budget %q: %w", v, err)
		}
		return Budget{FLOPs: m * g, Grid: m}, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if !(f >= 1) || math.IsInf(f, 0) {
			return Budget{}, fmt.Errorf("budget: expected a positive number of FLOPs (e.g. 2.5e15), found %q", v)
		}
		return Budget{FLOPs: f}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return Budget{}, fmt.Errorf("budget: expected a positive wall time (e.g. 30m), found %q", v)
		}
		return Budget{Wall: d}, nil
	}
	return Budget{}, fmt.Errorf("budget: expected FLOPs (2.5e15), a wall time (30m, 1h30m) or a multiple of the report's grid cost (grid, 0.5grid), found %q", v)
}

func (b Budget) String() string {
	switch {
	case b.Wall > 0:
		return fmt.Sprintf("%s wall time", b.Wall)
	case b.Grid > 0:
		if b.Grid == 1 {
			return fmt.Sprintf("%.4g FLOPs (the report's whole grid)", b.FLOPs)
		}
		return fmt.Sprintf("%.4g FLOPs (%g x the report's whole grid)", b.FLOPs, b.Grid)
	}
	return fmt.Sprintf("%.4g FLOPs", b.FLOPs)
}
