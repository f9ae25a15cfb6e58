package apperr

import (
	"strings"
	"testing"
)

// FuzzParseAcceptLanguage: any header picks one of the two languages, and
// English only when an English tag comes before any Chinese one.
func FuzzParseAcceptLanguage(f *testing.F) {
	for _, s := range []string{
		"", "en", "en-US,en;q=0.9", "zh-CN,zh;q=0.9,en;q=0.8", "fr, en;q=0.5", "*", ",,,;;;", "EN-gb",
		"zh-Hant-TW", "de;q=1.0, zh;q=0.1", ";en", "e", "\xff\xfe", strings.Repeat("fr,", 1000) + "en",
		// Found by fuzzing the weights: q=0 is a refusal, and a higher q wins over order.
		"en;q=0, zh", "zh;q=0.5, en;q=0.9", "en;q=NaN", "en;q=1e400", "en;q=-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := ParseAcceptLanguage(h)
		if got != ZH && got != EN {
			t.Fatalf("ParseAcceptLanguage(%q) = %q", h, got)
		}
		if !strings.Contains(strings.ToLower(h), "en") && got != ZH {
			t.Fatalf("ParseAcceptLanguage(%q) = EN without an English tag", h)
		}
		// Tags are case-insensitive.
		if up := ParseAcceptLanguage(asciiUpper(h)); up != got {
			t.Fatalf("ParseAcceptLanguage(%q) = %s but %s in upper case", h, got, up)
		}
		// The client's first choice wins, whatever follows it.
		if l := ParseAcceptLanguage("en-US;q=1," + h); l != EN {
			t.Fatalf("English first, then %q: %s", h, l)
		}
		if l := ParseAcceptLanguage("zh-CN, " + h); l != ZH {
			t.Fatalf("Chinese first, then %q: %s", h, l)
		}
		// A language the client refuses (q=0) is never picked.
		lower := strings.ToLower(h)
		if l := ParseAcceptLanguage("en;q=0, zh;q=0.001," + h); l != ZH && !strings.Contains(lower, "en") {
			t.Fatalf("English refused, then %q: %s", h, l)
		}
		if l := ParseAcceptLanguage("zh;q=0, en;q=0.001," + h); l != EN && !strings.Contains(lower, "zh") {
			t.Fatalf("Chinese refused, English acceptable, then %q: %s", h, l)
		}
		// Languages we do not have are skipped, not taken as Chinese.
		if l := ParseAcceptLanguage("fr-FR;q=1, de," + h); l != got {
			t.Fatalf("unknown languages before %q changed %s to %s", h, got, l)
		}
		// Every message renders in the chosen language without a raw key.
		if m := Message(ErrForbidden, got); m == "" || m == ErrForbidden.Key {
			t.Fatalf("message in %s: %q", got, m)
		}
	})
}

func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}
