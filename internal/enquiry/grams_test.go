package enquiry

import (
	"slices"
	"testing"
)

func TestGramsFindChineseInsideWords(t *testing.T) {
	doc := Grams("停车证怎么办理？", "Parking permit")
	for _, tc := range []struct {
		term  string
		found bool
	}{
		{"停车", true}, {"停车证", true}, {"车证怎么", true}, {"停", true},
		{"物业费", false}, {"怎么停车", false}, // 么停 is not in the text
		{"车？证", true}, // punctuation separates terms, each found on its own
		{"parking", true}, {"PERMIT", true},
		{"perk", true}, // pe, er, rk are all there, apart: a candidate, ranked below the exact matches
		{"perch", false},
	} {
		q := queryGrams(tc.term)
		all := len(q) > 0
		for _, g := range q {
			all = all && slices.Contains(doc, g)
		}
		if all != tc.found {
			t.Errorf("%q: found %v, want %v (grams %q)", tc.term, all, tc.found, q)
		}
	}
	if slices.Contains(doc, "？") || slices.Contains(doc, "理？") || slices.Contains(doc, "gp") {
		t.Errorf("a gram spans punctuation or a space: %q", doc)
	}
	if Normalise("停车证 怎么办理？") != Normalise("停车证怎么办理") {
		t.Error("Normalise keeps spaces or punctuation")
	}
}
