package gateway

import (
	"bufio"
	"net"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/rampartsec/rampart/auth"
)

// Identity returns who made r, as the gateway authenticated them, or nil
// for an anonymous request. An application served in-process
// (Options.App) reads it from the request it is given; the identity
// headers (auth.identity_headers) carry the same, as they do for an
// upstream.
func Identity(r *http.Request) *auth.Identity { return auth.FromContext(r.Context()) }

// hopHeaders are the hop-by-hop headers of RFC 9110 section 7.6.1, which
// belong to one connection and never reach an application behind a proxy.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// serveApp hands a request that passed every policy to the in-process
// application, as the application behind a proxy would receive it: the
// same headers (the client's forwarding and reserved headers removed, the
// identity and forwarding headers Rampart computed set), the public host,
// and, for a WebSocket handshake, the Upgrade and Connection headers it
// needs. The writer supports flushing and, for WebSocket handshakes,
// hijacking.
func (p *proxy) serveApp(w http.ResponseWriter, r *http.Request, websocket bool) {
	if e := exchangeOf(w); e != nil {
		e.upstream = "app"
	}
	out := r.Clone(r.Context())
	h := out.Header
	// As a proxy does: headers the client's Connection header names are
	// this hop's, then the hop-by-hop headers themselves. Rampart's own
	// headers are set afterwards, so a client cannot nominate them away.
	for _, f := range h["Connection"] {
		for _, name := range strings.Split(f, ",") {
			if name = textprotoKey(name); name != "" && !(websocket && name == "Upgrade") {
				delete(h, name)
			}
		}
	}
	for _, k := range hopHeaders {
		if websocket && (k == "Connection" || k == "Upgrade") {
			continue
		}
		delete(h, k)
	}
	if httpguts.HeaderValuesContainsToken(r.Header["Te"], "trailers") {
		h["Te"] = []string{"trailers"}
	}
	p.forwardHeaders(r, h)
	aw := &appWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
	if p.rp.ModifyResponse != nil {
		// What the proxy does to an upstream's response (cookie
		// hardening, the reflected-CORS guard) is done to the
		// application's too, just before its header is written.
		aw.modify = func(status int) {
			_ = p.rp.ModifyResponse(&http.Response{StatusCode: status, Header: w.Header(), Request: out})
		}
	}
	p.app.ServeHTTP(aw, out)
}

// textprotoKey canonicalises a header name from a Connection header.
func textprotoKey(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return http.CanonicalHeaderKey(s)
}

// appWriter is the writer an in-process application gets: it flushes and
// hijacks through every wrapper of the chain, the way
// http.ResponseController does, so code that asserts http.Flusher or
// http.Hijacker works as it does on a bare server.
type appWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	// modify, when set, runs once on the response header before it is
	// written.
	modify func(status int)
	wrote  bool
}

func (a *appWriter) WriteHeader(code int) {
	if !a.wrote && code >= 200 {
		a.wrote = true
		if a.modify != nil {
			a.modify(code)
		}
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *appWriter) Write(b []byte) (int, error) {
	if !a.wrote {
		a.WriteHeader(http.StatusOK)
	}
	return a.ResponseWriter.Write(b)
}

func (a *appWriter) Flush() {
	if !a.wrote {
		a.WriteHeader(http.StatusOK)
	}
	_ = a.rc.Flush()
}

func (a *appWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return a.rc.Hijack() }

func (a *appWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

var (
	_ http.Flusher  = (*appWriter)(nil)
	_ http.Hijacker = (*appWriter)(nil)
)
