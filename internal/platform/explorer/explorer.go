// Package explorer serves the development GraphQL explorer at /. By default
// it is a small page of our own, embedded in the binary, that loads nothing
// from other hosts, so it works offline and where public CDNs are slow or
// unreachable (mainland China). With a mirror configured (EXPLORER_CDN) it
// serves the full GraphiQL instead, its scripts fetched from that mirror and
// checked against the same integrity hashes as gqlgen's CDN copies.
package explorer

import (
	"embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql/playground"
)

//go:embed assets
var assets embed.FS

// AssetPrefix is where the page's script and style are served.
const AssetPrefix = "/explorer/"

// csp lets the embedded page run its own script and style and talk to this
// server only.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

var page = template.Must(template.ParseFS(assets, "assets/index.html"))

// Register adds the explorer to mux: the page at / and, for the embedded
// page, its assets under AssetPrefix. cdn is a mirror base URL or template
// (see MirrorURL); empty serves the embedded page.
func Register(mux *http.ServeMux, title, endpoint, cdn string) {
	if cdn != "" {
		mux.Handle("GET /{$}", Mirror(title, endpoint, cdn))
		return
	}
	mux.Handle("GET "+AssetPrefix, http.StripPrefix(AssetPrefix, assetHandler()))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", csp)
		_ = page.Execute(w, struct{ Title, Endpoint, Assets string }{title, endpoint, AssetPrefix})
	})
}

func assetHandler() http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "explorer.js", "explorer.css":
			r.URL.Path = "/assets/" + r.URL.Path
			files.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// GraphiQL's files as gqlgen pins them, with gqlgen's integrity hashes: a
// mirror serves the same bytes or the browser refuses them.
var graphiql = struct {
	js, css, react, reactDOM, explorerJS, explorerCSS file
}{
	js:          file{"graphiql", "4.1.2", "graphiql.min.js", "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs="},
	css:         file{"graphiql", "4.1.2", "graphiql.min.css", "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU="},
	react:       file{"react", "18.2.0", "umd/react.production.min.js", "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY="},
	reactDOM:    file{"react-dom", "18.2.0", "umd/react-dom.production.min.js", "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc="},
	explorerJS:  file{"@graphiql/plugin-explorer", "4.0.6", "dist/index.umd.js", "sha256-UM8sWOS0Xa9yLY85q6Clh0pF4qpxX+TOcJ41flECqBs="},
	explorerCSS: file{"@graphiql/plugin-explorer", "4.0.6", "dist/style.min.css", "sha256-b0izygy8aEMY3fCLmtNkm9PKdE3kRD4Qjn6Q8gw5xKI="},
}

type file struct{ pkg, version, path, sri string }

// MirrorURL is the address of f on the mirror cdn. A cdn with {pkg},
// {version} and {file} placeholders is filled in (npmmirror:
// https://registry.npmmirror.com/{pkg}/{version}/files/{file}); any other
// is a base in the unpkg and jsDelivr layout, <cdn>/<pkg>@<version>/<file>.
func MirrorURL(cdn string, f file) string {
	if strings.Contains(cdn, "{pkg}") {
		return strings.NewReplacer("{pkg}", f.pkg, "{version}", f.version, "{file}", f.path).Replace(cdn)
	}
	return strings.TrimRight(cdn, "/") + "/" + f.pkg + "@" + f.version + "/" + f.path
}

// Mirror is gqlgen's GraphiQL page with every script and style from cdn.
func Mirror(title, endpoint, cdn string) http.Handler {
	g := graphiql
	u := func(f file) string { return MirrorURL(cdn, f) }
	return playground.Handler(title, endpoint,
		playground.WithGraphiqlVersion(u(g.js), u(g.css), g.js.sri, g.css.sri),
		playground.WithGraphiqlReactVersion(u(g.react), u(g.reactDOM), g.react.sri, g.reactDOM.sri),
		playground.WithGraphiqlPluginExplorerVersion(u(g.explorerJS), u(g.explorerCSS), g.explorerJS.sri, g.explorerCSS.sri),
	)
}
