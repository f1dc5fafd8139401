package scan

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/severity"
	"github.com/rampartsec/rampart/internal/observatory"
)

// Defaults and limits of Config.
const (
	// DefaultMaxRequests is the request budget when Config.MaxRequests is 0.
	DefaultMaxRequests = 31
	// MaxRequestsLimit is the largest budget a scan accepts: it probes, it
	// never load-tests.
	MaxRequestsLimit = 100
	// DefaultTimeout bounds a whole scan when Config.Timeout is 0.
	DefaultTimeout = 60 * time.Second
	// DefaultRequestTimeout bounds one exchange when
	// Config.RequestTimeout is 0.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultMaxBodyBytes is how much of each response body is read when
	// Config.MaxBodyBytes is 0.
	DefaultMaxBodyBytes = 512 << 10
	// MaxHeaderBytes bounds the response headers of every exchange.
	MaxHeaderBytes = 64 << 10
	// MaxRedirects is how many redirects the scan follows from the URL
	// before it gives up.
	MaxRedirects = 5
	// LoginAttempts is the size of the login burst: at most this many
	// POSTs, fewer when the request budget leaves less.
	LoginAttempts = 20
	// MinLoginAttempts is the smallest burst worth sending; with less
	// budget left the rate-limit check is skipped.
	MinLoginAttempts = 5
)

// Sentinel errors Run wraps, for callers that branch on why a scan could not
// start. Each is followed by the URL and the cause:
// "scan: site unreachable: http://127.0.0.1:1/: dial tcp …: connection refused".
var (
	// ErrUnreachable means the site did not answer: no such host, a refused
	// or reset connection, or no answer within the request timeout.
	ErrUnreachable = errors.New("scan: site unreachable")
	// ErrCertificate means the site's TLS certificate is not trusted and
	// Config.InsecureSkipVerify is off.
	ErrCertificate = errors.New("scan: certificate not trusted")
	// ErrTLS means the TLS handshake failed for another reason than the
	// certificate (no common version or cipher suite, not TLS at all).
	ErrTLS = errors.New("scan: tls handshake failed")
	// ErrRedirects means the URL redirects in a loop, more than
	// MaxRedirects times, or to something that is not http or https.
	ErrRedirects = errors.New("scan: too many redirects")
	// ErrCrossOrigin means the URL redirects to another host, which the
	// scan does not probe unless Config.FollowCrossOrigin is set.
	ErrCrossOrigin = errors.New("scan: redirect to another host")
	// ErrBudget means the request budget ran out before the page itself
	// was fetched (it redirects more often than the budget allows).
	ErrBudget = errors.New("scan: request budget exhausted")
	// ErrTimeout means the time budget (Config.Timeout) ran out before the
	// page itself was fetched.
	ErrTimeout = errors.New("scan: time budget exhausted")
)

