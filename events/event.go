package events

import (
	"encoding/json"
	"net/netip"
	"strings"
	"time"
)

// Decisions an Event may carry.
const (
	// DecisionDeny is a request the gateway refused.
	DecisionDeny = "deny"
	// DecisionShielded is an upstream response the error shield replaced.
	DecisionShielded = "shielded"
	// DecisionError is a request that failed inside the gateway (a
	// recovered panic).
	DecisionError = "error"
	// DecisionReport is a report a browser sent (a CSP violation).
	DecisionReport = "report"
)

// Event is one refusal or notable decision. Its JSON form is the contract of
// the admin API (/events, /events/stream) and of webhooks; empty optional
// fields are omitted.
type Event struct {
	// Seq orders the events of one Ring; Ring.Add assigns it.
	Seq uint64 `json:"seq"`
	// Time is when the request finished.
	Time time.Time `json:"time"`
	// ID is the request id, which the client saw as the incident id.
	ID string `json:"id,omitempty"`
	// Instance names the gateway process that decided: host:pid or a
	// configured name.
	Instance string `json:"instance,omitempty"`
	// Policy is the policy that decided, as the access log and the
	// metrics name it ("ratelimit", "csrf", …).
	Policy string `json:"policy"`
	// Rule is the rule or check within the policy, when it has one (the
	// rate-limit rule's name).
	Rule string `json:"rule,omitempty"`
	// Decision is DecisionDeny for refusals.
	Decision string `json:"decision"`
	// Status is the HTTP status the client got.
	Status int `json:"status,omitempty"`
	// Route is the route pattern that matched ("GET /api/items/{id}"),
	// never the path the client sent.
	Route  string `json:"route,omitempty"`
	Method string `json:"method,omitempty"`
	// ClientIP is the client address, as resolved through trusted
	// proxies; Network is the network it is grouped in (IPv4 /24, IPv6
	// /64).
	ClientIP string `json:"client_ip,omitempty"`
	Network  string `json:"network,omitempty"`
	// User is the authenticated user, when known.
	User string `json:"user,omitempty"`
	// Reason is the short reason, as the access log and the metrics name
	// it ("origin_mismatch", "locked_account").
	Reason string `json:"reason,omitempty"`
	// Fields are policy-specific details (a validation pointer, a refused
	// origin), never secrets; see Scrub.
	Fields map[string]string `json:"fields,omitempty"`
}

// timeLayout is RFC 3339 with milliseconds, always three digits.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes the event with its time in UTC, to the millisecond.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return json.Marshal(struct {
		plain
		Time string `json:"time"`
	}{plain(e), e.Time.UTC().Format(timeLayout)})
}

// Network returns the network an address is grouped in: its /24 for IPv4,
// its /64 for IPv6 (a subscriber usually holds a whole /64). It returns ""
// for an invalid address.
func Network(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// MaxFieldLen bounds every string of an event that comes from a request.
const MaxFieldLen = 200

// Scrub returns v fit for an event: a URL loses its query string, fragment
// and user information, and the result is cut to MaxFieldLen bytes with
// control characters removed. Use it for every value taken from a request.
func Scrub(v string) string {
	if i := strings.IndexAny(v, "?#"); i >= 0 {
		v = v[:i]
	}
	if s, rest, ok := strings.Cut(v, "://"); ok {
		// scheme://user:password@host/… loses its user information.
		host, path, _ := strings.Cut(rest, "/")
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
			if path != "" || strings.Contains(rest, "/") {
				v = s + "://" + host + "/" + path
			} else {
				v = s + "://" + host
			}
		}
	}
	if len(v) > MaxFieldLen {
		v = v[:MaxFieldLen]
	}
	clean := true
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return strings.ToValidUTF8(v, "")
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x20 && v[i] != 0x7f {
			b.WriteByte(v[i])
		}
	}
	return strings.ToValidUTF8(b.String(), "")
}

// Sink receives events. Emit must not block: a sink that forwards events
// elsewhere queues them and drops what it cannot queue.
type Sink interface {
	Emit(e *Event)
}

// Sinks emits every event to each of its sinks, in order.
type Sinks []Sink

// Emit implements Sink.
func (s Sinks) Emit(e *Event) {
	for _, sink := range s {
		sink.Emit(e)
	}
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(e *Event)

// Emit implements Sink.
func (f SinkFunc) Emit(e *Event) { f(e) }
