package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

// PolicyName is the name under which the limiter's rejections are recorded
// (problem.Problem.Policy).
const PolicyName = "ratelimit"

// DefaultRetryStoreAfter is how long a Limiter keeps applying the failure
// policy after its store failed before it tries the store again.
const DefaultRetryStoreAfter = time.Second

// Sentinel errors.
var (
	// ErrRateLimited is matched (errors.Is) by the *DeniedError that Check
	// returns for a refused request.
	ErrRateLimited = errors.New("ratelimit: rate limit exceeded")
	// ErrUnavailable is returned when a fail_closed rule could not reach
	// its store.
	ErrUnavailable = errors.New("ratelimit: store unavailable")
	// ErrExceedsBurst is returned by AllowN when n exceeds a rule's burst:
	// such a request could never be allowed.
	ErrExceedsBurst = errors.New("ratelimit: n exceeds a rule's burst")
)

// DeniedError is the error Check returns for a refused request.
type DeniedError struct {
	// Rule names the rule that refused.
	Rule string
	// RetryAfter is how long until the request would be allowed.
	RetryAfter time.Duration
}

func (e *DeniedError) Error() string {
	return "ratelimit: rule " + e.Rule + " exceeded, retry after " + e.RetryAfter.String()
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *DeniedError) Is(target error) bool { return target == ErrRateLimited }

// Outcome is what a rule decided for one request.
type Outcome uint8

// The outcomes.
const (
	// Allowed: the rule let the request through.
	Allowed Outcome = iota
	// Denied: the rule refused the request (429).
	Denied
	// DryRunDenied: a dry-run rule would have refused the request; it was
	// let through and logged.
	DryRunDenied
	// Unavailable: the store failed and the rule fails closed (503).
	Unavailable
)

var outcomeNames = [...]string{"allowed", "denied", "dry_run_denied", "unavailable"}

// String returns the outcome's metric label: allowed, denied,
// dry_run_denied or unavailable.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Event is one rule's decision, reported to Config.OnDecision.
type Event struct {
	// Rule is the rule's name.
	Rule string
	// Outcome is what it decided.
	Outcome Outcome
	// Fallback reports that the decision was made by the local fallback
	// store because the shared store failed (fail_open).
	Fallback bool
}

// Config configures a Limiter. The zero value of each field is its safe
// default; Rules must not be empty.
type Config struct {
	// Rules are the limits; a request must satisfy all of them.
	Rules []Rule
	// Namespace separates the counters of limiters that share a store,
	// such as the global limits and each route's own. Default "".
	Namespace string
	// Store keeps the counters. Default: a new MemoryStore with default
	// settings. Use a shared store (package redisstore) so that replicas
	// enforce one limit together.
	Store Store
	// Fallback decides for fail_open rules while Store is unreachable.
	// Default: a new MemoryStore, when Store is not a *MemoryStore.
	Fallback Store
	// Resolver finds the client IP for "ip" keys. Default nil: the TCP
	// peer. Forwarding headers are believed only through it.
	Resolver *clientip.Resolver
	// User returns the authenticated user for "user" keys, or "" for an
	// anonymous request, which is then counted by client IP. Default nil:
	// every request is anonymous.
	User func(*http.Request) string
	// Route returns the route for "route" keys. Default: r.Pattern, as set
	// by http.ServeMux.
	Route func(*http.Request) string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives store failures and recoveries (warn, info) and
	// dry-run refusals (info). Default: slog.Default(), so nothing is lost silently; pass a logger with slog.DiscardHandler to drop.
	Logger *slog.Logger
	// OnDecision, when set, is called once per rule per request with its
	// outcome, for metrics. It must be fast and safe for concurrent use.
	OnDecision func(Event)
	// OnStoreFailure, when set, is called for every failed store call, for
	// metrics. It must be fast and safe for concurrent use.
	OnStoreFailure func(error)
	// RetryStoreAfter is how long the failure policy is applied, without
	// calling the store, after a store call failed, so that an outage does
	// not add a timeout to every request. Default 1s.
	RetryStoreAfter time.Duration
}

// Limiter enforces a set of rules. It is safe for concurrent use.
type Limiter struct {
	rules      []compiledRule
	groups     []*group
	maxQuotas  int
	store      Store
	fallback   Store
	resolver   *clientip.Resolver
	user       func(*http.Request) string
	route      func(*http.Request) string
	now        func() time.Time
	log        *slog.Logger
	onDecision func(Event)
	onStoreErr func(error)
	retryAfter time.Duration
	policy     []string // RateLimit-Policy value, precomputed
	ns         string

	downUntil atomic.Int64 // Unix nanoseconds; store skipped until then
	down      atomic.Bool
	scratch   sync.Pool
}

