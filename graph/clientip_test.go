package graph

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, peer, xff string
		trusted         []netip.Prefix
		want            string
	}{
		{"direct client: the peer", "203.0.113.7:5000", "", lb, "203.0.113.7"},
		{"untrusted peer cannot claim another address", "203.0.113.7:5000", "198.51.100.1", lb, "203.0.113.7"},
		{"behind the load balancer: the client it saw", "10.0.0.2:5000", "198.51.100.1", lb, "198.51.100.1"},
		{"a forged left part is ignored", "10.0.0.2:5000", "1.2.3.4, 198.51.100.1", lb, "198.51.100.1"},
		{"through two trusted hops", "10.0.0.2:5000", "198.51.100.1, 10.0.0.9", lb, "198.51.100.1"},
		{"no trusted proxies configured", "10.0.0.2:5000", "198.51.100.1", nil, "10.0.0.2"},
		{"garbage in the header falls back to the peer", "10.0.0.2:5000", "not-an-ip", lb, "10.0.0.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/graphql", nil)
			r.RemoteAddr = tc.peer
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := ClientIP(r, tc.trusted); got != tc.want {
				t.Errorf("ClientIP = %s, want %s", got, tc.want)
			}
		})
	}
}
