package moving

import (
	"strings"
	"testing"
)

// FuzzLiftKey: the lift conflict check cannot be dodged by spelling. Every
// way residents write one lift, in half-width or full-width characters (as
// Chinese input methods type them), with spaces or without, is one key.
func FuzzLiftKey(f *testing.F) {
	for _, s := range []string{"2", "A", "b2", "12", "东", "货", "", " ", "２号梯"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		k := liftKey(name)
		if k != liftKey(" "+name+"\u3000") {
			t.Fatalf("spaces around %q change its key", name)
		}
		if strings.TrimSpace(name) == "" {
			return
		}
		// A lift called by number or letter: all its spellings meet.
		for _, r := range name {
			if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				return
			}
		}
		wide := strings.Map(func(r rune) rune { return r + 0xFEE0 }, name)
		for _, spelling := range []string{
			name + "号", name + "号梯", name + "号电梯", name + "电梯", name + "梯", " " + name + " 号梯 ",
			strings.ToLower(name), strings.ToUpper(name) + "号电梯", wide, wide + "号梯", " " + wide + " 号 电 梯",
		} {
			if got := liftKey(spelling); got != k {
				t.Fatalf("lift %q is %q, but written %q it is %q", name, k, spelling, got)
			}
		}
	})
}