type compiledRule struct {
	name   string
	quota  Quota
	dryRun bool
	fail   FailurePolicy
}

// group is the rules that share a key, a dry-run flag and a failure policy:
// they are decided together, atomically, in one store call.
type group struct {
	parts  []keyPart
	v4, v6 int
	dryRun bool
	fail   FailurePolicy
	quotas []Quota
	rules  []int // indexes into Limiter.rules
	tag    string
}

// New returns a Limiter that enforces c. It returns an error naming the
// rule and field if c is invalid; it never panics on user input.
func New(c Config) (*Limiter, error) {
	if len(c.Rules) == 0 {
		return nil, errors.New("ratelimit: no rules")
	}
	if c.RetryStoreAfter < 0 {
		return nil, errors.New("ratelimit: retry store after must not be negative")
	}
	l := &Limiter{
		store: c.Store, fallback: c.Fallback, resolver: c.Resolver, user: c.User, route: c.Route,
		now: c.Now, log: c.Logger, onDecision: c.OnDecision, onStoreErr: c.OnStoreFailure,
		retryAfter: c.RetryStoreAfter, ns: c.Namespace,
	}
	if len(l.ns) > 200 {
		return nil, errors.New("ratelimit: namespace longer than 200 bytes")
	}
	if l.store == nil {
		ms, err := NewMemoryStore(MemoryConfig{})
		if err != nil {
			return nil, err
		}
		l.store = ms
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.retryAfter == 0 {
		l.retryAfter = DefaultRetryStoreAfter
	}
	names := map[string]int{}
	for i := range c.Rules {
		r := c.Rules[i] // copy: defaults must not change the caller's rules
		where := fmt.Sprintf("rule %d", i+1)
		if r.Name != "" {
			where = fmt.Sprintf("rule %q", r.Name)
		}
		if r.Name == "" {
			r.Name = defaultName(&r)
		} else if !validName(r.Name) {
			return nil, fmt.Errorf("ratelimit: %s: name must be 1 to 64 letters, digits, '-', '_' or '.'", where)
		}
		if j, dup := names[r.Name]; dup {
			return nil, fmt.Errorf("ratelimit: %s: name %q is already used by rule %d", where, r.Name, j+1)
		}
		names[r.Name] = i
		q, err := r.quota()
		if err != nil {
			return nil, fmt.Errorf("ratelimit: %s: %w", where, err)
		}
		parts, err := parseKey(r.Key)
		if err != nil {
			return nil, fmt.Errorf("ratelimit: %s: %w", where, err)
		}
		switch {
		case r.IPv6Prefix == 0:
			r.IPv6Prefix = 64
		case r.IPv6Prefix < 1 || r.IPv6Prefix > 128:
			return nil, fmt.Errorf("ratelimit: %s: ipv6_prefix must be between 1 and 128, got %d", where, r.IPv6Prefix)
		}
		switch {
		case r.IPv4Prefix == 0:
			r.IPv4Prefix = 32
		case r.IPv4Prefix < 1 || r.IPv4Prefix > 32:
			return nil, fmt.Errorf("ratelimit: %s: ipv4_prefix must be between 1 and 32, got %d", where, r.IPv4Prefix)
		}
		switch r.OnStoreError {
		case "":
			r.OnStoreError = FailOpen
		case FailOpen, FailClosed:
		default:
			return nil, fmt.Errorf("ratelimit: %s: on_store_error must be fail_open or fail_closed, got %q", where, r.OnStoreError)
		}
		l.rules = append(l.rules, compiledRule{name: r.Name, quota: q, dryRun: r.DryRun, fail: r.OnStoreError})
		l.addToGroup(i, parts, &r, q)
	}
	for _, g := range l.groups {
		l.maxQuotas = max(l.maxQuotas, len(g.quotas))
		if g.fail == FailOpen && l.fallback == nil {
			if _, local := l.store.(*MemoryStore); !local {
				ms, err := NewMemoryStore(MemoryConfig{})
				if err != nil {
					return nil, err
				}
				l.fallback = ms
			}
		}
	}
	l.policy = policyHeader(l.rules)
	max := l.maxQuotas
	l.scratch.New = func() any { s := make([]Result, max); return &s }
	return l, nil
}

func (l *Limiter) addToGroup(i int, parts []keyPart, r *Rule, q Quota) {
	tag := fmt.Sprint(parts, r.IPv4Prefix, r.IPv6Prefix, r.DryRun, r.OnStoreError)
	for _, g := range l.groups {
		if g.tag == tag {
			g.quotas = append(g.quotas, q)
			g.rules = append(g.rules, i)
			return
		}
	}
	l.groups = append(l.groups, &group{
		parts: parts, v4: r.IPv4Prefix, v6: r.IPv6Prefix, dryRun: r.DryRun, fail: r.OnStoreError,
		quotas: []Quota{q}, rules: []int{i}, tag: tag,
	})
}

// Decision is the outcome of applying every rule to one request.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Unavailable reports a refusal because a fail_closed rule's store
	// could not be reached.
	Unavailable bool
	// Rule names the rule that refused, or, when allowed, the enforced rule
	// with the fewest remaining requests.
	Rule string
	// Remaining is that rule's remaining requests: 0 when refused, -1 when
	// no enforced rule applied (only dry-run rules, or all failed open
	// without a fallback).
	Remaining int64
	// Reset is how long until that rule's whole budget is available again.
	Reset time.Duration
	// RetryAfter is how long until a refused request would be allowed.
	RetryAfter time.Duration
}

