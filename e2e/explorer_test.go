package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"qinqing/internal/platform/config"
)

// externalRef finds a reference to another host in a page or script.
var externalRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|https?://`)

// The explorer at / works offline: the page and its script come from the
// binary and name no other host. With EXPLORER_CDN it is GraphiQL from
// that mirror, and from nowhere else.
func TestExplorerNeedsNoOutsideHost(t *testing.T) {
	e := newEnv(t, appEnv("development"))
	resp, body := httpGet(t, e.URL+"/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	page := string(body)
	if m := externalRef.FindString(page); m != "" {
		t.Fatalf("the page refers to another host (%q): %s", m, page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("Content-Security-Policy = %q", csp)
	}
	for _, asset := range []string{"/explorer/explorer.js", "/explorer/explorer.css"} {
		if !strings.Contains(page, asset) {
			t.Fatalf("the page does not load %s", asset)
		}
		resp, body := httpGet(t, e.URL+asset)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Fatalf("GET %s = %d", asset, resp.StatusCode)
		}
		if m := externalRef.FindString(string(body)); m != "" {
			t.Fatalf("%s refers to another host (%q)", asset, m)
		}
	}
	if resp, _ := httpGet(t, e.URL+"/explorer/index.html"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /explorer/index.html = %d, want 404", resp.StatusCode)
	}

	const mirror = "https://registry.npmmirror.com/{pkg}/{version}/files/{file}"
	m := newEnv(t, appEnv("development"), func(c *config.Config) { c.ExplorerCDN = mirror })
	resp, body = httpGet(t, m.URL+"/")
	page = string(body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "https://registry.npmmirror.com/graphiql/4.1.2/files/graphiql.min.js") {
		t.Fatalf("GET / with a mirror = %d: %.300s", resp.StatusCode, page)
	}
	for _, u := range regexp.MustCompile(`https?://[^/"'\s]+`).FindAllString(page, -1) {
		if u != "https://registry.npmmirror.com" {
			t.Fatalf("the mirrored page refers to %s", u)
		}
	}
}
