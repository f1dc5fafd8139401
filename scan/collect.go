package scan

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rampartsec/rampart/internal/observatory"
)

// Origins the CORS probes send. The arbitrary one is on a reserved domain
// (RFC 2606), so a site that allows it allows any.
const (
	arbitraryOrigin = "https://evil.example"
	nullOrigin      = "null"
)

// malformedJSON is the body of the malformed-JSON probe: cut off mid-object,
// as a broken client or an attacker probing the parser would send it.
const malformedJSON = `{"rampart-scan": ["unterminated`

// probe is one exchange and its outcome: a response, or why there is none.
type probe struct {
	resp *response
	err  error
}

// corsProbe is a request with a foreign Origin.
type corsProbe struct {
	kind   string // arbitrary, null, lookalike
	origin string
	probe
}

// weak is the outcome of the TLS 1.2 handshake offering only weak suites.
type weak struct {
	accepted bool
	suite    uint16
	err      error
}

// legacy is the outcome of the TLS 1.1 handshake.
type legacy struct {
	accepted bool
	version  uint16
	err      error
}

// login is the outcome of the login burst.
type login struct {
	path      string
	attempts  int
	throttled *response // the first 429, when there was one
	statuses  map[int]int
	err       error // set when the burst could not run or stopped early
	planned   int   // the burst the budget allowed
}

// evidence is everything the scan saw, for evaluate.
type evidence struct {
	cfg   Config
	start *url.URL
	chain []*response // from start; the last one is final
	final *response
	// https is the site's first HTTPS answer (nil: none); http its first
	// plain-HTTP answer (nil: none, see httpErr).
	https, http *response
	httpErr     error
	// httpRoute is the redirect route from the plain-HTTP URL.
	httpRoute []*url.URL
	httpChain []*response
	legacy    legacy
	weak      weak
	preflight probe
	cors      []corsProbe
	notFound  probe
	malformed probe
	login     *login
	// verifyErr is the certificate verification failure of the HTTPS
	// answer, nil when valid.
	verifyErr error
}

// collect sends every probe and gathers the answers. Only a failure to fetch
// the page itself is an error.
func (p *prober) collect(start *url.URL) (*evidence, error) {
	ev := &evidence{cfg: p.cfg, start: start}
	chain, _, err := p.follow(start, nil)
	if err != nil {
		switch {
		case errors.Is(err, errRequestBudget):
			err = fmt.Errorf("%w: %s: %d requests were not enough to reach the page", ErrBudget, start.Redacted(), p.cfg.MaxRequests)
		case errors.Is(err, errTimeBudget):
			err = fmt.Errorf("%w: %s: no page within %s", ErrTimeout, start.Redacted(), p.cfg.Timeout)
		}
		return nil, err
	}
	ev.chain, ev.final = chain, chain[len(chain)-1]
	for _, r := range chain {
		if r.url.Scheme == "https" && ev.https == nil {
			ev.https = r
		}
	}
	if ev.https != nil && ev.https.tls != nil {
		ev.verifyErr = p.verify(ev.https)
	}

	// The plain-HTTP side: the chain itself when the URL is http, else the
	// same host on HTTPPort.
	if start.Scheme == "http" {
		ev.http, ev.httpChain = chain[0], chain
		for _, r := range chain {
			ev.httpRoute = append(ev.httpRoute, r.url)
		}
	} else {
		plain := *start
		plain.Scheme, plain.Host = "http", hostPort(start.Hostname(), p.cfg.HTTPPort)
		if p.cfg.HTTPPort == 80 {
			plain.Host = bracketHost(start.Hostname())
		}
		// Stop at the first HTTPS URL on the same host: the page there
		// has been fetched already.
		stop := func(u *url.URL) bool { return u.Scheme == "https" && u.Hostname() == start.Hostname() }
		httpChain, route, err := p.follow(&plain, stop)
		ev.httpChain, ev.httpRoute, ev.httpErr = httpChain, route, err
		if len(httpChain) > 0 {
			ev.http = httpChain[0]
		}
	}

	base := ev.final.url
	if base.Scheme == "https" {
		accepted, version, err := p.legacyTLS(base)
		ev.legacy = legacy{accepted: accepted, version: version, err: err}
		accepted, suite, err := p.weakTLS(base)
		ev.weak = weak{accepted: accepted, suite: suite, err: err}
	}

	ev.preflight = p.send(http.MethodOptions, base, http.Header{
		"Origin":                        {arbitraryOrigin},
		"Access-Control-Request-Method": {"GET"},
	}, nil)

	ev.cors = append(ev.cors, p.corsGet(base, "arbitrary", arbitraryOrigin), p.corsGet(base, "null", nullOrigin))
	if !reflected(ev.preflight.resp, arbitraryOrigin) && !reflected(ev.cors[0].resp, arbitraryOrigin) {
		for _, o := range lookalikes(base.Hostname()) {
			ev.cors = append(ev.cors, p.corsGet(base, "lookalike", o))
		}
	}

	missing := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: "/rampart-scan-" + randomToken(6) + "/missing"}
	ev.notFound = p.send(http.MethodGet, missing, acceptHTML, nil)
	ev.malformed = p.send(http.MethodPost, base, http.Header{
		"Content-Type": {"application/json"},
		"Accept":       {"application/json, text/html;q=0.9, */*;q=0.8"},
	}, []byte(malformedJSON))

	if p.cfg.LoginPath != "" {
		ev.login = p.loginBurst(base, p.cfg.LoginPath)
	}
	// The caller giving up ends the scan without a report.
	if err := p.parent.Err(); err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	return ev, nil
}

