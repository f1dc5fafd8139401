package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/events"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

// secretMarker is in every credential, cookie, query string and body the
// event tests send: no event may contain it.
const secretMarker = "S3CRET"

// eventsUpstream answers /boom with an error page full of internals (which
// the shield replaces) and everything else with 200.
func eventsUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("panic: " + secretMarker + " at main.go:12"))
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func eventsConfig(t *testing.T, extra string) (yaml, db string) {
	t.Helper()
	dir := t.TempDir()
	db = filepath.Join(dir, "rampart.db")
	schema := filepath.Join(dir, "note.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["title"],"properties":{"title":{"type":"string","maxLength":5}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`env: development
store: {sqlite: %q}
login_protection: {delay: 1ms, max_failures_per_account_ip: 2}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
cors: {origins: ["https://app.example"]}
routes:
  - match: "GET /public"
    auth: none
  - match: "POST /public"
    auth: none
  - match: "GET /internal"
    auth: none
    deny_ips: [127.0.0.0/8]
  - match: "GET /limited"
    auth: none
    rate_limits: [{name: tight, key: ip, limit: 1, per: 1m}]
  - match: "POST /notes"
    auth: none
    validate: {body_schema: %q}
  - match: "POST /upload"
    auth: none
    max_body_bytes: 16
  - match: "GET /boom"
    auth: none
  - match: "GET /notes"
  - match: "GET /admin"
    roles: [admin]
%s`, db, schema, extra), db
}

// withSecrets adds to req every kind of secret a client sends: a cookie, a
// bearer token, a query string, a Referer with a token in its query.
func withSecrets(req *http.Request) *http.Request {
	req.AddCookie(&http.Cookie{Name: "sid", Value: "cookie-" + secretMarker})
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("X-Api-Key", "key-"+secretMarker)
	}
	req.Header.Set("Referer", "https://app.example/reset?token="+secretMarker)
	q := req.URL.Query()
	q.Set("token", "q-"+secretMarker)
	req.URL.RawQuery = q.Encode()
	return req
}

// adminEvents reads GET /events from the admin listener.
func adminEvents(t *testing.T, admin, query string) []events.Event {
	t.Helper()
	resp, body := get(t, admin+"/events?"+query)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /events: got %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, secretMarker) {
		t.Errorf("an event holds a secret:\n%s", body)
	}
	var res struct {
		Events []events.Event `json:"events"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("GET /events: %v\n%s", err, body)
	}
	return res.Events
}

