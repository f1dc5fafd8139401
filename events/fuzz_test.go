package events_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rampartsec/rampart/events"
)

// FuzzParseFilter: any query string gives a filter or an error, never a
// panic, and a filter's limit is within bounds.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "policy=csrf", "since=15m&limit=5", "since=2026-12-04T10:00:00Z",
		"client_ip=203.0.113.0/24", "limit=99999999999999999999", "since=-1h", "polcy=x", "route=GET%20/x&route=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, err := events.ParseFilter(q, time.Unix(1_800_000_000, 0))
		if err != nil {
			return
		}
		if fl.Limit < 0 || fl.Limit > events.MaxLimit {
			t.Fatalf("limit %d out of bounds", fl.Limit)
		}
		r := events.NewRing(4)
		r.Add(events.Event{Time: time.Unix(1_800_000_000, 0), Policy: "csrf"})
		_ = r.Query(fl)
	})
}

// FuzzScrub: whatever a request header holds, the scrubbed value is short,
// valid UTF-8, free of control characters and of any query string, and
// encodes as JSON.
func FuzzScrub(f *testing.F) {
	for _, s := range []string{"https://app.example", "https://u:p@h/x?token=s#frag", "line\r\nbreak", "\xff\xfe", "a?b", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := events.Scrub(in)
		if len(out) > events.MaxFieldLen || !utf8.ValidString(out) || strings.ContainsAny(out, "?#\r\n\x00") {
			t.Fatalf("Scrub(%q) = %q", in, out)
		}
		if strings.Contains(in, "@") && strings.Contains(in, "://") {
			host, _, _ := strings.Cut(strings.SplitN(in, "://", 2)[1], "/")
			if at := strings.LastIndexByte(host, '@'); at >= 0 && !strings.ContainsAny(host[:at], "?#") && strings.Contains(out, host[:at]+"@") && host[:at] != "" {
				t.Fatalf("Scrub(%q) = %q keeps the user information", in, out)
			}
		}
		if _, err := json.Marshal(events.Event{Policy: out}); err != nil {
			t.Fatal(err)
		}
	})
}
