package gateway

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/reserved"
	"github.com/rampartsec/rampart/internal/upgrade"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

// upstream is one backend with its health as last observed.
type upstream struct {
	url   *url.URL
	label string
	// state: 0 unknown (never probed), 1 up, 2 down.
	state atomic.Int32
}

const (
	stateUnknown int32 = iota
	stateUp
	stateDown
)

// pool chooses upstreams round-robin, skipping those known to be down unless
// all are.
type pool struct {
	members []*upstream
	next    atomic.Uint64
}

func newPool(urls config.Upstreams) *pool {
	p := &pool{}
	for _, u := range urls {
		p.members = append(p.members, &upstream{url: u, label: u.Scheme + "://" + u.Host})
	}
	return p
}

func (p *pool) pick() *upstream {
	n := uint64(len(p.members))
	if n == 1 {
		return p.members[0]
	}
	start := p.next.Add(1)
	for i := range n {
		u := p.members[(start+i)%n]
		if u.state.Load() != stateDown {
			return u
		}
	}
	return p.members[start%n]
}

// ready reports whether at least one upstream answered its last probe.
func (p *pool) ready() bool {
	for _, u := range p.members {
		if u.state.Load() == stateUp {
			return true
		}
	}
	return false
}

// probe dials every upstream once and records the result.
func (p *pool) probe(ctx context.Context, timeout time.Duration) {
	var wg sync.WaitGroup
	for _, u := range p.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", hostPort(u.url))
			if err != nil {
				u.state.Store(stateDown)
				return
			}
			_ = conn.Close()
			u.state.Store(stateUp)
		}()
	}
	wg.Wait()
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// newTransport returns the upstream transport: a keep-alive pool sized for
// load (Go's default keeps only 2 idle connections per host, which forces a
// new TCP connection for most requests under concurrency), bounded connect
// and response-header timeouts, no environment proxy, and no transparent
// compression so bodies pass through unchanged.
func newTransport(l config.Limits) *http.Transport {
	dialer := &net.Dialer{Timeout: l.UpstreamConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          max(l.UpstreamIdleConns*4, 1024),
		MaxIdleConnsPerHost:   l.UpstreamIdleConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   l.UpstreamConnectTimeout,
		ResponseHeaderTimeout: l.UpstreamTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}

// bufferPool recycles the 32 KiB copy buffers of the reverse proxy.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// proxy is the last handler of every route: it forwards to the upstream.
type proxy struct {
	rp       *httputil.ReverseProxy
	pool     *pool
	ips      *clientip.Resolver
	edge     *reserved.Filter
	guards   sync.Pool // *hintsGuard
	log      *slog.Logger
	metrics  *metrics
	upstream *http.Transport
	// write is limits.write_timeout: a response that has not been written
	// by then is cut by the server, so the upstream request is abandoned
	// then too (by reaper), rather than left waiting on an upstream that
	// stalls.
	write  time.Duration
	reaper *reaper
	// app, when set, serves what passes in-process instead of an upstream
	// (Options.App).
	app http.Handler
	// limits bound the requests in flight per upstream; nil: no limit.
	limits *requestLimits
}

func newProxy(c *config.Config, ips *clientip.Resolver, edge *reserved.Filter, log *slog.Logger, m *metrics, bufs *bufferPool, app http.Handler) *proxy {
	urls := c.Upstream
	if app != nil {
		urls = nil // the application is in-process: nothing to dial or probe
	}
	p := &proxy{pool: newPool(urls), ips: ips, edge: edge, log: log, metrics: m, upstream: newTransport(c.Limits), write: c.Limits.Write(), app: app}
	p.guards.New = func() any { return &hintsGuard{marks: make([]headerMark, 0, 8)} }
	if p.write > 0 {
		p.reaper = newReaper(p.write)
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:      p.rewrite,
		Transport:    timedTransport{p.upstream},
		BufferPool:   bufs,
		ErrorHandler: p.errorHandler,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return p
}

type upstreamKey struct{}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	websocket := false
	if upgrade.Requested(r) {
		if websocket = upgrade.IsWebSocket(r); websocket {
			// The connection's deadlines are lifted only once the upstream
			// has agreed to switch protocols (ReverseProxy hijacks the
			// connection on a 101 only): until then a slow body or a slow
			// reader is cut like any other request.
			w = &upgradeWriter{ResponseWriter: w}
		} else {
			// h2c and other upgrades could tunnel requests past the
			// gateway's checks: the request goes on as plain HTTP/1.1.
			r.Header.Del("Upgrade")
			dropConnectionToken(r.Header, "upgrade")
		}
	}
	if p.app != nil {
		p.serveApp(w, r, websocket)
		return
	}
	u := p.pool.pick()
	e := exchangeOf(w)
	if e != nil {
		e.upstream = u.label
	}
	if p.limits != nil {
		ug, ok := p.limits.admitUpstream(w, r, u, p.ips)
		if !ok {
			return
		}
		if ug != nil {
			defer ug.release()
		}
	}
	g := p.guards.Get().(*hintsGuard)
	g.init(w)
	g.up = u
	if r.Body != nil && r.Body != http.NoBody {
		// A body the client breaks (malformed chunking, a cut
		// connection, a timeout) fails the upstream round trip; the
		// error handler must tell that from an upstream failure.
		g.body = &clientBody{ReadCloser: r.Body}
		r.Body = g.body
	}
	defer p.guards.Put(g)
	defer g.release()
	if p.reaper != nil && !websocket {
		// An upstream that stalls in the middle of a response would
		// otherwise hold this request, and the upstream connection, for
		// as long as it stalls: the server's write deadline fails writes
		// but cannot interrupt the read from the upstream. An upgraded
		// WebSocket lives as long as the application wants.
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(context.Canceled)
		p.reaper.watch(&g.watch, cancel)
		defer p.reaper.finish(&g.watch)
	}
	p.rp.ServeHTTP(g, r.WithContext(context.WithValue(ctx, upstreamKey{}, g)))
	if g.took > 0 && e != nil {
		p.metrics.upstreamTime.WithLabelValues(e.route).Observe(g.took.Seconds())
	}
}

// timedTransport records in the request's guard how long the upstream took
// to answer with response headers: the application's latency alone, for
// rampart_upstream_duration_seconds.
type timedTransport struct{ rt http.RoundTripper }

func (t timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.rt.RoundTrip(r)
	if g, ok := r.Context().Value(upstreamKey{}).(*hintsGuard); ok && err == nil {
		g.took = max(time.Since(start), time.Nanosecond)
	}
	return resp, err
}

// clientBody records the error, if any, of reading the client's body. The
// transport reads it on its own goroutine, hence the atomic.
type clientBody struct {
	io.ReadCloser
	failed atomic.Pointer[error]
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.failed.CompareAndSwap(nil, &err)
	}
	return n, err
}

