package pdf

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Meta describes a document.
type Meta struct {
	Title   string
	Subject string
	Author  string // the company or community issuing it
	// Created is the document's own time (an issue date), written as the
	// creation and modification dates: the same content gives the same bytes.
	Created time.Time
	// Footer is printed at the left of every page's foot; the page number
	// ("第 1 页 / 共 2 页") at its right.
	Footer string
}

// A4 portrait, millimetres.
const (
	margin   = 20.0
	bodySize = 11.0
	lineH    = 6.5
	family   = "cjk"
)

// Doc is a document being laid out. Its methods record the first error
// and then do nothing; Build reports it.
type Doc struct {
	f     *fpdf.Fpdf
	width float64 // between the margins
}

// building bounds the documents built at once: fpdf parses the font anew
// for each (some 26 MB allocated for Droid Sans Fallback), so a burst of
// requests waits its turn instead of exhausting memory.
var building = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// Build makes one document in font: body lays it out, top to bottom. An
// error wraps ErrNoFont when the font does not serve.
func Build(ctx context.Context, font *Font, m Meta, body func(d *Doc)) ([]byte, error) {
	if err := font.Err(); err != nil {
		return nil, err
	}
	select {
	case building <- struct{}{}:
		defer func() { <-building }()
	case <-ctx.Done():
		return nil, fmt.Errorf("pdf: %w", ctx.Err())
	}
	d, err := newDoc(font, m)
	if err != nil {
		return nil, err
	}
	body(d)
	var b bytes.Buffer
	if err := d.f.Output(&b); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return b.Bytes(), nil
}

func newDoc(font *Font, m Meta) (*Doc, error) {
	data, err := font.bytes()
	if err != nil {
		return nil, err
	}
	f := fpdf.New("P", "mm", "A4", "")
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin)
	if err := addFont(f, data); err != nil {
		return nil, &NoFontError{Tried: []string{font.Path()}, Reason: err.Error()}
	}
	f.SetCreationDate(m.Created)
	f.SetModificationDate(m.Created)
	f.SetCatalogSort(true)
	f.SetTitle(m.Title, true)
	f.SetSubject(m.Subject, true)
	f.SetAuthor(m.Author, true)
	f.SetCreator("qinqing", false)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-margin + 5)
		f.SetFont(family, "", 9)
		f.SetTextColor(110, 110, 110)
		w := (210 - 2*margin) / 2
		f.CellFormat(w, 5, m.Footer, "", 0, "L", false, 0, "")
		f.CellFormat(w, 5, fmt.Sprintf("第 %d 页 / 共 {nb} 页", f.PageNo()), "", 0, "R", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	f.AddPage()
	// fpdf reports a font it could not parse only when the font is used.
	f.SetFont(family, "", bodySize)
	if err := f.Error(); err != nil {
		return nil, &NoFontError{Tried: []string{font.Path()}, Reason: err.Error()}
	}
	return &Doc{f: f, width: 210 - 2*margin}, nil
}

// Title writes the document's title, centred and large.
func (d *Doc) Title(s string) {
	d.f.SetFont(family, "", 18)
	d.f.CellFormat(d.width, 12, s, "", 1, "C", false, 0, "")
	d.f.Ln(4)
	d.f.SetFont(family, "", bodySize)
}

// Right writes a line flush right (a number, a date, a signature).
func (d *Doc) Right(s string) {
	d.f.CellFormat(d.width, lineH, s, "", 1, "R", false, 0, "")
}

// Gap leaves vertical space in millimetres.
func (d *Doc) Gap(mm float64) { d.f.Ln(mm) }

// Column is one column of a table: its heading, its share of the width
// (the shares are relative) and alignment ("L", "C" or "R").
type Column struct {
	Head  string
	Share float64
	Align string
}

// Table writes rows under a shaded heading row, each cell on one line;
// the heading repeats on a new page.
func (d *Doc) Table(cols []Column, rows [][]string) {
	total := 0.0
	for _, c := range cols {
		total += c.Share
	}
	ws := make([]float64, len(cols))
	for i, c := range cols {
		ws[i] = d.width * c.Share / total
	}
	head := func() {
		d.f.SetFillColor(235, 235, 235)
		for i, c := range cols {
			d.f.CellFormat(ws[i], lineH+1, c.Head, "1", 0, "C", true, 0, "")
		}
		d.f.Ln(-1)
	}
	head()
	_, pageH := d.f.GetPageSize()
	for _, r := range rows {
		if d.f.GetY()+lineH+1 > pageH-margin {
			d.f.AddPage()
			head()
		}
		for i := range cols {
			cell := ""
			if i < len(r) {
				cell = r[i]
			}
			d.f.CellFormat(ws[i], lineH+1, cell, "1", 0, cols[i].Align, false, 0, "")
		}
		d.f.Ln(-1)
	}
	d.f.Ln(3)
}

// addFont adds the font; fpdf panics on a damaged TrueType file.
func addFont(f *fpdf.Fpdf, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("damaged TrueType file: %v", r)
		}
	}()
	f.AddUTF8FontFromBytes(family, "", data)
	return nil
}
