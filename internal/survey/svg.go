package survey

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"

	"qinqing/internal/platform/apperr"
)

// Chart geometry: the plot area inside a fixed canvas.
const (
	svgW, svgH                   = 720, 560
	plotL, plotR, plotT, plotB   = 80.0, 680.0, 70.0, 480.0
	dotR                         = 6
	fontFamily                   = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"
	quadrantTint, quadrantStroke = 0.08, "#9e9e9e"
)

var quadrantColor = map[Quadrant]string{KeepUp: "#2e7d32", FixFirst: "#c62828", LowPriority: "#757575", PossibleOverkill: "#1565c0"}

// WriteSVG draws the importance-satisfaction quadrant chart: satisfaction
// across, importance up, the quadrant lines at the means across dimensions,
// one dot per rated dimension with its name, the four quadrants named. It
// is self-contained (no scripts, styles or external references; presentation
// in attributes, which every SVG renderer in the apps understands), so the
// staff app can show it as it is.
func WriteSVG(w io.Writer, r *Results, lang apperr.Lang) error {
	var b bytes.Buffer
	lo, hi := chartRange(r)
	x := func(v float64) float64 { return plotL + (v-lo)/(hi-lo)*(plotR-plotL) }
	y := func(v float64) float64 { return plotB - (v-lo)/(hi-lo)*(plotB-plotT) }
	title := r.Survey.Title + " · " + tr("chart", lang)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-labelledby="chart-title" font-family="%s">`+"\n",
		svgW, svgH, svgW, svgH, fontFamily)
	fmt.Fprintf(&b, `<title id="chart-title">%s</title>`+"\n", esc(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", svgW, svgH)
	fmt.Fprintf(&b, `<text class="chart-title" x="%d" y="36" text-anchor="middle" font-size="18" fill="#212121">%s</text>`+"\n", svgW/2, esc(title))

	// Quadrants: tinted backgrounds and names in their outer corners.
	splitX, splitY := (plotL+plotR)/2, (plotT+plotB)/2
	if r.MeanSatisfaction != nil && r.MeanImportance != nil {
		splitX, splitY = x(*r.MeanSatisfaction), y(*r.MeanImportance)
	}
	b.WriteString(`<g class="quadrants">` + "\n")
	for _, q := range []struct {
		q                  Quadrant
		x0, y0, x1, y1, tx float64
		ty                 float64
		anchor             string
	}{
		{FixFirst, plotL, plotT, splitX, splitY, plotL + 8, plotT + 20, "start"},
		{KeepUp, splitX, plotT, plotR, splitY, plotR - 8, plotT + 20, "end"},
		{LowPriority, plotL, splitY, splitX, plotB, plotL + 8, plotB - 10, "start"},
		{PossibleOverkill, splitX, splitY, plotR, plotB, plotR - 8, plotB - 10, "end"},
	} {
		fmt.Fprintf(&b, `<rect class="quadrant" data-quadrant="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="%.2f"/>`+"\n",
			q.q, q.x0, q.y0, q.x1-q.x0, q.y1-q.y0, quadrantColor[q.q], quadrantTint)
		fmt.Fprintf(&b, `<text class="quadrant-name" data-quadrant="%s" x="%.1f" y="%.1f" text-anchor="%s" font-size="14" font-weight="bold" fill="%s">%s</text>`+"\n",
			q.q, q.tx, q.ty, q.anchor, quadrantColor[q.q], esc(q.q.Label(lang)))
	}
	b.WriteString("</g>\n")

	// Axes with ticks and their labels.
	b.WriteString(`<g class="axes" stroke="#424242" font-size="12" fill="#424242">` + "\n")
	fmt.Fprintf(&b, `<line class="axis" data-axis="x" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", plotL, plotB, plotR, plotB)
	fmt.Fprintf(&b, `<line class="axis" data-axis="y" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", plotL, plotB, plotL, plotT)
	step := 0.5
	if hi-lo > 2.5 {
		step = 1
	}
	for v := math.Ceil(lo/step-eps) * step; v <= hi+eps; v += step {
		fmt.Fprintf(&b, `<line class="tick" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x(v), plotB, x(v), plotB+5)
		fmt.Fprintf(&b, `<text class="tick-label" x="%.1f" y="%.1f" text-anchor="middle" stroke="none">%.1f</text>`+"\n", x(v), plotB+20, v)
		fmt.Fprintf(&b, `<line class="tick" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, plotL-5, y(v), plotL, y(v))
		fmt.Fprintf(&b, `<text class="tick-label" x="%.1f" y="%.1f" text-anchor="end" stroke="none">%.1f</text>`+"\n", plotL-9, y(v)+4, v)
	}
	fmt.Fprintf(&b, `<text class="axis-label" data-axis="x" x="%.1f" y="%.1f" text-anchor="middle" font-size="14" stroke="none">%s</text>`+"\n",
		(plotL+plotR)/2, plotB+44, esc(tr("satisfactionAxis", lang)))
	fmt.Fprintf(&b, `<text class="axis-label" data-axis="y" x="%.1f" y="%.1f" text-anchor="middle" font-size="14" stroke="none" transform="rotate(-90 %.1f %.1f)">%s</text>`+"\n",
		plotL-50, (plotT+plotB)/2, plotL-50, (plotT+plotB)/2, esc(tr("importance", lang)))
	b.WriteString("</g>\n")

	if r.MeanImportance == nil || r.MeanSatisfaction == nil {
		fmt.Fprintf(&b, `<text class="note" x="%.1f" y="%.1f" text-anchor="middle" font-size="16" fill="#757575">%s</text>`+"\n",
			(plotL+plotR)/2, (plotT+plotB)/2, esc(tr("noData", lang)))
	} else {
		// The quadrant lines, at the means.
		fmt.Fprintf(&b, `<line class="quadrant-line" data-axis="importance" data-value="%.4f" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="6 4"/>`+"\n",
			*r.MeanImportance, plotL, splitY, plotR, splitY, quadrantStroke)
		fmt.Fprintf(&b, `<line class="quadrant-line" data-axis="satisfaction" data-value="%.4f" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="6 4"/>`+"\n",
			*r.MeanSatisfaction, splitX, plotT, splitX, plotB, quadrantStroke)
		fmt.Fprintf(&b, `<text class="legend" x="%d" y="%d" text-anchor="middle" font-size="12" fill="#616161">%s</text>`+"\n",
			svgW/2, svgH-14, esc(fmt.Sprintf(tr("legend", lang), num(r.MeanImportance), num(r.MeanSatisfaction))))
	}

	// One dot per rated dimension, named beside it.
	var placed []label
	for _, d := range r.Dimensions {
		if d.Quadrant == nil {
			continue
		}
		cx, cy := x(*d.MeanSatisfaction), y(*d.MeanImportance)
		name := d.Dimension.Label(lang)
		l := label{x: cx + dotR + 4, y: cy + 4, w: labelWidth(name), anchor: "start"}
		if cx > plotR-90 {
			l.x, l.anchor = cx-dotR-4, "end"
		}
		l.y = l.clear(placed)
		placed = append(placed, l)
		fmt.Fprintf(&b, `<g class="dimension" data-dimension="%s" data-quadrant="%s">`, d.Dimension, *d.Quadrant)
		fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="%d" fill="%s"><title>%s %s %s · %s %s</title></circle>`,
			cx, cy, dotR, quadrantColor[*d.Quadrant], esc(name), esc(tr("importance", lang)), num(d.MeanImportance),
			esc(tr("satisfactionAxis", lang)), num(d.MeanSatisfaction))
		fmt.Fprintf(&b, `<text class="dot-label" x="%.1f" y="%.1f" text-anchor="%s" font-size="12" fill="#212121">%s</text></g>`+"\n",
			l.x, l.y, l.anchor, esc(name))
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// chartRange is the shared scale of both axes: the rated means and the
// split, padded and rounded to half points, within 1-5 and at least one
// point wide, so dots that sit close together are still told apart.
func chartRange(r *Results) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	see := func(v *float64) {
		if v != nil {
			lo, hi = math.Min(lo, *v), math.Max(hi, *v)
		}
	}
	for _, d := range r.Dimensions {
		see(d.MeanImportance)
		see(d.MeanSatisfaction)
	}
	if math.IsInf(lo, 1) {
		return MinScore, MaxScore
	}
	lo = math.Max(MinScore, math.Floor((lo-0.25)*2)/2)
	hi = math.Min(MaxScore, math.Ceil((hi+0.25)*2)/2)
	for hi-lo < 1 {
		lo, hi = math.Max(MinScore, lo-0.5), math.Min(MaxScore, hi+0.5)
	}
	return lo, hi
}

// label is a dot's name on the chart, kept from overlapping the names
// already placed (two dimensions rated alike sit close together).
type label struct {
	x, y, w float64
	anchor  string
}

const lineHeight = 14

func (l label) left() float64 {
	if l.anchor == "end" {
		return l.x - l.w
	}
	return l.x
}

// clear returns a baseline for l, moved down past any placed label it
// would overlap.
func (l label) clear(placed []label) float64 {
	for moved := true; moved; {
		moved = false
		for _, p := range placed {
			if math.Abs(p.y-l.y) < lineHeight && l.left() < p.left()+p.w && p.left() < l.left()+l.w {
				l.y, moved = p.y+lineHeight, true
			}
		}
	}
	return l.y
}

// labelWidth estimates a 12px label: CJK characters are square, Latin
// ones about half as wide.
func labelWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r > 0x2e80 {
			w += 12
		} else {
			w += 6.5
		}
	}
	return w
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
