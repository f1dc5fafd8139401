package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Algorithm names how a Rule counts.
type Algorithm string

// The algorithms.
const (
	// GCRA is the generic cell rate algorithm: a token bucket kept as one
	// timestamp. Requests are spread smoothly at Limit per Per, with up to
	// Burst at once. It is the default.
	GCRA Algorithm = "gcra"
	// SlidingWindow counts requests in the current and previous fixed
	// windows of length Per and weighs the previous one by how much of it
	// still overlaps the sliding window ending now: at most Limit requests
	// in any window of length Per, approximately, with no burst at window
	// boundaries.
	SlidingWindow Algorithm = "sliding_window"
)

// FailurePolicy says what a rule does when its store cannot be reached.
type FailurePolicy string

// The failure policies.
const (
	// FailOpen decides with a local in-memory store instead: limits still
	// hold per replica, only not across replicas. The default for rate
	// limits, so an outage of the shared store does not take the site down.
	FailOpen FailurePolicy = "fail_open"
	// FailClosed refuses the request with 503 Service Unavailable.
	FailClosed FailurePolicy = "fail_closed"
)

// Rule is one limit: how many requests a key may make per period. It is the
// element of the rate_limits list in the configuration file.
type Rule struct {
	// Name identifies the rule in headers, logs and metrics, and names its
	// counters in the store. Names are letters, digits, '-', '_' and '.'.
	// Default: derived from the key and the limit, e.g. "ip-100-per-1m0s".
	Name string `yaml:"name" json:"name,omitempty"`
	// Key says whose requests are counted together: "ip" (the client IP
	// from the trusted-proxy resolver, IPv6 grouped by IPv6Prefix), "user"
	// (the authenticated user; the client IP when anonymous), "route" (the
	// matched route pattern), "header:NAME" (the value of a header such as
	// an API key, stored only as a hash; the client IP when absent), or a
	// list of them, counted per combination. Default "ip".
	Key Key `yaml:"key" json:"key,omitempty"`
	// Limit is how many requests are allowed per Per. Required.
	Limit int `yaml:"limit" json:"limit"`
	// Per is the period of Limit, e.g. 1s, 1m, 1h. Required.
	Per time.Duration `yaml:"per" json:"per"`
	// Burst is how many requests may arrive at once (GCRA only). Default:
	// Limit, so a fresh key may spend its whole period's budget at once.
	Burst int `yaml:"burst" json:"burst,omitempty"`
	// Algorithm is "gcra" (default) or "sliding_window".
	Algorithm Algorithm `yaml:"algorithm" json:"algorithm,omitempty"`
	// DryRun makes the rule log and count what it would refuse without
	// refusing it, to try a new limit on real traffic. Default false.
	DryRun bool `yaml:"dry_run" json:"dry_run,omitempty"`
	// IPv6Prefix groups IPv6 clients by this many leading bits, because
	// one subscriber usually holds a whole /64 and could otherwise rotate
	// addresses for a fresh budget on every request. Default 64; 128
	// counts every address apart.
	IPv6Prefix int `yaml:"ipv6_prefix" json:"ipv6_prefix,omitempty"`
	// IPv4Prefix groups IPv4 clients by this many leading bits. Default 32.
	IPv4Prefix int `yaml:"ipv4_prefix" json:"ipv4_prefix,omitempty"`
	// OnStoreError is "fail_open" (default: decide with a local in-memory
	// store while the shared one is unreachable) or "fail_closed" (refuse
	// with 503).
	OnStoreError FailurePolicy `yaml:"on_store_error" json:"on_store_error,omitempty"`
}

// Key is a rule's key: one part or a list of parts. In YAML it is a string
// or a list of strings.
type Key []string

// DecodeYAMLNode decodes a string or a list of strings. The configuration
// decoder calls it for the key field.
func (k *Key) DecodeYAMLNode(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		*k = nil
		return nil
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		*k = Key{n.Value}
		return nil
	case n.Kind == yaml.SequenceNode:
		out := make(Key, 0, len(n.Content))
		for _, e := range n.Content {
			if e.Kind != yaml.ScalarNode || e.ShortTag() != "!!str" {
				return fmt.Errorf("line %d: expected a key such as ip, user, route or header:X-Api-Key", e.Line)
			}
			out = append(out, e.Value)
		}
		*k = out
		return nil
	}
	return errors.New("expected a key (ip, user, route, header:NAME) or a list of them")
}

// String returns the key parts joined by '+'.
func (k Key) String() string {
	return strings.Join(k, "+")
}

// Quota is a compiled rule: what a Store needs to decide. Times are in
// microseconds, the unit every store uses, so that a Lua implementation
// working in floating point stays exact.
type Quota struct {
	// ID names the quota's counters in the store: the rule's name.
	ID string
	// Algorithm is GCRA or SlidingWindow.
	Algorithm Algorithm
	// Limit is the number of requests per Per.
	Limit int64
	// Per is the period in microseconds.
	Per int64
	// Burst is the GCRA bucket size.
	Burst int64
	// Interval is the GCRA emission interval Per/Limit in microseconds.
	Interval int64
}

