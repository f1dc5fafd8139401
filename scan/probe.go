package scan

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"time"
)

// userAgent names the scanner to the sites it visits, with where to read
// what it does.
const userAgent = "Mozilla/5.0 (compatible; rampart-scan; +https://github.com/rampartsec/rampart/blob/main/docs/scan.md)"

// dialTimeout bounds connecting, so that a silently dropped port costs
// seconds, not the whole request timeout.
const dialTimeout = 5 * time.Second

var (
	// errRequestBudget and errTimeBudget mark a probe not sent because a
	// budget was spent: its check is skipped, not errored.
	errRequestBudget = errors.New("request budget exhausted")
	errTimeBudget    = errors.New("time budget exhausted")
)

// response is one answer, its body read up to the limit.
type response struct {
	url       *url.URL
	status    int
	header    http.Header
	body      []byte
	truncated bool
	tls       *tls.ConnectionState
}

// prober sends the scan's requests, one at a time, and counts them.
type prober struct {
	cfg    Config
	parent context.Context // the caller's context: its end stops the scan
	ctx    context.Context // parent plus the scan's time budget
	tr     *http.Transport
	client *http.Client
	used   int
	// host is the host named on the command line: the only one that gets
	// more than GET requests, and, unless FollowCrossOrigin, the only one
	// probed at all.
	host string
}

func newProber(c Config) *prober {
	var host string
	if u, err := url.Parse(c.URL); err == nil {
		host = u.Hostname()
	}
	tr := &http.Transport{
		// Direct connections only: what is graded is the site's own answer,
		// not a proxy's.
		Proxy:       nil,
		DialContext: (&net.Dialer{Timeout: dialTimeout}).DialContext,
		TLSClientConfig: &tls.Config{
			RootCAs:            c.RootCAs,
			InsecureSkipVerify: c.InsecureSkipVerify, // the certificate is verified again in evaluate
			// Old versions are accepted so that a site offering only them is
			// graded (tls-version fails) rather than unreachable.
			MinVersion: tls.VersionTLS10,
		},
		TLSHandshakeTimeout:    dialTimeout,
		MaxResponseHeaderBytes: MaxHeaderBytes,
		MaxIdleConnsPerHost:    1,
		ForceAttemptHTTP2:      true,
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	return &prober{cfg: c, host: host, parent: context.Background(), ctx: context.Background(), tr: tr, client: &http.Client{
		Transport: tr,
		Jar:       jar,
		// Redirects are followed by hand, so that each one is counted and
		// seen.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (p *prober) close() { p.tr.CloseIdleConnections() }

// reserve takes one request from the budget, or says why it cannot.
func (p *prober) reserve() error {
	if err := p.parent.Err(); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if p.ctx.Err() != nil {
		return errTimeBudget
	}
	if p.used >= p.cfg.MaxRequests {
		return errRequestBudget
	}
	p.used++
	return nil
}

// errUnnamedHost refuses a request other than GET to a host that is not
// the scanned URL's.
var errUnnamedHost = errors.New("scan: not the named host")

// named reports whether u is on the host named on the command line (any
// scheme or port: the redirect to HTTPS stays on it).
func (p *prober) named(u *url.URL) bool {
	return strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), strings.TrimSuffix(p.host, "."))
}

// left returns how many requests the budget still allows.
func (p *prober) left() int { return p.cfg.MaxRequests - p.used }

// do sends one request and reads at most MaxBodyBytes of the answer. A body
// that fails or times out after the headers arrived is kept as far as it
// was read and marked truncated: the headers are what most checks need.
func (p *prober) do(method string, u *url.URL, hdr http.Header, body []byte) (*response, error) {
	if !p.named(u) && method != http.MethodGet && method != http.MethodHead {
		// Fail closed: a login burst or a malformed body is for the site
		// the user named, never for wherever it redirects.
		return nil, fmt.Errorf("%w: %s to %s not sent: it is not the host named on the command line", errUnnamedHost, method, u.Redacted())
	}
	if err := p.reserve(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, u.Redacted(), err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", userAgent)
	res, err := p.client.Do(req)
	if err != nil {
		return nil, p.classify(err, u)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, p.cfg.MaxBodyBytes+1))
	r := &response{url: u, status: res.StatusCode, header: res.Header, body: b, truncated: err != nil, tls: res.TLS}
	if int64(len(b)) > p.cfg.MaxBodyBytes {
		// Closing without draining drops the connection: the rest of the
		// body is never downloaded.
		r.body, r.truncated = b[:p.cfg.MaxBodyBytes], true
	}
	return r, nil
}

// classify turns a transport error for u into one of the sentinel errors,
// with u and the cause in words.
func (p *prober) classify(err error, u *url.URL) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var cve *tls.CertificateVerificationError
	var rhe tls.RecordHeaderError
	var alert tls.AlertError
	var ne net.Error
	where := u.Redacted()
	switch {
	case p.parent.Err() != nil:
		return fmt.Errorf("scan: %w", p.parent.Err())
	case errors.As(err, &cve):
		return fmt.Errorf("%w: %s: %w", ErrCertificate, where, cve.Err)
	case errors.As(err, &rhe), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http reports a plain-HTTP answer to a TLS hello in words only.
		return fmt.Errorf("%w: %s: the server does not speak TLS on this port", ErrTLS, where)
	case errors.As(err, &alert), strings.HasPrefix(err.Error(), "tls: "):
		return fmt.Errorf("%w: %s: %w", ErrTLS, where, err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		if p.ctx.Err() != nil {
			return errTimeBudget
		}
		return fmt.Errorf("%w: %s: no answer within %s", ErrUnreachable, where, p.cfg.RequestTimeout)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnreachable, where, err)
}

// redirectTarget returns where r redirects to, if it does.
func redirectTarget(r *response) (*url.URL, bool) {
	switch r.status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, false
	}
	loc := r.header.Get("Location")
	if loc == "" {
		return nil, false
	}
	next, err := r.url.Parse(loc)
	if err != nil {
		return nil, false
	}
	next.Fragment, next.RawFragment = "", ""
	return next, true
}

var acceptHTML = http.Header{"Accept": {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}}

// follow GETs start and the redirects it leads to, at most MaxRedirects.
// stop, when not nil, ends the chain before fetching a URL it accepts; that
// URL is still appended to route.
func (p *prober) follow(start *url.URL, stop func(*url.URL) bool) (chain []*response, route []*url.URL, err error) {
	u := start
	for {
		route = append(route, u)
		if stop != nil && len(chain) > 0 && stop(u) {
			return chain, route, nil
		}
		r, err := p.do(http.MethodGet, u, acceptHTML, nil)
		if err != nil {
			return chain, route, err
		}
		chain = append(chain, r)
		next, ok := redirectTarget(r)
		if !ok {
			return chain, route, nil
		}
		if next.Scheme != "http" && next.Scheme != "https" {
			return chain, route, fmt.Errorf("%w: %s redirects to %q, which is not http or https", ErrRedirects, u.Redacted(), next.Redacted())
		}
		if !p.named(next) && !p.cfg.FollowCrossOrigin {
			return chain, append(route, next), fmt.Errorf("%w: %s redirects to %s", ErrCrossOrigin, u.Redacted(), next.Redacted())
		}
		if len(chain) > MaxRedirects {
			return chain, route, fmt.Errorf("%w: %s", ErrRedirects, describeRedirects(append(route, next)))
		}
		u = next
	}
}

// describeRedirects says why a route was abandoned: a loop, shown up to its
// first repeated URL, or too many redirects.
func describeRedirects(route []*url.URL) string {
	var hops []string
	seen := map[string]bool{}
	for _, u := range route {
		hops = append(hops, u.Redacted())
		if seen[u.String()] {
			return "a redirect loop: " + strings.Join(hops, " -> ")
		}
		seen[u.String()] = true
	}
	return fmt.Sprintf("more than %d redirects: %s", MaxRedirects, strings.Join(hops, " -> "))
}

// weakSuites are the TLS 1.2 cipher suites without forward secrecy or
// without an AEAD cipher: CBC modes (Lucky13-style padding oracles), RSA
// key exchange, RC4 and 3DES.
func weakSuites() []uint16 {
	var ids []uint16
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if !slices.Contains(cs.SupportedVersions, tls.VersionTLS12) {
			continue
		}
		aead := strings.Contains(cs.Name, "_GCM_") || strings.Contains(cs.Name, "_CHACHA20_")
		if !aead || !strings.HasPrefix(cs.Name, "TLS_ECDHE_") {
			ids = append(ids, cs.ID)
		}
	}
	return ids
}