// TestEventsEveryPolicy drives a refusal of every policy through the
// gateway, each request carrying every kind of secret, and finds each
// refusal as an event under its request id, with the names the access log
// uses and none of the secrets.
func TestEventsEveryPolicy(t *testing.T) {
	t.Parallel()
	up := eventsUpstream(t)
	y, db := eventsConfig(t, "")
	seedUser(t, db, "alice", "editor")
	h := start(t, parse(t, up.URL, y))
	alice := sessionLogin(t, h.url, "alice")

	type want struct {
		policy, reason string
		status         int
		check          func(t *testing.T, e events.Event)
	}
	cases := []struct {
		name string
		req  func() *http.Request
		want want
	}{
		{"access", func() *http.Request { r, _ := http.NewRequest("GET", h.url+"/internal", nil); return r },
			want{"access", "ip_denied", 403, nil}},
		{"routes", func() *http.Request { r, _ := http.NewRequest("GET", h.url+"/undeclared", nil); return r },
			want{"routes", "path_not_routed", 404, nil}},
		{"canonical", func() *http.Request { r, _ := http.NewRequest("GET", h.url+"/public%3Fx", nil); return r },
			want{"canonical", "encoded_delimiter", 400, nil}},
		{"cors", func() *http.Request {
			r, _ := http.NewRequest("OPTIONS", h.url+"/public", nil)
			r.Header.Set("Origin", "https://evil.example")
			r.Header.Set("Access-Control-Request-Method", "GET")
			return r
		}, want{"cors", "preflight_refused", 403, func(t *testing.T, e events.Event) {
			if e.Fields["origin"] != "https://evil.example" {
				t.Errorf("origin field: got %v", e.Fields)
			}
		}}},
		{"csrf", func() *http.Request {
			r, _ := http.NewRequest("POST", h.url+"/public", strings.NewReader("password="+secretMarker))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", "https://evil.example")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}, want{"csrf", "", 403, func(t *testing.T, e events.Event) {
			if len(e.Fields) == 0 {
				t.Errorf("no fields: want the header that decided")
			}
		}}},
		{"ratelimit first", func() *http.Request { r, _ := http.NewRequest("GET", h.url+"/limited", nil); return r },
			want{"", "", 200, nil}},
		{"ratelimit", func() *http.Request { r, _ := http.NewRequest("GET", h.url+"/limited", nil); return r },
			want{"ratelimit", "denied", 429, func(t *testing.T, e events.Event) {
				if e.Rule != "tight" {
					t.Errorf("rule: got %q, want tight", e.Rule)
				}
			}}},
		{"validation", func() *http.Request {
			r, _ := http.NewRequest("POST", h.url+"/notes", strings.NewReader(`{"title":"`+secretMarker+`-too-long","password":"`+secretMarker+`"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, want{"validation", "invalid_request", 400, func(t *testing.T, e events.Event) {
			if e.Fields["pointer"] != "/title" {
				t.Errorf("pointer: got %v, want /title", e.Fields)
			}
		}}},
		{"limits", func() *http.Request {
			r, _ := http.NewRequest("POST", h.url+"/upload", strings.NewReader(strings.Repeat(secretMarker, 20)))
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, want{"limits", "body_too_large", 413, nil}},
		{"auth", func() *http.Request {
			r, _ := http.NewRequest("GET", h.url+"/notes", nil)
			r.Header.Set("Accept", "application/json")
			return r
		}, want{"auth", "unauthenticated", 401, nil}},
		{"auth forbidden", func() *http.Request { return withCookie("GET", h.url+"/admin", alice) },
			want{"auth", "forbidden", 403, func(t *testing.T, e events.Event) {
				if e.User != "alice" {
					t.Errorf("user: got %q, want alice", e.User)
				}
			}}},
		{"shield", func() *http.Request { r, _ := http.NewRequest("GET", h.url+"/boom", nil); return r },
			want{"shield", "status", 500, func(t *testing.T, e events.Event) {
				if e.Decision != events.DecisionShielded {
					t.Errorf("decision: got %q, want shielded", e.Decision)
				}
			}}},
	}
	// Login protection: wrong passwords until the account is locked for
	// this address.
	for i := range 3 {
		cases = append(cases, struct {
			name string
			req  func() *http.Request
			want want
		}{fmt.Sprintf("login %d", i), func() *http.Request {
			r, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(`{"username":"alice","password":"wrong-`+secretMarker+`"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, want{}})
	}

	ids := map[string]string{} // case name → request id
	for _, tc := range cases {
		resp, body := do(t, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, withSecrets(tc.req()))
		if tc.want.status != 0 && resp.StatusCode != tc.want.status {
			t.Errorf("%s: got %d, want %d: %s", tc.name, resp.StatusCode, tc.want.status, body)
		}
		ids[tc.name] = resp.Header.Get("X-Request-Id")
	}
	// A CSP violation report, with a secret in the blocked URL's query.
	req, _ := http.NewRequest("POST", h.url+"/.rampart/csp-report", strings.NewReader(
		`{"csp-report":{"document-uri":"https://app.example/account?session=`+secretMarker+`","violated-directive":"script-src","blocked-uri":"https://cdn.evil.example/x.js?k=`+secretMarker+`","script-sample":"`+secretMarker+`"}}`))
	req.Header.Set("Content-Type", "application/csp-report")
	if resp, body := do(t, nil, req); resp.StatusCode != http.StatusNoContent {
		t.Errorf("csp report: got %d %s", resp.StatusCode, body)
	}

	got := adminEvents(t, h.admin, "limit=1000")
	byID := map[string]events.Event{}
	for _, e := range got {
		if e.ID != "" {
			byID[e.ID] = e
		}
		if e.Instance == "" || e.Time.IsZero() || e.Decision == "" || e.Seq == 0 {
			t.Errorf("incomplete event %+v", e)
		}
		if e.Policy != "headers" && (e.ClientIP != "127.0.0.1" || e.Network != "127.0.0.0/24") {
			t.Errorf("client: got %q in %q, want 127.0.0.1 in 127.0.0.0/24", e.ClientIP, e.Network)
		}
	}
	for _, tc := range cases {
		if tc.want.policy == "" {
			continue
		}
		e, ok := byID[ids[tc.name]]
		if !ok {
			t.Errorf("%s: no event with the request id %s", tc.name, ids[tc.name])
			continue
		}
		if e.Policy != tc.want.policy || e.Status != tc.want.status || (tc.want.reason != "" && e.Reason != tc.want.reason) {
			t.Errorf("%s: got %s/%s %d, want %s/%s %d", tc.name, e.Policy, e.Reason, e.Status, tc.want.policy, tc.want.reason, tc.want.status)
		}
		if tc.want.check != nil {
			tc.want.check(t, e)
		}
	}
	if e, ok := byID[ids["login 1"]]; !ok || e.Policy != "auth" || e.Reason != "invalid_credentials" || e.User != "alice" || len(e.Fields) != 0 {
		t.Errorf("failed login: got %+v, want user alice and no fields", e)
	}
	if e, ok := byID[ids["login 2"]]; !ok || e.Policy != "login_protection" || e.Reason != "throttled" || e.User != "alice" {
		t.Errorf("login lockout: got %+v", e)
	}
	var csp *events.Event
	for i := range got {
		if got[i].Policy == "headers" {
			csp = &got[i]
		}
	}
	if csp == nil || csp.Decision != events.DecisionReport || csp.Fields["blocked_url"] != "https://cdn.evil.example/x.js" {
		t.Errorf("CSP report event: got %+v", csp)
	}
	// Filters.
	for _, e := range adminEvents(t, h.admin, "policy=ratelimit") {
		if e.Policy != "ratelimit" {
			t.Errorf("policy filter: got %s", e.Policy)
		}
	}
	// alice's: the forbidden request, two failed logins naming her and
	// the throttled one.
	if n := len(adminEvents(t, h.admin, "user=alice")); n != 4 {
		t.Errorf("user filter: got %d events, want 4", n)
	}
	if n := len(adminEvents(t, h.admin, "route="+strings.ReplaceAll("GET /limited", " ", "%20"))); n != 1 {
		t.Errorf("route filter: got %d events, want 1", n)
	}
	if n := len(adminEvents(t, h.admin, "since=2000-01-01T00:00:00Z&limit=2")); n != 2 {
		t.Errorf("limit: got %d events, want 2", n)
	}
	if resp, body := get(t, h.admin+"/events?polcy=x"); resp.StatusCode != 400 || !strings.Contains(body, "polcy") {
		t.Errorf("unknown filter: got %d %s", resp.StatusCode, body)
	}
	// The access log names the same policy and reason.
	for _, line := range h.logs.Lines() {
		if strings.Contains(line, ids["ratelimit"]) && strings.Contains(line, `"msg":"request"`) &&
			(!strings.Contains(line, `"policy":"ratelimit"`) || !strings.Contains(line, `"reason":"rule=tight"`)) {
			t.Errorf("access log: %s", line)
		}
	}
	_, metrics := get(t, h.admin+"/metrics")
	if !strings.Contains(metrics, `rampart_events_total{policy="ratelimit"} 1`) {
		t.Errorf("rampart_events_total not counted:\n%s", grep(metrics, "rampart_events"))
	}
}

// TestEventStats checks /stats after allowed and refused requests.
func TestEventStats(t *testing.T) {
	t.Parallel()
	up := eventsUpstream(t)
	y, _ := eventsConfig(t, "")
	h := start(t, parse(t, up.URL, y))
	for range 5 {
		get(t, h.url+"/public")
	}
	for range 3 {
		get(t, h.url+"/internal")
	}
	resp, body := get(t, h.admin+"/stats")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /stats: %d %s", resp.StatusCode, body)
	}
	var st struct {
		Time     time.Time `json:"time"`
		Instance string    `json:"instance"`
		Windows  map[string]struct {
			Requests int            `json:"requests"`
			Refused  int            `json:"refused"`
			ByPolicy map[string]int `json:"by_policy"`
		} `json:"windows"`
		Top    map[string][]events.KeyCount `json:"top"`
		Series struct {
			StepSeconds int            `json:"step_seconds"`
			Points      []events.Point `json:"points"`
		} `json:"series"`
		Config struct {
			LastReload time.Time `json:"last_reload"`
			ReloadOK   bool      `json:"reload_ok"`
			Findings   []struct {
				ID, Severity, Title string
			} `json:"findings"`
		} `json:"config"`
		Upstream struct {
			URL       string `json:"url"`
			Healthy   bool   `json:"healthy"`
			LastError string `json:"last_error"`
		} `json:"upstream"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	for _, w := range []string{"1m", "15m", "1h", "24h"} {
		if got := st.Windows[w]; got.Requests < 8 || got.Refused < 3 || got.ByPolicy["access"] < 3 {
			t.Errorf("window %s: got %+v", w, got)
		}
	}
	if top := st.Top["client_ip"]; len(top) != 1 || top[0].Key != "127.0.0.1" || top[0].Count < 3 {
		t.Errorf("top client_ip: got %+v", top)
	}
	if top := st.Top["route"]; len(top) != 1 || top[0].Key != "GET /internal" {
		t.Errorf("top route: got %+v", top)
	}
	if st.Series.StepSeconds != 60 || len(st.Series.Points) != 60 || st.Series.Points[59].Refused < 3 {
		t.Errorf("series: got step %d, %d points", st.Series.StepSeconds, len(st.Series.Points))
	}
	if st.Instance == "" || st.Config.LastReload.IsZero() || !st.Config.ReloadOK || len(st.Config.Findings) == 0 {
		t.Errorf("instance and config: got %q %+v", st.Instance, st.Config)
	}
	if !strings.HasPrefix(up.URL, st.Upstream.URL) || !testutil.WaitFor(5*time.Second, func() bool {
		_, body := get(t, h.admin+"/stats")
		return strings.Contains(body, `"healthy":true`)
	}) {
		t.Errorf("upstream: got %+v", st.Upstream)
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ id, event, data string }

// readSSE reads events from a stream into a channel until it ends.
func readSSE(resp *http.Response) <-chan sseEvent {
	out := make(chan sseEvent, 100)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.event != "" || cur.data != "" {
					out <- cur
				}
				cur = sseEvent{}
			case strings.HasPrefix(line, ":"):
				out <- sseEvent{event: "comment", data: line}
			default:
				k, v, _ := strings.Cut(line, ": ")
				switch k {
				case "id":
					cur.id = v
				case "event":
					cur.event = v
				case "data":
					cur.data = v
				}
			}
		}
	}()
	return out
}

func TestEventStream(t *testing.T) {
	t.Parallel()
	up := eventsUpstream(t)
	y, _ := eventsConfig(t, "")
	h := start(t, parse(t, up.URL, y))
	// One refusal before the stream opens, for Last-Event-ID.
	get(t, h.url+"/internal")
	req, _ := http.NewRequest("GET", h.admin+"/events/stream?policy=access", nil)
	req.Header.Set("Last-Event-ID", "0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type: got %q", ct)
	}
	stream := readSSE(resp)
	next := func(kind string, within time.Duration) sseEvent {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case e, ok := <-stream:
				if !ok {
					t.Fatalf("stream ended waiting for %s", kind)
				}
				if e.event == kind {
					return e
				}
			case <-deadline:
				t.Fatalf("no %s within %v", kind, within)
			}
		}
	}
	// The refusal from before the stream, replayed from the ring.
	first := next("event", 5*time.Second)
	if first.id != "1" || !strings.Contains(first.data, `"policy":"access"`) {
		t.Errorf("replayed event: got %+v", first)
	}
	// A refusal of another policy is filtered out; one of access arrives
	// live, within 2 seconds.
	get(t, h.url+"/undeclared")
	sent := time.Now()
	resp2, _ := get(t, h.url+"/internal")
	e := next("event", 5*time.Second)
	if d := time.Since(sent); d > 2*time.Second && !testutil.RaceEnabled {
		t.Errorf("event arrived after %v, want within 2s", d)
	}
	var ev events.Event
	if err := json.Unmarshal([]byte(e.data), &ev); err != nil || ev.Policy != "access" || ev.ID != resp2.Header.Get("X-Request-Id") || e.id != fmt.Sprint(ev.Seq) {
		t.Errorf("live event: got %+v (%v) from %+v", ev, err, e)
	}
	// Ticks carry the counts since the previous tick.
	tick := next("tick", 5*time.Second)
	var counts struct {
		Time     string         `json:"time"`
		Requests *int           `json:"requests"`
		Refused  *int           `json:"refused"`
		ByPolicy map[string]int `json:"by_policy"`
	}
	if err := json.Unmarshal([]byte(tick.data), &counts); err != nil || counts.Time == "" || counts.Requests == nil || counts.Refused == nil || counts.ByPolicy == nil {
		t.Errorf("tick: got %q (%v)", tick.data, err)
	}
}

// TestEventWebhookNeverSlowsRequests sends every event to a receiver that
// hangs: requests are as fast as with no webhook, and the drops are counted.
func TestEventWebhookNeverSlowsRequests(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hung.Close() })
	up := eventsUpstream(t)
	y, _ := eventsConfig(t, fmt.Sprintf("events:\n  webhooks:\n    - {url: %q, batch_size: 5, queue_size: 10, timeout: 2s, flush_interval: 10ms}\n", hung.URL))
	h := start(t, parse(t, up.URL, y))
	client := &http.Client{Timeout: 10 * time.Second}
	var worst time.Duration
	for range 200 {
		start := time.Now()
		resp, err := client.Get(h.url + "/internal")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		worst = max(worst, time.Since(start))
	}
	limit := 250 * time.Millisecond
	if testutil.RaceEnabled {
		limit = time.Second
	}
	t.Logf("slowest of 200 refused requests with the webhook receiver hanging: %v", worst)
	if worst > limit {
		t.Errorf("slowest refused request took %v with the webhook receiver hanging, want under %v", worst, limit)
	}
	_, metrics := get(t, h.admin+"/metrics")
	line := grep(metrics, `rampart_event_sink_dropped_total{sink="webhook_0"}`)
	var n float64
	if _, err := fmt.Sscanf(strings.TrimSpace(line), `rampart_event_sink_dropped_total{sink="webhook_0"} %g`, &n); err != nil || n < 200-10-5-1 {
		t.Errorf("drops: got %q, want at least %d", line, 200-10-5-1)
	}
}

// TestEventStreamEndsAtShutdown: an open stream does not hold the
// shutdown for limits.shutdown_timeout.
func TestEventStreamEndsAtShutdown(t *testing.T) {
	t.Parallel()
	up := eventsUpstream(t)
	c := parse(t, up.URL, "limits: {shutdown_timeout: 30s}\n")
	g, err := gateway.New(c, gateway.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ln, adminLn := testutil.Listen(t), testutil.Listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln, adminLn) }()
	resp, err := http.Get("http://" + adminLn.Addr().String() + "/events/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stream := readSSE(resp)
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown held by an open event stream")
	}
	t.Logf("shut down in %v with a stream open", time.Since(start))
	for range stream {
	}
}
