package gateway

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/login"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/validate"
)

// metrics are the gateway's Prometheus series. They live as long as the
// Gateway, across reloads.
type metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	upstreamErrors *prometheus.CounterVec
	inflight       prometheus.Gauge
	reloads        *prometheus.CounterVec
	reloadTime     prometheus.Gauge
	logDrops       prometheus.Counter
	denials        *prometheus.CounterVec
	shielded       *prometheus.CounterVec
	cspReports     *prometheus.CounterVec
	rateLimits     *prometheus.CounterVec
	storeErrors    *prometheus.CounterVec
	logins         *prometheus.CounterVec
	sessions       *prometheus.CounterVec
	authEvents     *prometheus.CounterVec
	storeUp        *prometheus.GaugeVec
	buildInfo      *prometheus.GaugeVec
	upstreamTime   *prometheus.HistogramVec
	forwarded      *prometheus.CounterVec
	degraded       *prometheus.GaugeVec
	certExpiry     *prometheus.GaugeVec
}

// rateDecision counts rate-limit decisions by rule and outcome.
func (m *metrics) rateDecision(e ratelimit.Event) {
	m.rateLimits.WithLabelValues(e.Rule, e.Outcome.String(), fallbackLabel(e.Fallback)).Inc()
}

// fallbackLabel is the fallback label: "true" for a decision made on the
// local fallback counters while the shared store was down.
func fallbackLabel(fallback bool) string {
	if fallback {
		return "true"
	}
	return "false"
}

// loginDecision counts login-protection refusals by the counter that
// refused.
func (m *metrics) loginDecision(e bruteforce.Event) {
	by := ""
	if e.Outcome == bruteforce.Refused {
		by = e.By.String()
	}
	m.logins.WithLabelValues(e.Outcome.String(), by, fallbackLabel(e.Fallback)).Inc()
	switch e.Outcome {
	case bruteforce.Refused:
		// "locked_ip", "locked_account_ip", "locked_account".
		m.denials.WithLabelValues(bruteforce.PolicyName, "locked_"+by).Inc()
	case bruteforce.Unavailable:
		m.denials.WithLabelValues(bruteforce.PolicyName, "store_unavailable").Inc()
	}
}

// validationDecision counts requests refused by validation, by status.
func (m *metrics) validationDecision(d validate.Decision) {
	if d.Status >= 400 {
		m.denials.WithLabelValues("validation", validationReason(d.Status)).Inc()
	}
}

// validationReason names what validation refused, by its status.
func validationReason(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusNotFound:
		return "unknown_operation"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusNotAcceptable:
		return "not_acceptable"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	}
	return "status_" + codeLabel(status)
}

// sessionEvent counts session events (created, expired, revoked, …).
func (m *metrics) sessionEvent(e session.Event) { m.sessions.WithLabelValues(string(e)).Inc() }

// loginAttempt counts password logins by outcome.
func (m *metrics) loginAttempt(o login.Outcome) {
	m.authEvents.WithLabelValues("login", string(o)).Inc()
}

// authDecision returns a callback counting a token method's operations.
func (m *metrics) authDecision(kind string) func(op, outcome string) {
	return func(op, outcome string) { m.authEvents.WithLabelValues(kind+"_"+op, outcome).Inc() }
}

// authRule counts route rule decisions; refusals also count as denials.
func (m *metrics) authRule(d auth.Decision) {
	m.authEvents.WithLabelValues("route", string(d)).Inc()
	switch d {
	case auth.DecisionUnauthenticated, auth.DecisionInvalid, auth.DecisionForbidden, auth.DecisionUnavailable:
		m.denials.WithLabelValues("auth", string(d)).Inc()
	}
}

// storeFailure returns a callback counting a shared store's errors.
func (m *metrics) storeFailure(store string) func(error) {
	c := m.storeErrors.WithLabelValues(store)
	return func(error) { c.Inc() }
}

// corsDecision counts refused CORS requests and preflights.
func (m *metrics) corsDecision(_ *http.Request, d cors.Decision) {
	if d.Outcome == cors.Refused || d.Outcome == cors.PreflightRefused {
		m.denials.WithLabelValues("cors", d.Outcome.String()).Inc()
	}
}

// csrfDecision counts CSRF rejections by reason.
func (m *metrics) csrfDecision(_ *http.Request, d csrf.Decision) {
	if d.Outcome == csrf.Rejected {
		m.denials.WithLabelValues("csrf", d.Reason).Inc()
	}
}

// shieldIncident counts responses the error shield replaced.
func (m *metrics) shieldIncident(reason string) { m.shielded.WithLabelValues(reason).Inc() }

// cspViolation counts CSP violation reports accepted.
func (m *metrics) cspViolation(headers.Violation) { m.cspReports.WithLabelValues("accepted").Inc() }

// cspDrop counts CSP reports refused (too large, too many, malformed).
func (m *metrics) cspDrop(reason string) { m.cspReports.WithLabelValues(reason).Inc() }

