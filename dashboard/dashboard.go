package dashboard

import (
	"embed"
	"net/http"
	"path"
	"strconv"
)

//go:embed assets/index.html assets/app.js assets/app.css
var assets embed.FS

// CSP is the Content-Security-Policy the dashboard is served with: its own
// script and stylesheet, images from itself or data: URLs, connections to
// its own origin, and nothing inline, framed or posted elsewhere.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// AssetPrefix is the path under which the page's script and stylesheet are
// served.
const AssetPrefix = "/ui/"

// paths are the dashboard's own files.
var paths = map[string]string{
	"/":                     "assets/index.html",
	AssetPrefix + "app.js":  "assets/app.js",
	AssetPrefix + "app.css": "assets/app.css",
}

// Static reports whether path is one of the dashboard's own files: the
// page, its script and its stylesheet. They hold no data, so an admin
// listener that asks for credentials serves them without: a browser that
// has no session yet must be able to load the page that asks for the
// token. Everything the page shows comes from the admin API, which does
// ask.
func Static(path string) bool {
	_, ok := paths[path]
	return ok
}

// file is one embedded file, read once when the handler is built.
type file struct {
	body        []byte
	contentType string
	length      string
}

// Handler returns the dashboard: GET / serves the page and GET /ui/app.js
// and GET /ui/app.css its script and stylesheet. Any other path answers 404
// and any other method 405, so the handler can be mounted as the catch-all
// "/" of the admin listener's mux — without a method in the pattern: "GET /"
// would conflict with a method-less pattern such as "/debug/pprof/". Every response carries the dashboard's
// CSP, X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and
// Cache-Control: no-store.
func Handler() http.Handler {
	types := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
	}
	files := make(map[string]file, len(paths))
	for p, name := range paths {
		files[p] = load(name, types[path.Ext(name)])
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		f, ok := files[r.URL.Path]
		if !ok {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", f.contentType)
		h.Set("Content-Length", f.length)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(f.body)
	})
}

// load reads an embedded file. The files are part of the binary, so a
// missing one is a build defect, not a runtime condition.
func load(name, contentType string) file {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic("dashboard: embedded " + name + " is missing: " + err.Error())
	}
	return file{body: b, contentType: contentType, length: strconv.Itoa(len(b))}
}