func (p *prober) send(method string, u *url.URL, hdr http.Header, body []byte) probe {
	r, err := p.do(method, u, hdr, body)
	return probe{resp: r, err: err}
}

func (p *prober) corsGet(u *url.URL, kind, origin string) corsProbe {
	return corsProbe{kind: kind, origin: origin, probe: p.send(http.MethodGet, u, http.Header{"Origin": {origin}, "Accept": {"*/*"}}, nil)}
}

// lookalikes returns origins that a matcher by suffix, prefix or substring
// mistakes for host's own.
func lookalikes(host string) []string {
	host = strings.Trim(strings.ToLower(host), "[]")
	return []string{"https://" + host + ".evil.example", "https://evil" + host}
}

// loginBurst POSTs a wrong password to path until the site throttles (429,
// or 503 with Retry-After) or LoginAttempts are sent.
func (p *prober) loginBurst(base *url.URL, path string) *login {
	target, err := base.Parse(path)
	l := &login{path: path, statuses: map[int]int{}}
	if err != nil {
		l.err = fmt.Errorf("invalid login path: %w", err)
		return l
	}
	l.planned = min(LoginAttempts, p.left())
	if l.planned < MinLoginAttempts {
		l.err = errRequestBudget
		return l
	}
	body := []byte(`{"username":"rampart-scan","password":"rampart-scan-` + randomToken(8) + `"}`)
	hdr := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	for range l.planned {
		r, err := p.do(http.MethodPost, target, hdr, body)
		if err != nil {
			l.err = err
			return l
		}
		l.attempts++
		l.statuses[r.status]++
		if throttled(r) {
			l.throttled = r
			return l
		}
		if l.attempts == 1 && (r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed) {
			l.err = fmt.Errorf("the login path answered %d %s to a POST: is it the right path?", r.status, http.StatusText(r.status))
			return l
		}
	}
	return l
}

// throttled reports whether r refuses for rate: 429, or 503 with
// Retry-After (RFC 9110, section 10.2.3).
func throttled(r *response) bool {
	return r.status == http.StatusTooManyRequests || (r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") != "")
}

// verify checks r's certificate chain and host name against the trusted
// roots, whatever InsecureSkipVerify says.
func (p *prober) verify(r *response) error {
	certs := r.tls.PeerCertificates
	if len(certs) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		DNSName:       r.url.Hostname(),
		Roots:         p.cfg.RootCAs,
		Intermediates: inter,
		CurrentTime:   p.cfg.Now(),
	})
	return err
}

func bracketHost(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// site assembles what the observatory scorer grades.
func (ev *evidence) site() *observatory.Site {
	obs := func(r *response) *observatory.Response {
		if r == nil {
			return nil
		}
		verified := true
		if r.url.Scheme == "https" {
			verified = ev.verifyErr == nil
		}
		return &observatory.Response{URL: r.url, Status: r.status, Header: r.header, Verified: verified}
	}
	s := &observatory.Site{
		Hostname: ev.final.url.Hostname(),
		Final:    obs(ev.final),
		Body:     string(ev.final.body),
		HTTPS:    obs(ev.https),
		HTTP:     obs(ev.http),
	}
	for i, u := range ev.httpRoute {
		st := 0
		if i < len(ev.httpChain) {
			st = ev.httpChain[i].status
		}
		s.HTTPRedirects = append(s.HTTPRedirects, observatory.Redirect{URL: u, Status: st})
	}
	if ev.preflight.resp != nil {
		s.Preflight, s.PreflightOrigin = obs(ev.preflight.resp), arbitraryOrigin
	}
	for _, r := range ev.chain {
		s.SetCookies = append(s.SetCookies, r.header.Values("Set-Cookie")...)
	}
	return s
}