// err returns the first error reading the body, or nil.
func (b *clientBody) err() error {
	if b == nil {
		return nil
	}
	if e := b.failed.Load(); e != nil {
		return *e
	}
	return nil
}

// headerMark is a response header present before proxying: its name, how
// many values it had, and (after an interim response) those values.
type headerMark struct {
	key  string
	n    int
	vals []string
}

// hintsGuard keeps the headers Rampart set for the final response (request
// id, CORS, Vary, rate-limit headers, cookies) across interim responses:
// ReverseProxy sends each 1xx with the header map and then clears it.
type hintsGuard struct {
	http.ResponseWriter
	marks   []headerMark
	interim bool
	body    *clientBody // the request body, when there is one
	// up is the upstream picked for the request and took how long it
	// took to answer with headers (0 when it did not): the request's
	// context carries the guard, so the transport can record it without
	// an allocation.
	up   *upstream
	took time.Duration
	// watch is the exchange's place in the proxy's reaper.
	watch watchNode
}

func (g *hintsGuard) init(w http.ResponseWriter) {
	g.ResponseWriter = w
	for k, v := range w.Header() {
		g.marks = append(g.marks, headerMark{key: k, n: len(v)})
	}
}

func (g *hintsGuard) release() {
	clear(g.marks)
	g.marks, g.interim, g.ResponseWriter, g.body, g.up, g.took = g.marks[:0], false, nil, nil, nil, 0
}

func (g *hintsGuard) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if !g.interim {
			h := g.ResponseWriter.Header()
			for i, m := range g.marks {
				if v := h[m.key]; len(v) >= m.n {
					g.marks[i].vals = v[:m.n:m.n]
				}
			}
			g.interim = true
		}
		g.ResponseWriter.WriteHeader(code)
		return
	}
	g.restore()
	g.ResponseWriter.WriteHeader(code)
}