// weakTLS tries a TLS 1.2 handshake that offers only weak cipher suites and
// reports the suite the server accepted, if any. It counts as one request.
func (p *prober) weakTLS(u *url.URL) (accepted bool, suite uint16, err error) {
	return p.handshake(u, &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: weakSuites()},
		func(cs tls.ConnectionState) uint16 { return cs.CipherSuite })
}

// legacyTLS tries a handshake capped at TLS 1.1 and reports whether the
// server accepted it. The handshake counts as one request.
func (p *prober) legacyTLS(u *url.URL) (accepted bool, version uint16, err error) {
	return p.handshake(u, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
		func(cs tls.ConnectionState) uint16 { return cs.Version })
}

// handshake tries a TLS handshake limited by cfg and reports whether the
// server accepted it, with what of the connection state pick reads.
func (p *prober) handshake(u *url.URL, cfg *tls.Config, pick func(tls.ConnectionState) uint16) (accepted bool, value uint16, err error) {
	if err := p.reserve(); err != nil {
		return false, 0, err
	}
	ctx, cancel := context.WithTimeout(p.ctx, min(p.cfg.RequestTimeout, dialTimeout))
	defer cancel()
	port := u.Port()
	if port == "" {
		port = "443"
	}
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: dialTimeout},
		Config: &tls.Config{
			ServerName:   u.Hostname(),
			MinVersion:   cfg.MinVersion,
			MaxVersion:   cfg.MaxVersion,
			CipherSuites: cfg.CipherSuites,
			// Only whether the handshake is accepted matters here; the
			// certificate is judged on the main exchange.
			InsecureSkipVerify: true, //nolint:gosec // see above
		},
	}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		if p.parent.Err() != nil {
			return false, 0, fmt.Errorf("scan: %w", p.parent.Err())
		}
		if p.ctx.Err() != nil {
			return false, 0, errTimeBudget
		}
		if ctx.Err() != nil {
			// The site answered the main request; a server that lets an
			// old-version hello hang has not accepted it.
			return false, 0, nil
		}
		var alert tls.AlertError
		var rhe tls.RecordHeaderError
		if errors.As(err, &alert) || errors.As(err, &rhe) || strings.Contains(err.Error(), "tls: ") || errors.Is(err, io.EOF) ||
			strings.Contains(err.Error(), "connection reset") {
			// Refused: the answer we hope for.
			return false, 0, nil
		}
		return false, 0, p.classify(err, u)
	}
	defer conn.Close()
	return true, pick(conn.(*tls.Conn).ConnectionState()), nil
}

// randomToken returns n random bytes in hex, to make probe paths and
// passwords that no site knows.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
