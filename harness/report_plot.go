package harness

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/simdmlp/simdmlp/mlp"
)

var (
	colReport = color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xff} // the report's numbers
	colClean  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colLeaky  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

func protoColor(p mlp.Protocol) color.Color {
	if p == mlp.Report {
		return colLeaky
	}
	return colClean
}

// SVGs draws the report's figures, by file name: per-epoch curves of every batch-size
// run and of the final run beside the report's logged curves, and per stage the
// accuracy of every configuration with error bars (one standard deviation over seeds).
func (rep *Report) SVGs() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, t := range rep.Timing {
		b, err := rep.curvesSVG(t)
		if err != nil {
			return nil, fmt.Errorf("plot of %s: %w", t.Run, err)
		}
		if b != nil {
			out["curves-"+t.Run+".svg"] = b
		}
	}
	for _, st := range rep.Stages {
		b, err := rep.accuracySVG(st)
		if err != nil {
			return nil, fmt.Errorf("plot of %s: %w", st.Stage, err)
		}
		if b != nil {
			out["accuracy-"+st.Stage+".svg"] = b
		}
	}
	return out, nil
}

// meanCurve averages a per-epoch metric over the seeds that ran that epoch.
func meanCurve(rs []Record, get func(Epoch) float64) plotter.XYs {
	sum, n := map[int]float64{}, map[int]int{}
	for _, r := range rs {
		for _, e := range r.Epochs {
			v := get(e)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			sum[e.Epoch] += v
			n[e.Epoch]++
		}
	}
	var xy plotter.XYs
	for ep := range sum {
		xy = append(xy, plotter.XY{X: float64(ep), Y: sum[ep] / float64(n[ep])})
	}
	sort.Slice(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
	return xy
}

func (rep *Report) curvesSVG(t TimingRow) ([]byte, error) {
	type metric struct {
		title string
		ref   func(CurvePoint) float64
		ours  func(Epoch) float64
	}
	metrics := []metric{
		{"validation loss", func(c CurvePoint) float64 { return c.ValLoss }, func(e Epoch) float64 { return float64(e.ValLoss) }},
		{"validation accuracy", func(c CurvePoint) float64 { return c.ValAcc }, func(e Epoch) float64 { return float64(e.ValAcc) }},
		{"training loss (running mean)", func(c CurvePoint) float64 { return c.Loss }, func(e Epoch) float64 { return float64(e.Loss) }},
	}
	var ref []CurvePoint
	for _, c := range rep.Curves {
		if c.Run == t.Run {
			ref = append(ref, c)
		}
	}
	any := false
	plots := [][]*plot.Plot{{}}
	for _, m := range metrics {
		p := newPlot(fmt.Sprintf("%s: %s", t.Run, m.title))
		p.X.Label.Text = "epoch"
		var xy plotter.XYs
		for _, c := range ref {
			xy = append(xy, plotter.XY{X: float64(c.Epoch), Y: m.ref(c)})
		}
		if err := addLine(p, xy, colReport, true, "report (logged)"); err != nil {
			return nil, err
		}
		for _, proto := range reportProtocols {
			c := t.Row.Cells[proto]
			if c == nil {
				continue
			}
			any = true
			label := fmt.Sprintf("ours, %s (%s)", protoName(proto), seedsLabel(len(c.Records)))
			if err := addLine(p, meanCurve(c.Records, m.ours), protoColor(proto), false, label); err != nil {
				return nil, err
			}
		}
		finish(p)
		plots[0] = append(plots[0], p)
	}
	if !any {
		return nil, nil
	}
	return drawTiles(plots, 36*vg.Centimeter, 11*vg.Centimeter)
}

// newPlot returns a plot with the report's fonts and the legend at the top right.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.ThumbnailWidth = vg.Points(16)
	p.X.Tick.Label.Font.Size = vg.Points(8)
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	p.Legend.Top = true
	return p
}

