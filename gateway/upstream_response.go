package gateway

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/rampartsec/rampart/cookies"
)

// upstreamResponse is what the gateway does to every upstream response
// before it goes on: cookie hardening, and with no CORS policy of
// Rampart's own, the guard against the app's worst CORS mistake.
type upstreamResponse struct {
	cookies *cookies.Hardener
	// guardCORS strips a reflected credentialed Access-Control-Allow-Origin
	// (cors not set, upstream_cors: guard).
	guardCORS bool
	log       *slog.Logger
	// reported holds the origins already logged, so that each is logged
	// once; it is bounded so that a flood of made-up origins cannot grow
	// it without end.
	mu       sync.Mutex
	reported map[string]struct{}
}

// maxReportedOrigins bounds upstreamResponse.reported.
const maxReportedOrigins = 1024

// corsResponseHeaders are the CORS headers the guard removes together.
var corsResponseHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Expose-Headers", "Access-Control-Max-Age",
	"Access-Control-Allow-Private-Network",
}

// modify is the reverse proxy's ModifyResponse. resp.Request is the
// outbound request, which carries the public scheme and host Rampart
// computed (X-Forwarded-Proto, X-Forwarded-Host) and the client's Origin.
func (u *upstreamResponse) modify(resp *http.Response) error {
	out := resp.Request
	proto := out.Header.Get("X-Forwarded-Proto")
	if u.cookies != nil && len(resp.Header["Set-Cookie"]) > 0 {
		u.cookies.Harden(resp.Header, proto == "https")
	}
	if u.guardCORS {
		u.guard(resp, out, proto)
	}
	return nil
}

// guard strips the upstream's CORS headers when they grant a credentialed
// read to an origin other than the site's own: an app that reflects any
// Origin with Access-Control-Allow-Credentials: true lets every site read
// its users' data with their cookies. Fail closed: the headers go, the
// response stays.
func (u *upstreamResponse) guard(resp *http.Response, out *http.Request, proto string) {
	h := resp.Header
	acao := h.Get("Access-Control-Allow-Origin")
	if acao == "" || !strings.EqualFold(strings.TrimSpace(h.Get("Access-Control-Allow-Credentials")), "true") {
		return
	}
	host := out.Header.Get("X-Forwarded-Host")
	if host == "" {
		host = out.Host
	}
	own := proto + "://" + host
	if strings.EqualFold(acao, own) || strings.EqualFold(acao, ownWithoutDefaultPort(proto, host)) {
		return
	}
	for _, k := range corsResponseHeaders {
		h.Del(k)
	}
	u.report(out, acao)
}

// ownWithoutDefaultPort is the site's origin with a default port left out,
// as browsers serialise it.
func ownWithoutDefaultPort(proto, host string) string {
	switch {
	case proto == "https" && strings.HasSuffix(host, ":443"):
		return "https://" + strings.TrimSuffix(host, ":443")
	case proto == "http" && strings.HasSuffix(host, ":80"):
		return "http://" + strings.TrimSuffix(host, ":80")
	}
	return proto + "://" + host
}

// report logs a finding once per origin.
func (u *upstreamResponse) report(out *http.Request, acao string) {
	if len(acao) > 200 {
		acao = acao[:200]
	}
	u.mu.Lock()
	_, seen := u.reported[acao]
	if !seen && len(u.reported) < maxReportedOrigins {
		u.reported[acao] = struct{}{}
	}
	u.mu.Unlock()
	if seen {
		return
	}
	u.log.LogAttrs(out.Context(), slog.LevelWarn, "upstream CORS stripped: the app granted a credentialed cross-origin read",
		slog.String("access_control_allow_origin", acao),
		slog.String("path", truncatePath(out.URL.Path)),
		slog.String("fix", "set cors with the origins that may read the app, or upstream_cors: pass to keep the app's headers"))
}

func truncatePath(p string) string {
	if len(p) > 200 {
		return p[:200]
	}
	return p
}
