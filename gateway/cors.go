package gateway

import (
	"bufio"
	"net"
	"net/http"
	"strings"

	"github.com/rampartsec/rampart/cors"
)

// ownExposed are the headers of Rampart's own answers that a page allowed
// by CORS must be able to read: how long to wait after a 429 or 503, the
// rate-limit state, and the incident id.
var ownExposed = []string{"Retry-After", "RateLimit", "RateLimit-Policy", "X-Request-Id"}

// corsEdge gives every response to an allowed origin its CORS headers,
// Rampart's own included: a 429 from a rate limit, a 403 from an IP list,
// a 421 from the Host check, a 404 from the route table or a 500 from a
// panic is written before (or instead of) the route's CORS policy, and
// without the headers a single-page app's fetch() sees only "Failed to
// fetch" — no status, no Retry-After, no incident id. Every response
// varies on Origin.
//
// The policy of the matched route (exchange.cors) decides, else the
// global one: the edge never adds an origin the route's own policy
// refuses, and on responses that policy already handled it sets the same
// headers again.
type corsEdge struct {
	global *cors.Policy // nil when only routes configure CORS
}

func (e *corsEdge) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addVaryOrigin(w.Header())
		if len(r.Header["Origin"]) == 0 || cors.IsPreflight(r) {
			next.ServeHTTP(w, r)
			return
		}
		cw := &corsEdgeWriter{ResponseWriter: w, edge: e, r: r}
		next.ServeHTTP(cw, r)
		if !cw.wrote {
			cw.apply()
		}
	})
}

// addVaryOrigin adds "Vary: Origin" unless a Vary line names it already.
func addVaryOrigin(h http.Header) {
	for _, v := range h["Vary"] {
		if strings.Contains(v, "Origin") {
			return
		}
	}
	h["Vary"] = append(h["Vary"], "Origin")
}

// corsEdgeWriter applies the edge's CORS headers when the status is
// written.
type corsEdgeWriter struct {
	http.ResponseWriter
	edge  *corsEdge
	r     *http.Request
	wrote bool
}

func (w *corsEdgeWriter) apply() {
	w.wrote = true
	h := w.ResponseWriter.Header()
	addVaryOrigin(h)
	p := w.edge.global
	if ex := exchangeOf(w.ResponseWriter); ex != nil && ex.cors != nil {
		p = ex.cors
	}
	if p == nil {
		return
	}
	if !p.Apply(h, w.r) {
		return
	}
	expose := h.Get("Access-Control-Expose-Headers")
	for _, name := range ownExposed {
		if h.Get(name) == "" && name != "X-Request-Id" {
			continue
		}
		if expose != "" {
			expose += ", "
		}
		expose += name
	}
	if expose != "" {
		h.Set("Access-Control-Expose-Headers", expose)
	}
}

func (w *corsEdgeWriter) WriteHeader(code int) {
	if !w.wrote && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.apply()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *corsEdgeWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.apply()
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets handlers that type-assert http.Flusher stream through.
func (w *corsEdgeWriter) Flush() {
	if !w.wrote {
		w.apply()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack supports WebSocket upgrades through the edge.
func (w *corsEdgeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController and exchangeOf the writer beneath.
func (w *corsEdgeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
