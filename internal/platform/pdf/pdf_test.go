package pdf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func sample(t testing.TB, font *Font, rows int) []byte {
	t.Helper()
	d, err := New(font, Meta{Title: "书面催缴通知书", Author: "亲情物业", Footer: "编号 2026-0001",
		Created: time.Date(2026, 12, 7, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))})
	if err != nil {
		t.Fatal(err)
	}
	d.Title("书面催缴通知书")
	d.Right("编号：2026-0001")
	d.Para("尊敬的 张三 业主：您好！截至 2026年12月7日，贵户尚欠物业服务费，请于 2026年12月22日 前缴清。")
	var rs [][]string
	for i := range rows {
		rs = append(rs, []string{"2026-" + string(rune('0'+i%10)), "2026-10-31", "360.50", "37 天"})
	}
	d.Table([]Column{{"期间", 2, "L"}, {"应缴日期", 2, "C"}, {"欠费（元）", 2, "R"}, {"逾期", 1, "R"}}, rs)
	d.Para("感谢您的理解与支持！")
	b, err := d.Bytes()
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
	long := sample(t, font, 80)
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
	if _, err := New(f, Meta{}); !errors.Is(err, ErrNoFont) {
		t.Fatalf("New without a font: %v", err)
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
	if _, err := New(Locate(junk), Meta{}); !errors.Is(err, ErrNoFont) {
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
