package httpserver

import "net/http"

// SecurityOptions choose the headers that depend on the deployment.
type SecurityOptions struct {
	// HSTS asks browsers to use HTTPS only (production, behind TLS).
	HSTS bool
	// PlaygroundPath is exempt from the Content-Security-Policy: GraphiQL
	// loads its scripts and styles from a mirror (EXPLORER_CDN). Empty when
	// the playground is off or is the embedded explorer, which sets a
	// policy of its own.
	PlaygroundPath string
}

// csp allows nothing: the API serves JSON, images and reports, never a page
// that runs scripts, so an injected document can do nothing either.
const csp = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// SecurityHeaders sets the standard protective headers on every response.
func SecurityHeaders(next http.Handler, o SecurityOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if o.PlaygroundPath == "" || r.URL.Path != o.PlaygroundPath {
			h.Set("Content-Security-Policy", csp)
		}
		if o.HSTS {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}
