package gateway

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/events"
)

func eventGateway(tb testing.TB) *Gateway {
	tb.Helper()
	c, err := config.Parse("t.yaml", []byte("upstream: http://127.0.0.1:1\n"))
	if err != nil {
		tb.Fatal(err)
	}
	g, err := New(c, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = g.Close() })
	return g
}

// TestAllowedRequestsCostNoAllocation: what an allowed (or proxied)
// request costs the event stream allocates nothing.
func TestAllowedRequestsCostNoAllocation(t *testing.T) {
	g := eventGateway(t)
	gen := g.current.Load()
	r := httptest.NewRequest("GET", "/items/1", nil)
	ex := &exchange{route: "GET /items/{id}", status: 200, upstream: "http://127.0.0.1:1"}
	now := time.Now()
	for _, tc := range []struct {
		status int
		policy string
	}{{200, "upstream"}, {404, "upstream"}, {502, "upstream"}, {304, "rampart"}, {499, "client"}} {
		if n := testing.AllocsPerRun(1000, func() { gen.recordEvent(ex, r, "id", tc.status, tc.policy, now) }); n != 0 {
			t.Errorf("%d %s: %v allocations per request, want 0", tc.status, tc.policy, n)
		}
	}
	if got := g.events.ring.Query(eventsFilterAll()); len(got) != 0 {
		t.Errorf("allowed requests made %d events", len(got))
	}
	if tot := g.events.stats.Totals(); tot.Requests == 0 || tot.Refused != 0 {
		t.Errorf("totals: got %+v", tot)
	}
}

// BenchmarkRecordEventAllowed is the event stream's cost per allowed
// request.
func BenchmarkRecordEventAllowed(b *testing.B) {
	g := eventGateway(b)
	gen := g.current.Load()
	r := httptest.NewRequest("GET", "/items/1", nil)
	ex := &exchange{route: "GET /items/{id}", status: 200}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			gen.recordEvent(ex, r, "id", 200, "upstream", gen.now())
		}
	})
}

// BenchmarkRecordEventRefused is its cost per refusal: building the event,
// the ring, the stats and the metrics.
func BenchmarkRecordEventRefused(b *testing.B) {
	g := eventGateway(b)
	gen := g.current.Load()
	r := httptest.NewRequest("GET", "/items/1", nil)
	r.RemoteAddr = "203.0.113.9:1234"
	ex := &exchange{route: "GET /items/{id}", status: 429, reason: "rule=per-ip"}
	b.ReportAllocs()
	for b.Loop() {
		gen.recordEvent(ex, r, "01jf3k9v2m4x8r6t0c5n7q1w3e", 429, "ratelimit", gen.now())
	}
}

func eventsFilterAll() events.Filter { return events.Filter{Limit: events.MaxLimit} }

// FuzzSplitReason: whatever a reason quotes from a request (a CSRF
// refusal quotes the Origin or Referer), the event's reason, rule and
// fields are scrubbed: bounded, no query string, no control characters.
func FuzzSplitReason(f *testing.F) {
	for _, s := range []string{"rule=per-ip", "store_unavailable rule=api", "invalid_request body=/items/0/name",
		"invalid_request query=limit", "origin_mismatch (Origin: https://evil.example)",
		"referer_mismatch (Referer: https://evil.example/x?token=secret)", "host_not_allowed header=host", "", " ( : )"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reason string) {
		short, rule, fields := splitReason(reason)
		check := func(what, v string) {
			if len(v) > events.MaxFieldLen || strings.ContainsAny(v, "?#\r\n") {
				t.Fatalf("%s of %q: %q", what, reason, v)
			}
		}
		if short == "" {
			t.Fatalf("no reason for %q", reason)
		}
		check("reason", short)
		check("rule", rule)
		for k, v := range fields {
			check(k, v)
		}
	})
}
