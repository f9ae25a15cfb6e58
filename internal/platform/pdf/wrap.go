package pdf

import (
	"strings"
	"unicode"
)

// Para writes a paragraph, wrapped to the page. The lines are broken here,
// not by fpdf's MultiCell, which drops the Chinese character at each break
// it makes (v0.12.0 treats it like a space).
func (d *Doc) Para(s string) {
	for _, line := range d.wrap(s, d.width) {
		d.f.CellFormat(d.width, lineH, line, "", 1, "L", false, 0, "")
	}
	d.f.Ln(2)
}

// wrap breaks s into lines no wider than w: Chinese may break between any
// two characters, other text at spaces (a word longer than a line is cut),
// and closing punctuation never starts a line (it hangs past the edge).
func (d *Doc) wrap(s string, w float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		var line []rune
		var width float64
		for _, r := range para {
			rw := d.f.GetStringWidth(string(r))
			if width+rw > w && len(line) > 0 && !strings.ContainsRune(noStart, r) {
				cut := len(line)
				if !breaksAnywhere(r) && !breaksAnywhere(line[len(line)-1]) {
					if at := lastBreak(line); at > 0 {
						cut = at
					}
				}
				out = append(out, strings.TrimRight(string(line[:cut]), " "))
				line = []rune(strings.TrimLeft(string(line[cut:]), " "))
				width = d.f.GetStringWidth(string(line))
			}
			line = append(line, r)
			width += rw
		}
		out = append(out, string(line))
	}
	return out
}

// noStart is punctuation that must not begin a line.
const noStart = "，。、；：！？）」』”’》,.;:!?)"

func breaksAnywhere(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

// lastBreak is where line may break: after its last space or Chinese
// character; 0 when nowhere.
func lastBreak(line []rune) int {
	for i := len(line) - 1; i > 0; i-- {
		if line[i-1] == ' ' || breaksAnywhere(line[i-1]) {
			return i
		}
	}
	return 0
}
