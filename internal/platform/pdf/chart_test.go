package pdf

import (
	"bytes"
	"compress/zlib"
	"context"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A bar chart: one filled rectangle per bar with a share above zero, its
// length proportional to the share, the labels and texts as text.
func TestBarChart(t *testing.T) {
	font := TestFont(t)
	half, full, zero := 0.5, 1.0, 0.0
	b, err := Build(context.Background(), font, Meta{Title: "图表", Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}, func(d *Doc) {
		d.Heading("一、清洁卫生")
		d.BarChart("各区域品质检查合格率", []Bar{{Label: "大堂", Share: &half, Text: "50.0%"}, {Label: "楼道", Share: &full, Text: "100.0%"},
			{Label: "天台", Share: &zero, Text: "0.0%"}, {Label: "电梯轿厢", Text: "—"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	text := Text(b)
	for _, want := range []string{"一、清洁卫生", "各区域品质检查合格率", "大堂", "楼道", "天台", "电梯轿厢", "50.0%", "100.0%", "—", "0%", "75%"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	var widths []float64
	re := regexp.MustCompile(`[\d.]+ [\d.]+ ([\d.]+) -?[\d.]+ re f`)
	for _, m := range streamRe.FindAllSubmatch(b, -1) {
		r, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue
		}
		page, _ := io.ReadAll(r)
		for _, f := range re.FindAllSubmatch(page, -1) {
			w, err := strconv.ParseFloat(string(f[1]), 64)
			if err != nil {
				t.Fatal(err)
			}
			widths = append(widths, w)
		}
	}
	if len(widths) != 2 || math.Abs(widths[1]-2*widths[0]) > 0.1 {
		t.Fatalf("filled bars (widths in points): %v, want two, the second twice the first", widths)
	}
}
