package outcome

import (
	"testing"

	"qinqing/internal/platform/apperr"
)

// What staff write for owners is refused when it looks like it names a
// household, and ordinary text with dates and counts is not.
func TestPersonal(t *testing.T) {
	for s, want := range map[string]bool{
		"业主13912345678反映":   true,
		"电话 139 1234 5678":  true,
		"139-1234-5678":     true,
		"3栋502业主":           true,
		"1栋1单元502门口":        true,
		"3栋楼道加装照明":          false,
		"2单元门口":             false,
		"502室漏水":            true,
		"已约谈3-1-502业主":      true,
		"12号楼外墙清洗":          false,
		"保洁由每日一次增至两次":       false,
		"2026年12月31日前完成":    false,
		"已增设2处垃圾桶，共花费3500元": false,
	} {
		if got := personal(s); got != want {
			t.Errorf("personal(%q) = %v, want %v", s, got, want)
		}
	}
}

// Ids are parsed back only as OutcomesID and the action keys make them.
func TestParseIDs(t *testing.T) {
	const c = "0123456789abcdef01234567"
	id := OutcomesID(c, "2026-Q3", 2)
	if gc, p, v, ok := ParseID(id); !ok || gc != c || p != "2026-Q3" || v != 2 {
		t.Fatalf("ParseID(%q) = %q %q %d %v", id, gc, p, v, ok)
	}
	for _, bad := range []string{c + ":2026-13:v1", c + ":2026:v0", c + ":2026:v01", "x:2026:v1", c + ":2026"} {
		if _, _, _, ok := ParseID(bad); ok {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	if o, k, ok := ParseActionID(id + ":a3"); !ok || o != id || k != "a3" {
		t.Fatalf("ParseActionID: %q %q %v", o, k, ok)
	}
	for _, bad := range []string{id, id + ":a0", id + ":b1", id + ":a01", "nope:a1"} {
		if _, _, ok := ParseActionID(bad); ok {
			t.Errorf("ParseActionID(%q) accepted", bad)
		}
	}
	if InProgress.Label(apperr.ZH) != "进行中" || Dropped.Label(apperr.EN) != "Dropped" {
		t.Error("status labels")
	}
}
