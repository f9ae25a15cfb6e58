package pdf

import (
	"bytes"
	"compress/zlib"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"
)

// RequiredEnv set to 1 (as .ci/run does) makes a missing font fail the
// tests that need one instead of skipping them.
const RequiredEnv = "QINQING_PDF_FONT_REQUIRED"

// TestFont is the machine's font for a test that renders: it skips the
// test, naming the package to install, when there is none, and fails it
// under RequiredEnv=1.
func TestFont(tb testing.TB) *Font {
	tb.Helper()
	f := Locate(os.Getenv("PDF_FONT"))
	if err := f.Err(); err != nil {
		if os.Getenv(RequiredEnv) == "1" {
			tb.Fatalf("%s=1 but no font: %v", RequiredEnv, err)
		}
		tb.Skipf("no CJK font (apt-get install %s): %v", Package, err)
	}
	return f
}

var (
	streamRe = regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)
	showRe   = regexp.MustCompile(`(?s)Td \(((?:\\.|[^\\)])*)\)Tj`)
)

// Text is the text fpdf wrote into doc's pages, one shown string a line:
// what tests read back (fpdf writes UTF-8 fonts' text as UTF-16BE strings).
func Text(doc []byte) string {
	var out strings.Builder
	for _, m := range streamRe.FindAllSubmatch(doc, -1) {
		r, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue
		}
		page, err := io.ReadAll(r)
		if err != nil {
			continue
		}
		for _, s := range showRe.FindAllSubmatch(page, -1) {
			b := unescape(s[1])
			u := make([]uint16, len(b)/2)
			for i := range u {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			}
			out.WriteString(string(utf16.Decode(u)))
			out.WriteByte('\n')
		}
	}
	return out.String()
}

// unescape undoes a PDF literal string's backslash escapes.
func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		i++
		switch b[i] {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			out = append(out, b[i])
		}
	}
	return out
}