// restore puts the saved headers back in front of the final response's.
func (g *hintsGuard) restore() {
	if !g.interim {
		return
	}
	g.interim = false
	h := g.ResponseWriter.Header()
	for _, m := range g.marks {
		if len(m.vals) == 0 {
			continue
		}
		cur := h[m.key]
		if len(cur) >= len(m.vals) && slices.Equal(cur[:len(m.vals)], m.vals) {
			continue
		}
		h[m.key] = append(slices.Clone(m.vals), cur...)
	}
}

func (g *hintsGuard) Write(b []byte) (int, error) {
	g.restore()
	return g.ResponseWriter.Write(b)
}

func (g *hintsGuard) FlushError() error {
	g.restore()
	return http.NewResponseController(g.ResponseWriter).Flush()
}

func (g *hintsGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// dropConnectionToken removes token from the Connection header's list.
func dropConnectionToken(h http.Header, token string) {
	vs := h["Connection"]
	if !upgrade.HasToken(vs, token) {
		return
	}
	var kept []string
	for _, v := range vs {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, token) {
				kept = append(kept, t)
			}
		}
	}
	if len(kept) == 0 {
		delete(h, "Connection")
		return
	}
	h["Connection"] = []string{strings.Join(kept, ", ")}
}

// upgradeWriter clears the connection's read and write deadlines when
// ReverseProxy takes the connection over after the upstream's 101: an
// upgraded connection lives as long as the application wants.
type upgradeWriter struct {
	http.ResponseWriter
}

func (u *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(u.ResponseWriter).Hijack()
	if err == nil {
		_ = conn.SetDeadline(time.Time{})
	}
	return conn, rw, err
}

func (u *upgradeWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// rewrite builds the outbound request. ReverseProxy has already removed
// the hop-by-hop headers (including any a client nominated in Connection)
// and the standard forwarding headers from pr.Out; the originals are still
// on pr.In. Everything Rampart vouches for is set here, after that removal,
// so a client's Connection header cannot take it away.
func (p *proxy) rewrite(pr *httputil.ProxyRequest) {
	var u *upstream
	if g, ok := pr.In.Context().Value(upstreamKey{}).(*hintsGuard); ok {
		u = g.up
	}
	if u == nil {
		u = p.pool.pick()
	}
	pr.SetURL(u.url)
	pr.Out.Host = pr.In.Host // the application sees the public host name, canonical
	p.forwardHeaders(pr.In, pr.Out.Header)
}

// forwardHeaders sets on h, the headers of the request the application
// receives (a copy of in's), what it may see: the client's forwarding and
// reserved headers removed, Rampart's own and the forwarding headers it
// computed set. The proxy and the in-process application share it, so
// both see the same request.
func (p *proxy) forwardHeaders(in *http.Request, h http.Header) {
	peer := clientip.Peer(in)
	trusted := p.ips.Trusted(peer)
	client := p.ips.ClientIP(in)

	p.edge.Upstream(h, in.Header, trusted)
	if id := requestid.FromContext(in.Context()); id != "" {
		h[requestid.Header] = []string{id}
	}
	proto := "http"
	if in.TLS != nil {
		proto = "https"
	}
	host := in.Host
	if trusted {
		if v := in.Header.Get("X-Forwarded-Proto"); v == "http" || v == "https" {
			proto = v
		}
		// Validated, canonicalised and checked against the Host
		// allow-list by access.HostHandler.
		if v := in.Header.Get("X-Forwarded-Host"); v != "" && validHost(v) {
			host = v
		}
	}
	if client.IsValid() {
		ip := client.String()
		h["X-Forwarded-For"] = []string{ip}
		h["X-Real-Ip"] = []string{ip}
		h["Forwarded"] = []string{forwardedValue(client, ip, host, proto)}
	}
	h["X-Forwarded-Proto"] = []string{proto}
	if host != "" {
		h["X-Forwarded-Host"] = []string{host}
	}
}

// forwardedValue builds an RFC 7239 element: for=…;host=…;proto=…. Every
// value that is not a plain token is written as a quoted-string with '"'
// and '\\' escaped, so no value can end the element or start another.
func forwardedValue(client netip.Addr, ip, host, proto string) string {
	var b strings.Builder
	b.Grow(len(ip) + len(host) + 32)
	b.WriteString("for=")
	if client.Is6() {
		writeQuoted(&b, "["+ip+"]")
	} else {
		writeForwardedValue(&b, ip)
	}
	if host != "" {
		b.WriteString(";host=")
		writeQuoted(&b, host)
	}
	b.WriteString(";proto=")
	writeForwardedValue(&b, proto)
	return b.String()
}

// writeForwardedValue writes v as an RFC 7230 token when it is one, and as
// a quoted-string otherwise.
func writeForwardedValue(b *strings.Builder, v string) {
	if httpguts.ValidHeaderFieldName(v) { // an RFC 7230 token
		b.WriteString(v)
		return
	}
	writeQuoted(b, v)
}

// writeQuoted writes v as a quoted-string. Bytes that a quoted-string
// cannot hold (controls, DEL) are dropped; '"' and '\\' are escaped.
func writeQuoted(b *strings.Builder, v string) {
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t' || c >= 0x20 && c != 0x7f:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// validHost reports whether s looks like a host[:port] with no characters
// that could break a header or a quoted string.
func validHost(s string) bool {
	if len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_':
		default:
			return false
		}
	}
	return true
}

