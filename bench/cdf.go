package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// CDFSeries is one latency distribution to plot: raw per-message latencies
// in nanoseconds, in any order (WriteCDF sorts a copy).
type CDFSeries struct {
	Name   string
	Values []int64
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted values by the
// nearest-rank method, 0 for no values.
func Quantile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Plot geometry: the drawing area inside the SVG; the legend and the
// note lines go below it.
const (
	cdfW                  = 860
	cdfLeft, cdfRight     = 80, 20
	cdfTop                = 36
	cdfPlotW              = cdfW - cdfLeft - cdfRight
	cdfPlotH              = 330
	cdfMinFrac            = 1e-5 // lowest exceedance drawn: 1 in 100k messages
	cdfMaxPointsPerSeries = 600
	cdfLegendLine         = 18
	cdfNoteLine           = 15
)

var cdfColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// WriteCDF draws the complementary CDF of each series as an SVG: x is the
// latency (log scale), y the fraction of messages slower than x (log
// scale, from 1 down to 1e-5), so the median, p99 and p99.9 are the
// crossings of the dashed lines at 0.5, 0.01 and 0.001 and the tail is as
// visible as the body. The legend gives each series' count and
// percentiles. note, if not empty, is printed under the legend, one line
// per "\n" (the machine, the command, what was measured).
func WriteCDF(w io.Writer, title, note string, series []CDFSeries) error {
	type prepared struct {
		name   string
		sorted []int64
	}
	var ps []prepared
	lo, hi := int64(math.MaxInt64), int64(1)
	for _, s := range series {
		if len(s.Values) == 0 {
			continue
		}
		v := slices.Clone(s.Values)
		slices.Sort(v)
		for i := range v {
			v[i] = max(v[i], 1)
		}
		lo, hi = min(lo, v[0]), max(hi, v[len(v)-1])
		ps = append(ps, prepared{s.Name, v})
	}
	if len(ps) == 0 {
		return fmt.Errorf("bench: WriteCDF: no values to plot")
	}
	// Whole decades around the data.
	d0 := math.Floor(math.Log10(float64(lo)))
	d1 := math.Ceil(math.Log10(float64(hi)))
	if d1 <= d0 {
		d1 = d0 + 1
	}
	x := func(ns float64) float64 {
		return cdfLeft + (math.Log10(ns)-d0)/(d1-d0)*cdfPlotW
	}
	yDecades := -math.Log10(cdfMinFrac)
	y := func(frac float64) float64 {
		frac = max(frac, cdfMinFrac)
		return cdfTop + (-math.Log10(frac))/yDecades*cdfPlotH
	}

	var notes []string
	if note != "" {
		notes = strings.Split(note, "\n")
	}
	legendTop := cdfTop + cdfPlotH + 62
	height := legendTop + cdfLegendLine*len(ps) + cdfNoteLine*len(notes) + 10

	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", cdfW, height, cdfW, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", cdfLeft, xmlEscape(title))
	// Grid and axes.
	for d := d0; d <= d1; d++ {
		xx := x(math.Pow(10, d))
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", xx, cdfTop, xx, cdfTop+cdfPlotH)
		p(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", xx, cdfTop+cdfPlotH+16, durLabel(math.Pow(10, d)))
	}
	for e := 0.0; e <= yDecades; e++ {
		f := math.Pow(10, -e)
		yy := y(f)
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", cdfLeft, yy, cdfLeft+cdfPlotW, yy)
		p(`<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", cdfLeft-6, yy+4, fracLabel(f))
	}
	for _, g := range []struct {
		f     float64
		label string
	}{{0.5, "p50"}, {0.01, "p99"}, {0.001, "p99.9"}} {
		yy := y(g.f)
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999" stroke-dasharray="4 4"/>`+"\n", cdfLeft, yy, cdfLeft+cdfPlotW, yy)
		p(`<text x="%d" y="%.1f" fill="#777" text-anchor="end">%s</text>`+"\n", cdfLeft+cdfPlotW-2, yy-3, g.label)
	}
	p(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", cdfLeft, cdfTop, cdfPlotW, cdfPlotH)
	p(`<text x="%d" y="%d" text-anchor="middle">handling latency (log scale)</text>`+"\n", cdfLeft+cdfPlotW/2, cdfTop+cdfPlotH+34)
	p(`<text transform="translate(18 %d) rotate(-90)" text-anchor="middle">fraction of messages slower (log scale)</text>`+"\n", cdfTop+cdfPlotH/2)

	for i, s := range ps {
		color := cdfColors[i%len(cdfColors)]
		n := len(s.sorted)
		var pts strings.Builder
		// Step through the sorted values at log-spaced exceedance levels
		// so the tail keeps its resolution; include the maximum.
		last := -1
		for k := 0; k <= cdfMaxPointsPerSeries; k++ {
			frac := math.Pow(10, -float64(k)/cdfMaxPointsPerSeries*math.Log10(float64(n)))
			idx := min(n-1, max(0, n-int(math.Round(frac*float64(n)))))
			if idx == last {
				continue
			}
			last = idx
			exceed := float64(n-idx) / float64(n) // fraction ≥ this value
			if exceed < cdfMinFrac {
				break
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(float64(s.sorted[idx])), y(exceed))
		}
		p(`<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", color, strings.TrimSpace(pts.String()))
		ly := legendTop + i*cdfLegendLine
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", cdfLeft, ly-4, cdfLeft+24, ly-4, color)
		p(`<text x="%d" y="%d">%s — n=%d  p50=%s  p99=%s  p99.9=%s  max=%s</text>`+"\n", cdfLeft+32, ly, xmlEscape(s.name), n,
			durLabel(float64(Quantile(s.sorted, 0.5))), durLabel(float64(Quantile(s.sorted, 0.99))),
			durLabel(float64(Quantile(s.sorted, 0.999))), durLabel(float64(s.sorted[n-1])))
	}
	for i, n := range notes {
		p(`<text x="%d" y="%d" fill="#555" font-size="11">%s</text>`+"\n", cdfLeft, legendTop+cdfLegendLine*len(ps)+4+i*cdfNoteLine, xmlEscape(n))
	}
	p("</svg>\n")
	return bw.Flush()
}

func durLabel(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return trimFloat(ns/1e3) + "µs"
	case d < time.Second:
		return trimFloat(ns/1e6) + "ms"
	}
	return trimFloat(ns/1e9) + "s"
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3g", v)
	if strings.Contains(s, "e") {
		s = fmt.Sprintf("%.0f", v)
	}
	return s
}

func fracLabel(f float64) string {
	if f >= 0.001 {
		return trimFloat(f)
	}
	return fmt.Sprintf("1e%d", int(math.Round(math.Log10(f))))
}

func xmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}
