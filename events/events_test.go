package events_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/events"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 123_000_000, time.UTC)

func TestEventJSON(t *testing.T) {
	t.Parallel()
	e := events.Event{Seq: 7, Time: t0, ID: "req-1", Instance: "h:1", Policy: "ratelimit", Rule: "api",
		Decision: events.DecisionDeny, Status: 429, Route: "GET /api/items/{id}", Method: "GET",
		ClientIP: "203.0.113.9", Network: "203.0.113.0/24", Reason: "rule", Fields: map[string]string{"k": "v"}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":7,"id":"req-1","instance":"h:1","policy":"ratelimit","rule":"api","decision":"deny","status":429,"route":"GET /api/items/{id}","method":"GET","client_ip":"203.0.113.9","network":"203.0.113.0/24","reason":"rule","fields":{"k":"v"},"time":"2026-12-04T10:00:00.123Z"}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	// Whole seconds still carry three digits; empty fields are omitted.
	b, _ = json.Marshal(events.Event{Time: t0.Truncate(time.Second).In(time.FixedZone("x", 3600)), Policy: "csrf", Decision: "deny"})
	if want := `{"seq":0,"policy":"csrf","decision":"deny","time":"2026-12-04T10:00:00.000Z"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back events.Event
	if err := json.Unmarshal(b, &back); err != nil || !back.Time.Equal(t0.Truncate(time.Second)) || back.Policy != "csrf" {
		t.Errorf("round trip: got %+v, %v", back, err)
	}
}

func TestNetwork(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.9":          "203.0.113.0/24",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"::ffff:198.51.100.7":  "198.51.100.0/24",
	} {
		if got := events.Network(netip.MustParseAddr(in)); got != want {
			t.Errorf("Network(%s): got %q, want %q", in, got, want)
		}
	}
	if got := events.Network(netip.Addr{}); got != "" {
		t.Errorf("invalid address: got %q, want empty", got)
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://app.example", "https://app.example"},
		{"https://app.example/reset?token=s3cr3t", "https://app.example/reset"},
		{"https://app.example/page#access_token=s3cr3t", "https://app.example/page"},
		{"https://user:s3cr3t@app.example/x", "https://app.example/x"},
		{"https://user:s3cr3t@app.example", "https://app.example"},
		{"line\r\nbreak\x00", "linebreak"},
		{strings.Repeat("a", 500), strings.Repeat("a", events.MaxFieldLen)},
		{"bad \xff utf8", "bad  utf8"},
	} {
		if got := events.Scrub(tc.in); got != tc.want {
			t.Errorf("Scrub(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseFilter(t *testing.T) {
	t.Parallel()
	now := t0
	f, err := events.ParseFilter(url.Values{"policy": {"csrf"}, "client_ip": {"203.0.113.9"}, "since": {"15m"}, "limit": {"5000"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if f.Policy != "csrf" || f.ClientIP != "203.0.113.9" || !f.Since.Equal(now.Add(-15*time.Minute)) || f.Limit != events.MaxLimit {
		t.Errorf("got %+v", f)
	}
	f, err = events.ParseFilter(url.Values{"since": {"2026-12-04T09:00:00Z"}}, now)
	if err != nil || !f.Since.Equal(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339 since: got %+v, %v", f, err)
	}
	for _, bad := range []url.Values{
		{"polcy": {"csrf"}}, {"since": {"yesterday"}}, {"since": {"-5m"}}, {"limit": {"0"}},
		{"limit": {"x"}}, {"policy": {"a", "b"}}, {"user": {strings.Repeat("u", 300)}},
	} {
		if _, err := events.ParseFilter(bad, now); err == nil {
			t.Errorf("ParseFilter(%v): got no error", bad)
		}
	}
}

func ev(policy, ip, route, user string, at time.Time) events.Event {
	return events.Event{Time: at, Policy: policy, Decision: events.DecisionDeny, ClientIP: ip,
		Network: events.Network(netip.MustParseAddr(ip)), Route: route, User: user}
}

func TestRing(t *testing.T) {
	t.Parallel()
	r := events.NewRing(3)
	for i := range 5 {
		got := r.Add(ev("csrf", fmt.Sprintf("192.0.2.%d", i), "", "", t0.Add(time.Duration(i)*time.Second)))
		if got.Seq != uint64(i+1) {
			t.Fatalf("seq: got %d, want %d", got.Seq, i+1)
		}
	}
	all := r.Query(events.Filter{})
	if len(all) != 3 || all[0].Seq != 5 || all[2].Seq != 3 {
		t.Fatalf("newest first, oldest dropped: got %+v", all)
	}
	if got := r.Query(events.Filter{Limit: 2}); len(got) != 2 || got[0].Seq != 5 {
		t.Errorf("limit: got %+v", got)
	}
	if got := r.Query(events.Filter{ClientIP: "192.0.2.3"}); len(got) != 1 || got[0].Seq != 4 {
		t.Errorf("by client: got %+v", got)
	}
	if got := r.Query(events.Filter{ClientIP: "192.0.2.0/24"}); len(got) != 3 {
		t.Errorf("by network: got %d events, want 3", len(got))
	}
	if got := r.Query(events.Filter{Since: t0.Add(4 * time.Second)}); len(got) != 1 {
		t.Errorf("since: got %d events, want 1", len(got))
	}
	if got := r.After(3, events.Filter{}); len(got) != 2 || got[0].Seq != 4 || got[1].Seq != 5 {
		t.Errorf("After(3): got %+v, want 4 and 5 oldest first", got)
	}
	if got := r.After(0, events.Filter{}); len(got) != 3 {
		t.Errorf("After(0) holds what the ring holds: got %d, want 3", len(got))
	}
}

func TestRingSubscribers(t *testing.T) {
	t.Parallel()
	r := events.NewRing(10)
	sub, seq := r.Subscribe()
	defer sub.Close()
	if seq != 0 {
		t.Fatalf("seq: got %d", seq)
	}
	r.Add(ev("cors", "192.0.2.1", "", "", t0))
	select {
	case e := <-sub.C():
		if e.Seq != 1 || e.Policy != "cors" {
			t.Errorf("got %+v", e)
		}
	case <-time.After(time.Second):
		t.Fatal("no event delivered")
	}
	// A subscriber that does not read never blocks Add: it misses events.
	slow, _ := r.Subscribe()
	defer slow.Close()
	done := make(chan struct{})
	go func() {
		for range 1000 {
			r.Add(ev("cors", "192.0.2.1", "", "", t0))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Add blocked on a subscriber that does not read")
	}
	if slow.Missed() == 0 {
		t.Error("the slow subscriber missed nothing")
	}
}

func TestRingConcurrent(t *testing.T) {
	t.Parallel()
	r := events.NewRing(100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				r.Add(ev("auth", fmt.Sprintf("192.0.2.%d", g), "", "", t0.Add(time.Duration(i))))
				_ = r.Query(events.Filter{Policy: "auth", Limit: 10})
			}
		}()
	}
	wg.Wait()
	if got := r.Query(events.Filter{Limit: 1000}); len(got) != 100 || got[0].Seq != 4000 {
		t.Errorf("got %d events, newest %d; want 100, newest 4000", len(got), got[0].Seq)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	s := events.NewStats()
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	// Two hours ago: counted in 24h only.
	old := start.Add(-2 * time.Hour)
	s.Request(old)
	e := ev("ratelimit", "198.51.100.1", "GET /old", "", old)
	s.Refusal(&e)
	// Thirty minutes ago and now.
	for i := range 10 {
		at := start.Add(-30 * time.Minute)
		if i >= 4 {
			at = start.Add(10 * time.Second)
		}
		s.Request(at)
		if i%2 == 0 {
			ip := "203.0.113.9"
			if i == 8 {
				ip = "203.0.113.10"
			}
			e := ev("csrf", ip, "POST /api/items", "alice", at)
			s.Refusal(&e)
		}
	}
	now := start.Add(30 * time.Second)
	snap := s.Snapshot(now)
	for name, want := range map[string]events.Window{
		"1m":  {Requests: 6, Refused: 3, ByPolicy: map[string]uint64{"csrf": 3}},
		"15m": {Requests: 6, Refused: 3, ByPolicy: map[string]uint64{"csrf": 3}},
		"1h":  {Requests: 10, Refused: 5, ByPolicy: map[string]uint64{"csrf": 5}},
		"24h": {Requests: 11, Refused: 6, ByPolicy: map[string]uint64{"csrf": 5, "ratelimit": 1}},
	} {
		got := snap.Windows[name]
		if got.Requests != want.Requests || got.Refused != want.Refused || fmt.Sprint(got.ByPolicy) != fmt.Sprint(want.ByPolicy) {
			t.Errorf("window %s: got %+v, want %+v", name, got, want)
		}
	}
	if top := snap.Top["client_ip"]; len(top) != 2 || top[0] != (events.KeyCount{Key: "203.0.113.9", Count: 4}) {
		t.Errorf("top client_ip: got %+v", top)
	}
	if top := snap.Top["route"]; len(top) != 1 || top[0].Key != "POST /api/items" || top[0].Count != 5 {
		t.Errorf("top route (the old refusal is outside the hour): got %+v", top)
	}
	if top := snap.Top["user"]; len(top) != 1 || top[0].Key != "alice" {
		t.Errorf("top user: got %+v", top)
	}
	pts := snap.Series.Points
	if snap.Series.StepSeconds != 60 || len(pts) != 60 {
		t.Fatalf("series: got step %d, %d points", snap.Series.StepSeconds, len(pts))
	}
	if last := pts[59]; !last.Time.Equal(start) || last.Requests != 6 || last.Refused != 3 {
		t.Errorf("last point: got %+v", last)
	}
	if p := pts[29]; !p.Time.Equal(start.Add(-30*time.Minute)) || p.Requests != 4 || p.ByPolicy["csrf"] != 2 {
		t.Errorf("point -30m: got %+v", p)
	}
	// A minute later the sliding window weighs the previous minute by
	// the part it still covers: at 10:01:30, half of 10:00.
	if got := s.Snapshot(start.Add(90 * time.Second)).Windows["1m"]; got.Requests != 3 {
		t.Errorf("sliding 1m: got %d requests, want 3 (half of 6)", got.Requests)
	}
	// A day later everything has left every window, and the buckets are
	// reused for new minutes.
	later := start.Add(25 * time.Hour)
	s.Request(later)
	if got := s.Snapshot(later).Windows["24h"]; got.Requests != 1 || got.Refused != 0 {
		t.Errorf("a day later: got %+v", got)
	}
	tot := s.Totals()
	if tot.Requests != 12 || tot.Refused != 6 || tot.ByPolicy["csrf"] != 5 {
		t.Errorf("totals: got %+v", tot)
	}
	d := tot.Since(events.Totals{Requests: 10, Refused: 5, ByPolicy: map[string]uint64{"csrf": 5}})
	if d.Requests != 2 || d.Refused != 1 || d.ByPolicy["ratelimit"] != 1 || len(d.ByPolicy) != 1 {
		t.Errorf("since: got %+v", d)
	}
}

func TestStatsTopIsBounded(t *testing.T) {
	t.Parallel()
	s := events.NewStats()
	for i := range 5000 {
		e := ev("access", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "", "", t0)
		s.Request(t0)
		s.Refusal(&e)
	}
	snap := s.Snapshot(t0)
	if len(snap.Top["client_ip"]) != events.TopN {
		t.Errorf("top: got %d keys, want %d", len(snap.Top["client_ip"]), events.TopN)
	}
	if got := snap.Windows["1m"].Refused; got != 5000 {
		t.Errorf("refusals beyond the ranked keys are still counted: got %d, want 5000", got)
	}
}
