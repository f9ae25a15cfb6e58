package graph

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// FuzzClientIP: whatever a client writes in X-Forwarded-For, it cannot choose
// the address its per-IP login limits are counted against. Directly
// connected, the peer counts; behind the trusted load balancer, the address
// the balancer saw counts, even when the client sent its own
// X-Forwarded-For lines ahead of the balancer's.
func FuzzClientIP(f *testing.F) {
	for _, s := range []string{
		"", "1.2.3.4", "1.2.3.4, 10.0.0.9", "not-an-ip", ",,,", " , ", "10.0.0.1", "::ffff:10.0.0.1",
		"fe80::1%eth0", "198.51.100.1:443", "[2001:db8::1]", "2001:db8::1", "1.2.3.4\r\nX-Forwarded-For: 5.6.7.8",
		"0.0.0.0", "255.255.255.255, unknown",
	} {
		f.Add(s)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	f.Fuzz(func(t *testing.T, forged string) {
		// Straight from the client: the header is ignored.
		r := httptest.NewRequest("POST", "/graphql", nil)
		r.RemoteAddr = "203.0.113.7:5000"
		r.Header.Set("X-Forwarded-For", forged)
		if got := ClientIP(r, trusted); got != "203.0.113.7" {
			t.Fatalf("untrusted peer with X-Forwarded-For %q counted as %q", forged, got)
		}
		// Through the balancer, which appends the address it saw, either to
		// the client's line or as a line of its own.
		for _, lines := range [][]string{
			{forged + ", 198.51.100.1"},
			{forged, "198.51.100.1"},
			{forged + ",198.51.100.1", "10.0.0.3"},
			{forged, "198.51.100.1, 10.0.0.3"},
		} {
			r := httptest.NewRequest("POST", "/graphql", nil)
			r.RemoteAddr = "10.0.0.2:5000"
			for _, l := range lines {
				r.Header.Add("X-Forwarded-For", l)
			}
			if got := ClientIP(r, trusted); got != "198.51.100.1" {
				t.Fatalf("X-Forwarded-For %q from the balancer: counted as %q, want the balancer's 198.51.100.1", lines, got)
			}
		}
		// Only the client's own header behind the balancer: whatever it
		// names, the result is an address, never the raw text.
		r = httptest.NewRequest("POST", "/graphql", nil)
		r.RemoteAddr = "10.0.0.2:5000"
		r.Header.Set("X-Forwarded-For", forged)
		got := ClientIP(r, trusted)
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("X-Forwarded-For %q: client address %q is not an address", forged, got)
		}
		named := got == "10.0.0.2"
		for _, hop := range strings.Split(forged, ",") {
			if a, err := netip.ParseAddr(strings.TrimSpace(hop)); err == nil && a.Unmap().String() == got {
				named = true
			}
		}
		if !named {
			t.Fatalf("X-Forwarded-For %q: client address %q is neither the peer nor named in it", forged, got)
		}
	})
}