// Upstream error kinds, as counted in metrics.
const (
	errKindConnect  = "connect"
	errKindTimeout  = "timeout"
	errKindReset    = "reset"
	errKindTooLarge = "body_too_large"
	errKindCanceled = "client_canceled"
	// errKindClientBody: the client's request body was malformed or cut
	// off; the client is told (400, or 408 on a timeout), and it is not
	// counted as an upstream error.
	errKindClientBody = "client_body"
	errKindOther      = "other"
)

// errorHandler answers a failed proxy attempt with a neutral response. It is
// only called before any response header was sent.
func (p *proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	var body *clientBody
	if g, ok := w.(*hintsGuard); ok {
		body = g.body
	}
	kind, status := classify(r, body, err)
	var u *upstream
	if g, ok := r.Context().Value(upstreamKey{}).(*hintsGuard); ok {
		u = g.up
	}
	label := ""
	if u != nil {
		label = u.label
		if kind == errKindConnect {
			u.state.Store(stateDown)
		}
	}
	clientFault := kind == errKindCanceled || kind == errKindTooLarge || kind == errKindClientBody
	if kind != errKindClientBody {
		p.metrics.upstreamErrors.WithLabelValues(kind).Inc()
	}
	level := slog.LevelWarn
	if clientFault {
		level = slog.LevelDebug
	}
	p.log.LogAttrs(r.Context(), level, "upstream error",
		slog.String("request_id", problem.IncidentID(w, r)),
		slog.String("upstream", label),
		slog.String("kind", kind),
		slog.String("error", err.Error()))
	if kind == errKindCanceled {
		// The client is gone; nobody reads a response. Record a status for
		// the access log only.
		if e := exchangeOf(w); e != nil {
			e.status = 499
			e.RecordDecision("client")
		}
		return
	}
	policy, reason := "upstream", ""
	switch kind {
	case errKindTooLarge:
		policy, reason = "limits", errKindTooLarge
	case errKindClientBody:
		policy, reason = "request", errKindClientBody
		w.Header().Set("Connection", "close")
	}
	problem.Write(w, r, problem.Problem{Status: status, Policy: policy, Reason: reason})
}

func classify(r *http.Request, body *clientBody, err error) (kind string, status int) {
	var tooLarge *http.MaxBytesError
	var opErr *net.OpError
	bodyErr := body.err()
	switch {
	case errors.As(err, &tooLarge) || errors.As(bodyErr, &tooLarge):
		return errKindTooLarge, http.StatusRequestEntityTooLarge
	case bodyErr != nil && isTimeout(bodyErr):
		return errKindClientBody, http.StatusRequestTimeout
	case bodyErr != nil && r.Context().Err() == nil:
		return errKindClientBody, http.StatusBadRequest
	case r.Context().Err() != nil && errors.Is(err, context.Canceled):
		return errKindCanceled, 499
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return errKindTimeout, http.StatusGatewayTimeout
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return errKindConnect, http.StatusBadGateway
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return errKindReset, http.StatusBadGateway
	}
	return errKindOther, http.StatusBadGateway
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
