package search

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"github.com/simdmlp/simdmlp/harness"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

var (
	colSearch = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colPick   = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colOurs   = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colReport = color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xff}
)

// errPoints are points with symmetric vertical error bars.
type errPoints struct {
	plotter.XYs
	err []float64
}

func (e errPoints) YError(i int) (float64, float64) { return e.err[i], e.err[i] }

// SVGs draws accuracy-vs-budget.svg: the incumbent's validation accuracy as the budget
// is spent, the pick's test accuracy at the FLOPs the search spent, and the report's
// grid pick at what the whole grid cost (ours under the clean protocol, validation and
// test, mean ± sd over the evaluation seeds, and the report's own 98.14%).
func (rep *Report) SVGs() (map[string][]byte, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s search: accuracy vs training budget", rep.Set.Strategy)
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text = "training FLOPs spent (x 1e12)"
	p.Y.Label.Text = "accuracy (%)"
	// Top left: above the early incumbents, and text that a wider fallback font stretches
	// runs into the empty plot, not off the canvas.
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(12)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.X.Tick.Label.Font.Size = vg.Points(8)
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	const T = 1e12
	var xy plotter.XYs
	for _, c := range rep.Curve {
		if !math.IsNaN(c.ValAcc) {
			xy = append(xy, plotter.XY{X: c.FLOPs / T, Y: 100 * c.ValAcc})
		}
	}
	if len(xy) > 0 {
		l, err := plotter.NewLine(stairs(xy))
		if err != nil {
			return nil, err
		}
		l.Color = colSearch
		p.Add(l)
		p.Legend.Add("search: validation accuracy of the incumbent (lowest val loss so far)", l)
	}
	point := func(x, y, sd float64, c color.Color, shape draw.GlyphDrawer, label string) error {
		ep := errPoints{XYs: plotter.XYs{{X: x / T, Y: 100 * y}}, err: []float64{100 * sd}}
		s, err := plotter.NewScatter(ep.XYs)
		if err != nil {
			return err
		}
		s.Color, s.Shape, s.Radius = c, shape, vg.Points(3.5)
		p.Add(s)
		if sd > 0 {
			bars, err := plotter.NewYErrorBars(ep)
			if err != nil {
				return err
			}
			bars.Color = c
			p.Add(bars)
		}
		p.Legend.Add(label, s)
		return nil
	}
	ev := rep.Eval
	if ev.PickTest.N > 0 {
		if err := point(rep.State.Spent, ev.PickTest.Mean, ev.PickTest.SD, colPick, draw.CircleGlyph{},
			fmt.Sprintf("search pick: test (mean ± sd, %d seeds)", ev.PickTest.N)); err != nil {
			return nil, err
		}
	}
	if ev.BaseTest.N > 0 {
		if err := point(rep.GridFLOPs, ev.BaseVal.Mean, ev.BaseVal.SD, colOurs, draw.TriangleGlyph{},
			fmt.Sprintf("report's pick (600-200 relu b64 adam he_normal), ours: validation (%d seeds)", ev.BaseVal.N)); err != nil {
			return nil, err
		}
		if err := point(rep.GridFLOPs, ev.BaseTest.Mean, ev.BaseTest.SD, colOurs, draw.CircleGlyph{},
			fmt.Sprintf("report's pick, ours: test (mean ± sd, %d seeds)", ev.BaseTest.N)); err != nil {
			return nil, err
		}
	}
	if err := point(rep.GridFLOPs, rep.Paper.TestAcc, 0, colReport, draw.BoxGlyph{}, fmt.Sprintf("report's pick, the report's own test accuracy (%.2f%%)", 100*rep.Paper.TestAcc)); err != nil {
		return nil, err
	}
	p.X.Min = 0
	// The first incumbents may be poor; keep the axis on the region where the points to
	// compare lie (the curve is clipped below).
	low := 100 * rep.Paper.TestAcc
	for _, st := range []harness.Stat{ev.PickTest, ev.BaseTest, ev.BaseVal} {
		if st.N > 0 {
			low = math.Min(low, 100*(st.Mean-st.SD))
		}
	}
	p.Y.Min = math.Max(p.Y.Min, low-3)
	// Room for the legend above the points, and right of the last point.
	if span := p.Y.Max - p.Y.Min; span > 0 {
		p.Y.Max += 0.6 * span
	}
	p.X.Max *= 1.05
	c := vgsvg.New(24*vg.Centimeter, 14*vg.Centimeter)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return map[string][]byte{"accuracy-vs-budget.svg": b.Bytes()}, nil
}

// stairs turns points into a step function: each value holds until the next point.
func stairs(xy plotter.XYs) plotter.XYs {
	out := plotter.XYs{xy[0]}
	for _, q := range xy[1:] {
		out = append(out, plotter.XY{X: q.X, Y: out[len(out)-1].Y}, q)
	}
	return out
}
