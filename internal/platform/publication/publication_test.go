package publication

import "testing"

func TestIDRoundTripsAndRejectsWhatItCouldNotMake(t *testing.T) {
	const c = "65a1b2c3d4e5f60718293a4b"
	id := ID(c, "2026-Q3", 2)
	if id != c+":2026-Q3:v2" {
		t.Fatalf("ID = %q", id)
	}
	if gc, gp, gv, ok := ParseID(id, 50); !ok || gc != c || gp != "2026-Q3" || gv != 2 {
		t.Fatalf("ParseID(%q) = %q %q %d %v", id, gc, gp, gv, ok)
	}
	for _, bad := range []string{
		"", c, c + ":2026-Q3", c + ":2026-Q3:2", c + ":2026-Q3:v0", c + ":2026-Q3:v51", c + ":2026-Q3:v02",
		c + ":2026-13:v1", "not-an-id:2026-Q3:v1", c + ":2026-Q3:v1:x",
	} {
		if _, _, _, ok := ParseID(bad, 50); ok {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}