// accessDecision counts the access policy's refusals.
func (m *metrics) accessDecision(_ *http.Request, reason access.Reason) {
	if reason != access.Allowed {
		m.denials.WithLabelValues("access", reason.String()).Inc()
	}
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_requests_total",
			Help: "Requests handled, by route pattern, status code and the policy that decided (upstream when proxied).",
		}, []string{"route", "code", "policy"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rampart_request_duration_seconds",
			Help:    "Time from request start to the end of the response, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_upstream_errors_total",
			Help: "Failed upstream attempts, by kind: connect, timeout, reset, body_too_large, client_canceled, other.",
		}, []string{"kind"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rampart_requests_in_flight",
			Help: "Requests being handled now.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_config_reloads_total",
			Help: "Configuration reloads, by result: success or failure.",
		}, []string{"result"}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rampart_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last configuration that was loaded successfully.",
		}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_policy_denials_total",
			Help: "Requests refused by a policy, by policy and reason.",
		}, []string{"policy", "reason"}),
		shielded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_shield_incidents_total",
			Help: "Upstream responses whose body the error shield replaced, by reason.",
		}, []string{"reason"}),
		cspReports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_csp_reports_total",
			Help: "CSP violation reports received, by outcome: accepted, or why they were dropped.",
		}, []string{"outcome"}),
		rateLimits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_ratelimit_decisions_total",
			Help: "Rate-limit decisions, by rule and outcome (allowed, denied, dry_run_denied, unavailable); fallback is true for decisions made on the local fallback counters while Redis was down.",
		}, []string{"rule", "outcome", "fallback"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_store_errors_total",
			Help: "Errors of shared stores (Redis), by user: ratelimit, login_protection. The configured failure policy applies.",
		}, []string{"store"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_login_attempts_total",
			Help: "Password login attempts seen by login protection, by outcome (allowed, refused, unavailable, failed, succeeded, canceled), the counter that refused (by: ip, account_ip, account) and fallback (true: decided on the local fallback counters while Redis was down).",
		}, []string{"outcome", "by", "fallback"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_session_events_total",
			Help: "Session events: created, rotated, logged_out, expired_idle, expired_absolute, unknown, malformed, store_error, revoked_all, revoked_other.",
		}, []string{"event"}),
		authEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_auth_events_total",
			Help: "Authentication operations by kind (login, token_*, issuer_*, route) and outcome.",
		}, []string{"kind", "outcome"}),
		storeUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rampart_store_up",
			Help: "1 when every store of the kind answered its last health check (every probe interval), 0 when one did not: redis, postgres, sqlite.",
		}, []string{"store"}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rampart_build_info",
			Help: "Always 1; the labels describe the running binary.",
		}, []string{"version", "commit", "goversion"}),
		upstreamTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rampart_upstream_duration_seconds",
			Help:    "Time the upstream took to answer with response headers, by route pattern: the application's latency alone, without Rampart's policies or the client's connection.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_untrusted_forwarding_headers_total",
			Help: "Requests carrying forwarding headers (X-Forwarded-For, Forwarded, X-Real-IP …) from a private-range peer that trusted_proxies does not list: usually a proxy missing from trusted_proxies. By the peer's network class: private, loopback, link_local, shared (100.64/10), unique_local.",
		}, []string{"peer"}),
		degraded: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rampart_degraded",
			Help: "1 while a feature runs degraded because its store is down: sessions (served from the process cache, store.on_error: degraded).",
		}, []string{"feature"}),
		certExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rampart_tls_certificate_expiry_timestamp_seconds",
			Help: "Unix time at which the TLS certificate served for the name expires (tls.cert), checked every probe interval; tls.acme renewals are watched through rampart_acme_certificates_total.",
		}, []string{"name"}),
		logDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rampart_log_dropped_total",
			Help: "Log records dropped because the background log queue was full.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.upstreamErrors, m.inflight, m.reloads, m.reloadTime, m.logDrops, m.denials, m.shielded, m.cspReports, m.rateLimits, m.storeErrors, m.logins, m.sessions, m.authEvents, m.storeUp, m.buildInfo, m.upstreamTime, m.forwarded, m.degraded, m.certExpiry} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// MetricNames lists the names of the metric families a Gateway exports,
// sorted, without the Go runtime and process collectors: what dashboards
// and alert rules may rely on. Histograms are listed by their family name
// (their series add _bucket, _sum and _count).
func MetricNames() []string {
	reg := prometheus.NewRegistry()
	names := map[string]bool{}
	collect := func(cs ...prometheus.Collector) {
		for _, c := range cs {
			ch := make(chan *prometheus.Desc, 16)
			go func() { c.Describe(ch); close(ch) }()
			for d := range ch {
				// Desc has no accessor for its name; its String form
				// starts with it: Desc{fqName: "…", …}.
				s := d.String()
				if _, rest, ok := strings.Cut(s, `fqName: "`); ok {
					if name, _, ok := strings.Cut(rest, `"`); ok {
						names[name] = true
					}
				}
			}
		}
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil
	}
	collect(m.requests, m.duration, m.upstreamErrors, m.inflight, m.reloads, m.reloadTime, m.logDrops, m.denials, m.shielded, m.cspReports, m.rateLimits, m.storeErrors, m.logins, m.sessions, m.authEvents, m.storeUp, m.buildInfo, m.upstreamTime, m.forwarded, m.degraded, m.certExpiry)
	if acme, err := newACMEMetrics(reg); err == nil {
		collect(acme)
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// registerRuntime adds the Go runtime and process collectors.
func registerRuntime(reg prometheus.Registerer) {
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// statusText holds the label value of each status code, so recording a
// request does not format an integer.
var statusText = func() (t [600]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func codeLabel(code int) string {
	if code >= 0 && code < len(statusText) {
		return statusText[code]
	}
	return strconv.Itoa(code)
}
