package pdf

import (
	"os"
	"testing"
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
