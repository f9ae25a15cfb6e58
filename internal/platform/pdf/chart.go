package pdf

// Heading writes a section heading, larger than the body, on a new page
// when too little of this one is left for it and a few lines.
func (d *Doc) Heading(s string) {
	_, pageH := d.f.GetPageSize()
	if d.f.GetY()+4*lineH > pageH-margin {
		d.f.AddPage()
	}
	d.f.SetFont(family, "", 14)
	d.f.CellFormat(d.width, 9, s, "", 1, "L", false, 0, "")
	d.f.SetFont(family, "", bodySize)
}

// Bar is one bar of a chart: its label, its length as a share of the
// full scale (0 to 1; nil draws no bar) and the text at its end.
type Bar struct {
	Label string
	Share *float64
	Text  string
}

// BarChart draws horizontal bars under a caption: labels on the left, the
// bars on a 0-100% scale with grid lines at every quarter, each bar's text
// at its end. For shares that a table of numbers makes hard to compare
// (pass rates by area).
func (d *Doc) BarChart(caption string, bars []Bar) {
	const barH, gap, labelShare = 5.0, 2.5, 0.28
	_, pageH := d.f.GetPageSize()
	height := 8 + float64(len(bars))*(barH+gap) + 6
	if d.f.GetY()+height > pageH-margin {
		d.f.AddPage()
	}
	d.f.SetFont(family, "", 10)
	d.f.CellFormat(d.width, 7, caption, "", 1, "L", false, 0, "")
	x0, y0 := margin+d.width*labelShare, d.f.GetY()
	scale := d.width * (1 - labelShare) * 0.8 // room at the right for the text
	bottom := y0 + float64(len(bars))*(barH+gap)
	d.f.SetDrawColor(200, 200, 200)
	for q := 0; q <= 4; q++ {
		x := x0 + scale*float64(q)/4
		d.f.Line(x, y0, x, bottom)
		d.f.SetXY(x-6, bottom)
		d.f.SetFont(family, "", 7)
		d.f.CellFormat(12, 4, []string{"0%", "25%", "50%", "75%", "100%"}[q], "", 0, "C", false, 0, "")
	}
	d.f.SetDrawColor(0, 0, 0)
	d.f.SetFont(family, "", 9)
	d.f.SetFillColor(70, 130, 180)
	for i, b := range bars {
		y := y0 + float64(i)*(barH+gap)
		d.f.SetXY(margin, y)
		d.f.CellFormat(d.width*labelShare-2, barH, b.Label, "", 0, "R", false, 0, "")
		w := 0.0
		if b.Share != nil {
			w = scale * min(max(*b.Share, 0), 1)
			if w > 0 {
				d.f.Rect(x0, y, w, barH, "F")
			}
		}
		d.f.SetXY(x0+w+1, y)
		d.f.CellFormat(scale*0.5, barH, b.Text, "", 0, "L", false, 0, "")
	}
	d.f.SetXY(margin, bottom+6)
	d.f.SetFont(family, "", bodySize)
}
