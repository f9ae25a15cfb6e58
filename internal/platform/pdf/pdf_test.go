package pdf

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

func sample(t testing.TB, font *Font, rows int) []byte {
	t.Helper()
	m := Meta{Title: "书面催缴通知书", Author: "亲情物业", Footer: "编号 2026-0001",
		Created: time.Date(2026, 12, 7, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))}
	b, err := Build(context.Background(), font, m, func(d *Doc) {
		d.Title("书面催缴通知书")
		d.Right("编号：2026-0001")
		d.Para("尊敬的 张三 业主：您好！截至 2026年12月7日，贵户尚欠物业服务费，请于 2026年12月22日 前缴清。")
		var rs [][]string
		for i := range rows {
			rs = append(rs, []string{"2026-" + string(rune('0'+i%10)), "2026-10-31", "360.50", "37 天"})
		}
		d.Table([]Column{{"期间", 2, "L"}, {"应缴日期", 2, "C"}, {"欠费（元）", 2, "R"}, {"逾期", 1, "R"}}, rs)
		d.Para("感谢您的理解与支持！")
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A document in Chinese: a PDF with the font embedded (a subset), the
// same bytes every time for the same content, page numbers on every page.
func TestDocument(t *testing.T) {
	font := TestFont(t)
	a := sample(t, font, 3)
	if !bytes.HasPrefix(a, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", a[:16])
	}
	if !bytes.Contains(a, []byte("/FontFile2")) {
		t.Fatal("the font is not embedded")
	}
	if n := bytes.Count(a, []byte("/Type /Page\n")); n != 1 {
		t.Fatalf("pages: %d", n)
	}
	if b := sample(t, font, 3); !bytes.Equal(a, b) {
		t.Fatal("the same content gave different bytes")
	}
	if !regexp.MustCompile(`/CreationDate \(D:20261207`).Match(a) {
		t.Fatal("creation date is not the document's own")
	}
	if text := Text(a); !strings.Contains(text, "书面催缴通知书") || !strings.Contains(text, "第 1 页 / 共 1 页") || !strings.Contains(text, "360.50") {
		t.Fatalf("the text:\n%s", text)
	}
	long := sample(t, font, 80)
	if text := Text(long); !strings.Contains(text, "第 3 页 / 共 3 页") || strings.Count(text, "期间") != 3 {
		t.Fatalf("the heading on every page, the page count in every footer:\n%s", text)
	}
	if n := bytes.Count(long, []byte("/Type /Page\n")); n < 2 {
		t.Fatalf("80 rows on %d page(s)", n)
	}
	t.Logf("one page %d bytes, %d rows %d bytes", len(a), 80, len(long))
}

// Without a font: ErrNoFont naming the paths tried and the package.
func TestNoFont(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.ttf")
	f := Locate(missing)
	err := f.Err()
	if !errors.Is(err, ErrNoFont) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "apt-get install "+Package) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := Build(context.Background(), f, Meta{}, func(*Doc) {}); !errors.Is(err, ErrNoFont) {
		t.Fatalf("Build without a font: %v", err)
	}
	ttc := filepath.Join(dir, "wqy.ttc")
	if err := os.WriteFile(ttc, []byte("ttcf\x00\x01\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Locate(ttc).Err(); !errors.Is(err, ErrNoFont) || !strings.Contains(err.Error(), "collection") {
		t.Fatalf("a .ttc: %v", err)
	}
	junk := filepath.Join(dir, "junk.ttf")
	if err := os.WriteFile(junk, []byte("\x00\x01\x00\x00garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(context.Background(), Locate(junk), Meta{}, func(*Doc) {}); !errors.Is(err, ErrNoFont) {
		t.Fatalf("an unreadable font: %v", err)
	}
}

// BenchmarkNotice renders a one-page notice in Chinese: the font file is
// read once (Font), fpdf parses and subsets it per document.
func BenchmarkNotice(b *testing.B) {
	font := TestFont(b)
	b.ReportAllocs()
	for b.Loop() {
		sample(b, font, 3)
	}
}

// A long Chinese paragraph wraps without losing a character, and
// punctuation never starts a line.
func TestWrap(t *testing.T) {
	font := TestFont(t)
	para := strings.Repeat("物业服务费逾期未缴，请及时缴纳。", 12)
	b, err := Build(context.Background(), font, Meta{}, func(d *Doc) { d.Para(para) })
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(Text(b)), "\n")
	body := lines[:len(lines)-1] // the footer's page number
	if len(body) < 3 || strings.Join(body, "") != para {
		t.Fatalf("wrapped:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range body {
		if strings.HasPrefix(l, "，") || strings.HasPrefix(l, "。") {
			t.Fatalf("a line starts with punctuation: %q", l)
		}
	}
}

// BenchmarkBareFpdf is the baseline: fpdf alone, the same font, one line.
// Nearly all of a notice's cost is fpdf parsing and subsetting the font.
func BenchmarkBareFpdf(b *testing.B) {
	font := TestFont(b)
	data, err := font.bytes()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f := fpdf.New("P", "mm", "A4", "")
		f.AddUTF8FontFromBytes("cjk", "", data)
		f.AddPage()
		f.SetFont("cjk", "", 11)
		f.Cell(40, 10, "书面催缴通知书")
		if err := f.Output(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