// maxExact is the largest integer a float64 holds exactly; stores that
// compute in floating point (Redis's Lua) stay exact below it.
const maxExact = 1 << 53

// quota validates r and compiles it.
func (r *Rule) quota() (Quota, error) {
	q := Quota{ID: r.Name, Algorithm: r.Algorithm, Limit: int64(r.Limit), Burst: int64(r.Burst)}
	if q.Algorithm == "" {
		q.Algorithm = GCRA
	}
	switch {
	case r.Limit <= 0:
		return q, fmt.Errorf("limit must be positive, got %d", r.Limit)
	case r.Per <= 0:
		return q, fmt.Errorf("per must be a positive duration, got %s", r.Per)
	case r.Per < time.Millisecond:
		return q, fmt.Errorf("per must be at least 1ms, got %s", r.Per)
	case r.Burst < 0:
		return q, fmt.Errorf("burst must not be negative, got %d", r.Burst)
	}
	q.Per = r.Per.Microseconds()
	switch q.Algorithm {
	case GCRA:
		if q.Burst == 0 {
			q.Burst = q.Limit
		}
		q.Interval = q.Per / q.Limit
		if q.Interval < 1 {
			return q, fmt.Errorf("limit %d per %s is more than one per microsecond", r.Limit, r.Per)
		}
		if q.Burst > maxExact/q.Interval {
			return q, fmt.Errorf("burst %d is too large for per %s", q.Burst, r.Per)
		}
	case SlidingWindow:
		if r.Burst != 0 && r.Burst != r.Limit {
			return q, errors.New("burst applies only to the gcra algorithm; remove it or use algorithm: gcra")
		}
		q.Burst = q.Limit
	default:
		return q, fmt.Errorf("unknown algorithm %q (want gcra or sliding_window)", r.Algorithm)
	}
	if q.Per > maxExact/4 || q.Limit > maxExact/4 {
		return q, fmt.Errorf("per %s is too long", r.Per)
	}
	return q, nil
}

// keyPart kinds.
const (
	partIP = iota
	partUser
	partRoute
	partHeader
)

type keyPart struct {
	kind   int
	header string // canonical header name for partHeader
}

// parseKey validates a rule's key parts.
func parseKey(k Key) ([]keyPart, error) {
	if len(k) == 0 {
		return []keyPart{{kind: partIP}}, nil
	}
	var parts []keyPart
	seen := map[string]bool{}
	for _, s := range k {
		s = strings.TrimSpace(s)
		var p keyPart
		switch lower := strings.ToLower(s); {
		case lower == "ip":
			p.kind = partIP
		case lower == "user":
			p.kind = partUser
		case lower == "route":
			p.kind = partRoute
		case strings.HasPrefix(lower, "header:"):
			name := strings.TrimSpace(s[len("header:"):])
			if name == "" || !validHeaderName(name) {
				return nil, fmt.Errorf("invalid header name in key %q", s)
			}
			p.kind, p.header = partHeader, http.CanonicalHeaderKey(name)
		default:
			return nil, fmt.Errorf("unknown key %q (want ip, user, route or header:NAME)", s)
		}
		id := strconv.Itoa(p.kind) + p.header
		if seen[id] {
			return nil, fmt.Errorf("key %q is listed twice", s)
		}
		seen[id] = true
		parts = append(parts, p)
	}
	return parts, nil
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// defaultName derives a rule name from its key and limit.
func defaultName(r *Rule) string {
	var b strings.Builder
	if len(r.Key) == 0 {
		b.WriteString("ip")
	}
	for i, k := range r.Key {
		if i > 0 {
			b.WriteByte('+')
		}
		for _, c := range strings.ToLower(strings.TrimSpace(k)) {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
				b.WriteRune(c)
			} else {
				b.WriteByte('-')
			}
		}
	}
	b.WriteString("-" + strconv.Itoa(r.Limit) + "-per-" + r.Per.String())
	s := strings.ReplaceAll(b.String(), "+", "_")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// windowSeconds is the w parameter of the RateLimit-Policy field: whole
// seconds, at least one.
func windowSeconds(per time.Duration) int64 {
	return max(1, int64(math.Ceil(per.Seconds())))
}

// CompileRule validates r and returns its Quota, for Store implementations
// and their tests. Limiter users never need it.
func CompileRule(r Rule) (Quota, error) {
	if r.Name == "" {
		r.Name = defaultName(&r)
	}
	q, err := r.quota()
	if err != nil {
		return q, fmt.Errorf("ratelimit: %w", err)
	}
	return q, nil
}