// AllowN reports whether n units may be taken for key at t under every
// rule, and takes them if so. The rules' key settings are ignored: key is
// the identity, for callers that are not HTTP handlers. Dry-run rules are
// reported through OnDecision and the log but never refuse.
func (l *Limiter) AllowN(ctx context.Context, t time.Time, key string, n int) (Decision, error) {
	if n < 1 {
		return Decision{}, errors.New("ratelimit: n must be positive")
	}
	for i := range l.rules {
		if int64(n) > l.rules[i].quota.Burst {
			return Decision{}, fmt.Errorf("%w (rule %s)", ErrExceedsBurst, l.rules[i].name)
		}
	}
	rs := l.scratch.Get().(*[]Result)
	defer l.scratch.Put(rs)
	d := Decision{Allowed: true, Remaining: -1}
	sk := l.ns + "|" + key
	for _, g := range l.groups {
		if !l.decideGroup(ctx, g, sk, t, int64(n), (*rs)[:len(g.quotas)], &d, nil) {
			break
		}
	}
	return d, nil
}

// Decide applies every rule to r and returns the decision. It writes no
// response.
func (l *Limiter) Decide(r *http.Request) Decision {
	return l.decide(r, nil)
}

// Check reports whether r may proceed: nil, a *DeniedError matching
// ErrRateLimited, or ErrUnavailable. It writes no response.
func (l *Limiter) Check(r *http.Request) error {
	d := l.decide(r, nil)
	switch {
	case d.Unavailable:
		return ErrUnavailable
	case !d.Allowed:
		return &DeniedError{Rule: d.Rule, RetryAfter: d.RetryAfter}
	}
	return nil
}

// Handler returns a handler that applies the rules before calling h. Every
// response carries the RateLimit-Policy and RateLimit fields for the
// enforced rules; a refused request gets 429 Too Many Requests with
// Retry-After, and a request refused because a fail_closed rule's store is
// down gets 503 Service Unavailable, both through problem.Write.
func (l *Limiter) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		d := l.decide(r, hdr)
		switch {
		case d.Unavailable:
			hdr.Set("Retry-After", "1")
			problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: PolicyName, Reason: "store_unavailable rule=" + d.Rule})
		case !d.Allowed:
			hdr["Retry-After"] = []string{strconv.FormatInt(ceilSeconds(d.RetryAfter), 10)}
			problem.Write(w, r, problem.Problem{Status: http.StatusTooManyRequests, Policy: PolicyName, Reason: "rule=" + d.Rule})
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// decide applies every group to r. When hdr is not nil it adds the
// RateLimit fields to it.
func (l *Limiter) decide(r *http.Request, hdr http.Header) Decision {
	rs := l.scratch.Get().(*[]Result)
	defer l.scratch.Put(rs)
	d := Decision{Allowed: true, Remaining: -1}
	var hb *headerBuf
	if hdr != nil && len(l.policy) > 0 {
		hb = getHeaderBuf()
		defer putHeaderBuf(hb)
	}
	now := l.now()
	var kb [128]byte
	for _, g := range l.groups {
		key := string(l.identity(g, r, kb[:0]))
		if !l.decideGroup(r.Context(), g, key, now, 1, (*rs)[:len(g.quotas)], &d, hb) {
			break
		}
	}
	if hb != nil {
		if prev := hdr["Ratelimit-Policy"]; prev == nil {
			// Shared and never modified: len == cap, so a later append
			// by anyone copies it first.
			hdr["Ratelimit-Policy"] = l.policy
		} else {
			hdr["Ratelimit-Policy"] = append(prev, l.policy...)
		}
		if len(hb.b) > 0 {
			hdr["Ratelimit"] = append(hdr["Ratelimit"], string(hb.b))
		}
	}
	return d
}