// Config says what to scan and how much the scan may do. The zero value of
// every field but URL is the safe default.
type Config struct {
	// URL is the page to scan: an absolute http or https URL without
	// credentials. Required. Probes that need another path (a missing page,
	// the login path) use the origin of the page the URL ends at after
	// redirects.
	URL string `json:"url" yaml:"url"`
	// MaxRequests caps the HTTP requests the scan sends, redirects and the
	// legacy-TLS handshake included. 0 means DefaultMaxRequests; more than
	// MaxRequestsLimit is an error. Checks that find the budget spent are
	// reported as skipped.
	MaxRequests int `json:"max_requests" yaml:"max_requests"`
	// LoginPath, when set, turns on the rate-limit probe: a burst of at most
	// LoginAttempts POSTs of one wrong password to this path, stopping at
	// the first 429. It must start with "/". Default "": no burst.
	LoginPath string `json:"login_path" yaml:"login_path"`
	// Timeout bounds the whole scan. 0 means DefaultTimeout. Checks that
	// find it spent are reported as skipped.
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// RequestTimeout bounds each exchange, from connecting to reading the
	// body. 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration `json:"request_timeout" yaml:"request_timeout"`
	// MaxBodyBytes is how much of each response body is read; the rest is
	// never downloaded. 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64 `json:"max_body_bytes" yaml:"max_body_bytes"`
	// HTTPPort is the port of the plain-HTTP site whose redirect to HTTPS
	// is checked when the URL is https. 0 means 80.
	HTTPPort int `json:"http_port" yaml:"http_port"`
	// RootCAs are the certificate authorities trusted for https URLs. Nil
	// means the system's.
	RootCAs *x509.CertPool `json:"-" yaml:"-"`
	// InsecureSkipVerify scans a site whose certificate is not trusted
	// (self-signed, expired, for another name) instead of refusing to. The
	// certificate is still verified, and a failure becomes the failing
	// tls-certificate check. Default false: an untrusted certificate stops
	// the scan with ErrCertificate.
	InsecureSkipVerify bool `json:"insecure_skip_verify" yaml:"insecure_skip_verify"`
	// FollowCrossOrigin follows a redirect from the URL's host to another
	// host and grades the page there. Default false: the scan stops with
	// ErrCrossOrigin, since a scan must only probe where it was sent. Even
	// when following, only GET requests reach a host other than the URL's:
	// the POSTs and OPTIONS of the probe set are never sent there.
	FollowCrossOrigin bool `json:"follow_cross_origin" yaml:"follow_cross_origin"`
	// Now is the clock for certificate and cookie lifetimes. Nil means
	// time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Validate reports whether c is a configuration Run accepts: a valid URL
// (see ParseURL), a budget from 1 to MaxRequestsLimit (or 0 for the
// default), no negative timeout or size, a valid port and login path.
func (c Config) Validate() error {
	_, _, err := c.normalize()
	return err
}

// normalize validates c and fills in defaults.
func (c Config) normalize() (Config, *url.URL, error) {
	u, err := ParseURL(c.URL)
	if err != nil {
		return c, nil, err
	}
	switch {
	case c.MaxRequests < 0 || c.MaxRequests > MaxRequestsLimit:
		return c, nil, fmt.Errorf("scan: max requests %d out of range (1 to %d)", c.MaxRequests, MaxRequestsLimit)
	case c.MaxRequests == 0:
		c.MaxRequests = DefaultMaxRequests
	}
	if c.Timeout < 0 || c.RequestTimeout < 0 || c.MaxBodyBytes < 0 {
		return c, nil, errors.New("scan: timeouts and body size must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.HTTPPort < 0 || c.HTTPPort > 65535 {
		return c, nil, fmt.Errorf("scan: http port %d out of range", c.HTTPPort)
	}
	if c.HTTPPort == 0 {
		c.HTTPPort = 80
	}
	if c.LoginPath != "" {
		if err := checkLoginPath(c.LoginPath); err != nil {
			return c, nil, err
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, u, nil
}

// ParseURL checks that s is a URL the scan accepts — absolute, http or
// https, with a host, a valid port and no credentials — and returns it.
// Errors name the problem: "scan: ftp://x: scheme must be http or https".
func ParseURL(s string) (*url.URL, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("scan: no URL given")
	}
	if len(s) > 2048 {
		return nil, errors.New("scan: URL longer than 2048 bytes")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("scan: %q is not a URL: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme == "" {
			return nil, fmt.Errorf("scan: %q has no scheme: start it with https:// or http://", s)
		}
		return nil, fmt.Errorf("scan: %q: scheme must be http or https", s)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("scan: %q has no host", s)
	case u.User != nil:
		return nil, fmt.Errorf("scan: %s: the URL must not carry credentials", u.Redacted())
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("scan: %q: invalid port %q", s, p)
		}
	}
	if strings.ContainsAny(u.Hostname(), " \t\r\n") {
		return nil, fmt.Errorf("scan: %q: invalid host", s)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

func checkLoginPath(p string) error {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return fmt.Errorf("scan: login path %q must start with a single /", p)
	}
	if _, err := url.ParseRequestURI(p); err != nil || strings.ContainsAny(p, " \t\r\n#") {
		return fmt.Errorf("scan: login path %q is not a valid path", p)
	}
	return nil
}

// Status is a check's verdict.
type Status string

// The verdicts. Pass, Warn and Fail are the answers; Skip means the check
// did not apply or the budget did not allow it; Errored means its probe
// failed (a reset connection, a timeout), which thresholds treat as failing
// because an unanswered question is not a pass.
const (
	Pass    Status = "pass"
	Warn    Status = "warn"
	Fail    Status = "fail"
	Skip    Status = "skip"
	Errored Status = "error"
)

// Check is one verdict of the scan.
type Check struct {
	// ID names the check; ids are stable (see Definitions).
	ID string `json:"id"`
	// Item is the checklist item the check belongs to (audit/checklist's
	// Items).
	Item int `json:"item"`
	// Status is the verdict.
	Status Status `json:"status"`
	// Severity rates a warn or fail: low or moderate for warn, high or
	// critical for fail. It is omitted for the other statuses.
	Severity severity.Level `json:"severity,omitempty"`
	// Title says what the check looks at.
	Title string `json:"title"`
	// Detail is what the scan saw.
	Detail string `json:"detail"`
	// Fix is the one-line remedy, for warn and fail.
	Fix string `json:"fix,omitempty"`
	// Observatory is the MDN HTTP Observatory result the check is based
	// on, when it is one of its tests.
	Observatory string `json:"observatory,omitempty"`
}

// Failing reports whether c fails a --fail-on threshold: a warn or fail at
// or above it, or an errored check.
func (c Check) Failing(threshold severity.Level) bool {
	switch c.Status {
	case Errored:
		return true
	case Warn, Fail:
		return c.Severity.Fails(threshold)
	}
	return false
}

// Observatory is the site's grade on the MDN HTTP Observatory's scoring.
type Observatory struct {
	// Algorithm names the upstream version whose rules are reproduced.
	Algorithm string `json:"algorithm"`
	// Score is 0 to 100, plus bonuses when the penalties leave at least 90.
	Score int `json:"score"`
	// Grade is the letter, A+ to F.
	Grade string `json:"grade"`
	// Tests holds each upstream test's result, by upstream test name.
	Tests map[string]ObservatoryTest `json:"tests"`
}

// ObservatoryTest is one upstream test's outcome.
type ObservatoryTest struct {
	Result   string `json:"result"`
	Pass     bool   `json:"pass"`
	Modifier int    `json:"score_modifier"`
}

// Report is the outcome of a scan. It is not safe for concurrent
// modification.
type Report struct {
	// URL is the URL given.
	URL string `json:"url"`
	// FinalURL is the page graded: URL after redirects.
	FinalURL string `json:"final_url"`
	// Status is FinalURL's status code.
	Status int `json:"status"`
	// Started is when the scan began.
	Started time.Time `json:"started"`
	// Duration is how long it took (in JSON, duration_ms).
	Duration time.Duration `json:"-"`
	// Requests is how many requests the scan sent (redirects and the
	// legacy-TLS handshake included); never more than MaxRequests.
	Requests int `json:"requests"`
	// MaxRequests is the request budget.
	MaxRequests int `json:"max_requests"`
	// Observatory is the header grade.
	Observatory Observatory `json:"observatory"`
	// Checks are the verdicts, ordered by checklist item, then as
	// Definitions lists them.
	Checks []Check `json:"checks"`
}

// Check returns the check with the given id, and whether there is one.
func (r *Report) Check(id string) (Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// Failing returns the checks that fail threshold (see Check.Failing).
func (r *Report) Failing(threshold severity.Level) []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Failing(threshold) {
			out = append(out, c)
		}
	}
	return out
}

// Run scans the site at c.URL and returns its report. The requests are sent
// one after another, never more than c.MaxRequests, within c.Timeout.
//
// Run returns an error, and no report, when there is nothing to grade: an
// invalid Config, an unreachable site, an untrusted certificate (unless
// c.InsecureSkipVerify), a redirect loop, a budget too small to fetch the
// page, or ctx done. The error wraps one of the sentinel errors. Once the
// page has been fetched, a probe that fails becomes an errored check, not an
// error.
func Run(ctx context.Context, c Config) (*Report, error) {
	c, u, err := c.normalize()
	if err != nil {
		return nil, err
	}
	started := time.Now()
	p := newProber(c)
	defer p.close()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	p.ctx = ctx

	ev, err := p.collect(u)
	if err != nil {
		return nil, err
	}
	if err := parent.Err(); err != nil {
		// Cancelled by the caller part-way: the probes that failed for it
		// would read as the site's errors. No report is better than a
		// wrong one.
		return nil, fmt.Errorf("scan: %w", err)
	}
	rep := &Report{
		URL:         c.URL,
		FinalURL:    ev.final.url.String(),
		Status:      ev.final.status,
		Started:     started,
		Requests:    p.used,
		MaxRequests: c.MaxRequests,
	}
	site := ev.site()
	res := observatory.Score(site)
	rep.Observatory = Observatory{Algorithm: observatory.AlgorithmVersion, Score: res.Score, Grade: res.Grade, Tests: map[string]ObservatoryTest{}}
	for name, t := range res.Tests {
		rep.Observatory.Tests[name] = ObservatoryTest{Result: t.Result, Pass: t.Pass, Modifier: t.Modifier}
	}
	rep.Checks = evaluate(ev, res, c.Now())
	rep.Duration = time.Since(started)
	return rep, nil
}

// hostPort joins host and port, bracketing IPv6 addresses.
func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