// finish leaves room above the data for the legend (top right), so
// that it never hides a point.
func finish(p *plot.Plot) {
	if span := p.Y.Max - p.Y.Min; span > 0 && !math.IsInf(span, 0) {
		p.Y.Max += 0.35 * span
	}
}

func seedsLabel(n int) string {
	if n == 1 {
		return "1 seed"
	}
	return fmt.Sprintf("mean of %d seeds", n)
}

func addLine(p *plot.Plot, xy plotter.XYs, c color.Color, dashed bool, label string) error {
	if len(xy) == 0 {
		return nil
	}
	l, pts, err := plotter.NewLinePoints(xy)
	if err != nil {
		return err
	}
	l.Color, pts.Color = c, c
	pts.Shape = draw.CircleGlyph{}
	pts.Radius = vg.Points(2)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	p.Add(l, pts)
	p.Legend.Add(label, l, pts)
	return nil
}

// errPoints are points with symmetric error bars.
type errPoints struct {
	plotter.XYs
	err []float64
}

func (e errPoints) YError(i int) (float64, float64) { return e.err[i], e.err[i] }

func (rep *Report) accuracySVG(st *StageReport) ([]byte, error) {
	names := make([]string, len(st.Rows))
	for i, r := range st.Rows {
		names[i] = r.Label
	}
	type metric struct {
		title string
		ref   func(Row) float64
		ours  func(*Cell) Stat
	}
	metrics := []metric{
		{"validation accuracy (%)", func(r Row) float64 { return r.ValAcc }, func(c *Cell) Stat { return c.Val }},
		{"test accuracy (%)", func(r Row) float64 { return r.TestAcc }, func(c *Cell) Stat { return c.Test }},
	}
	any := false
	plots := [][]*plot.Plot{{}}
	for _, m := range metrics {
		p := newPlot(fmt.Sprintf("%s: %s", st.Stage, m.title))
		p.NominalX(names...)
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		var ref plotter.XYs
		for i, r := range st.Rows {
			if v := m.ref(r.Row); !math.IsNaN(v) {
				ref = append(ref, plotter.XY{X: float64(i), Y: v})
			}
		}
		if len(ref) > 0 {
			s, err := plotter.NewScatter(ref)
			if err != nil {
				return nil, err
			}
			s.Color = colReport
			s.Shape = draw.BoxGlyph{}
			s.Radius = vg.Points(3)
			p.Add(s)
			p.Legend.Add("report", s)
		}
		for k, proto := range reportProtocols {
			var ep errPoints
			seeds := 0
			for i, r := range st.Rows {
				c := r.Cells[proto]
				if c == nil {
					continue
				}
				s := m.ours(c)
				seeds = max(seeds, s.N)
				ep.XYs = append(ep.XYs, plotter.XY{X: float64(i) + 0.15*float64(2*k-1), Y: 100 * s.Mean})
				ep.err = append(ep.err, 100*s.SD)
			}
			if len(ep.XYs) == 0 {
				continue
			}
			any = true
			s, err := plotter.NewScatter(ep.XYs)
			if err != nil {
				return nil, err
			}
			s.Color = protoColor(proto)
			s.Shape = draw.CircleGlyph{}
			s.Radius = vg.Points(3)
			bars, err := plotter.NewYErrorBars(ep)
			if err != nil {
				return nil, err
			}
			bars.Color = protoColor(proto)
			p.Add(s, bars)
			label := "ours, " + protoName(proto) + " (1 seed)"
			if seeds > 1 {
				label = "ours, " + protoName(proto) + " (mean ± sd over seeds)"
			}
			p.Legend.Add(label, s)
		}
		finish(p)
		plots[0] = append(plots[0], p)
	}
	if !any {
		return nil, nil
	}
	w := vg.Length(math.Max(24, 2.2*float64(len(st.Rows))*2)) * vg.Centimeter
	return drawTiles(plots, w, 12*vg.Centimeter)
}

func drawTiles(plots [][]*plot.Plot, w, h vg.Length) ([]byte, error) {
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4)}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j, p := range plots[i] {
			p.Draw(canvases[i][j])
		}
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
