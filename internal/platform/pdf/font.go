// Package pdf writes simple documents (written notices, management reports)
// with codeberg.org/go-pdf/fpdf and a CJK TrueType font found on the
// machine. No font is committed: the Dockerfile and .ci/run install the
// Debian package fonts-droid-fallback. Without a font, documents fail with
// ErrNoFont and everything else runs.
package pdf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Package is the Debian package that ships a font this package reads.
const Package = "fonts-droid-fallback"

// KnownPaths are looked at, in order, when no path is configured. fpdf
// reads single TrueType files only, not .ttc collections, so the common
// WenQuanYi and Noto CJK packages (both .ttc) do not serve.
var KnownPaths = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", // fonts-droid-fallback
	"/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",    // fonts-arphic-gbsn00lp
}

// ErrNoFont: no usable CJK TrueType font. errors.Is matches every
// *NoFontError.
var ErrNoFont = errors.New("pdf: no CJK TrueType font")

// NoFontError says which paths were tried and how to get a font.
type NoFontError struct {
	Tried  []string
	Reason string // why the last path tried did not serve
}

func (e *NoFontError) Error() string {
	return fmt.Sprintf("%v (tried %s: %s); install it with `apt-get install %s` or set PDF_FONT to a TrueType .ttf file",
		ErrNoFont, strings.Join(e.Tried, ", "), e.Reason, Package)
}

// Is makes errors.Is(err, ErrNoFont) true.
func (e *NoFontError) Is(target error) bool { return target == ErrNoFont }

// Font is the CJK font of the process: located once at start-up (a stat
// and a header read), its ~4 MB read once on first use and then shared by
// every document.
type Font struct {
	path string
	err  error

	once    sync.Once
	data    []byte
	readErr error
}

// Locate finds the font: configured when set (only that file), else the
// first of KnownPaths that is a TrueType file. The result is never nil;
// Err says whether it serves.
func Locate(configured string) *Font {
	paths := KnownPaths
	if configured != "" {
		paths = []string{configured}
	}
	reason := "not found"
	for _, p := range paths {
		if r := check(p); r != "" {
			reason = r
			continue
		}
		return &Font{path: p}
	}
	return &Font{err: &NoFontError{Tried: paths, Reason: reason}}
}

// check says why p is not a TrueType font file ("" when it is).
func check(p string) string {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "not found"
		}
		return err.Error()
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return "not a font file"
	}
	switch string(magic[:]) {
	case "\x00\x01\x00\x00", "true":
		return ""
	case "ttcf":
		return p + " is a TrueType collection (.ttc), which fpdf cannot read"
	case "OTTO":
		return p + " is an OpenType/CFF font, which fpdf cannot read"
	}
	return p + " is not a TrueType font"
}

// Err is nil when the font serves, else a *NoFontError.
func (f *Font) Err() error { return f.err }

// Path is the font file (empty when none serves).
func (f *Font) Path() string { return f.path }

// bytes reads the file once per process. A file that vanished after
// start-up stays missing until a restart, like any other configuration.
func (f *Font) bytes() ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.once.Do(func() {
		b, err := os.ReadFile(f.path)
		if err != nil {
			f.readErr = &NoFontError{Tried: []string{f.path}, Reason: err.Error()}
			return
		}
		f.data = b
	})
	return f.data, f.readErr
}