// decideGroup takes from one group's quotas and folds the results into d.
// It reports whether to go on with the next group.
func (l *Limiter) decideGroup(ctx context.Context, g *group, key string, now time.Time, n int64, res []Result, d *Decision, hb *headerBuf) bool {
	fallback := false
	err := l.take(ctx, l.store, key, g, now, n, res)
	if err != nil {
		if g.fail == FailClosed {
			// Fail closed: without the shared counters this rule cannot
			// tell an attacker from a user, and its owner chose refusal
			// over unlimited access.
			for _, ri := range g.rules {
				l.event(ri, Unavailable, false)
			}
			if g.dryRun {
				return true
			}
			d.Allowed, d.Unavailable, d.Rule = false, true, l.rules[g.rules[0]].name
			d.RetryAfter = time.Second
			return false
		}
		// Fail open, but not unlimited: the local store still enforces the
		// rule per replica until the shared store is back.
		fallback = true
		if l.fallback == nil || l.fallback.Take(ctx, key, g.quotas, now, n, res) != nil {
			// No local store to fall back on (a custom Store that is
			// itself local, or a failing Fallback): fail open as chosen.
			for _, ri := range g.rules {
				l.event(ri, Allowed, true)
			}
			return true
		}
	}
	refused := false
	var minRule string
	var minReset time.Duration
	minRemaining := int64(-1)
	for i, ri := range g.rules {
		rr := &res[i]
		rule := &l.rules[ri]
		// Under all-or-nothing a quota that would have allowed reports
		// Allowed=false with no RetryAfter: it did not cause the refusal.
		blocking := !rr.Allowed && rr.RetryAfter > 0
		switch {
		case !blocking:
			l.event(ri, Allowed, fallback)
		case g.dryRun:
			l.event(ri, DryRunDenied, fallback)
			l.log.LogAttrs(ctx, slog.LevelInfo, "ratelimit: dry run would refuse",
				slog.String("rule", rule.name), slog.Duration("retry_after", rr.RetryAfter),
				slog.String("request_id", requestid.FromContext(ctx)))
		default:
			l.event(ri, Denied, fallback)
			if !refused || rr.RetryAfter > d.RetryAfter {
				d.Rule, d.RetryAfter, d.Reset = rule.name, rr.RetryAfter, rr.Reset
			}
			refused = true
		}
		if g.dryRun {
			continue
		}
		if minRemaining < 0 || rr.Remaining < minRemaining {
			minRule, minRemaining, minReset = rule.name, rr.Remaining, rr.Reset
		}
		if hb != nil {
			hb.add(rule.name, rr.Remaining, rr.Reset)
		}
	}
	if refused {
		d.Allowed, d.Remaining = false, 0
		return false
	}
	if minRemaining >= 0 && (d.Remaining < 0 || minRemaining < d.Remaining) {
		d.Rule, d.Remaining, d.Reset = minRule, minRemaining, minReset
	}
	return true
}

// take calls s unless it failed recently, tracking its health. The clock
// is read only while the store is marked down or fails: on the healthy
// path the request's time is all it needs.
func (l *Limiter) take(ctx context.Context, s Store, key string, g *group, now time.Time, n int64, res []Result) error {
	if l.down.Load() && l.now().UnixNano() < l.downUntil.Load() {
		return errSkipped
	}
	err := s.Take(ctx, key, g.quotas, now, n, res)
	if err != nil {
		l.downUntil.Store(l.now().UnixNano() + int64(l.retryAfter))
		if l.onStoreErr != nil {
			l.onStoreErr(err)
		}
		if !l.down.Swap(true) {
			l.log.LogAttrs(ctx, slog.LevelWarn, "ratelimit: store unavailable, applying each rule's failure policy",
				slog.String("error", err.Error()), slog.Duration("retry_in", l.retryAfter))
		}
		return err
	}
	if l.down.Load() && l.down.Swap(false) {
		l.log.LogAttrs(ctx, slog.LevelInfo, "ratelimit: store recovered")
	}
	return nil
}

var errSkipped = errors.New("ratelimit: store skipped after a recent failure")

func (l *Limiter) event(rule int, o Outcome, fallback bool) {
	if l.onDecision != nil {
		l.onDecision(Event{Rule: l.rules[rule].name, Outcome: o, Fallback: fallback})
	}
}

// ceilSeconds rounds d up to whole seconds, at least one.
func ceilSeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// Policy is the name every middleware package gives its middleware
// (headers.Policy, cors.Policy, access.Policy, …): New returns one, and its
// Handler method wraps an http.Handler.
type Policy = Limiter
