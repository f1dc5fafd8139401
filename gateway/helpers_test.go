package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

// seen is what the echo upstream reports about the request it received.
type seen struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	RawPath string      `json:"raw_path"`
	Query   string      `json:"query"`
	Host    string      `json:"host"`
	Header  http.Header `json:"header"`
	Body    int64       `json:"body"`
}

// echoUpstream is a real HTTP server on loopback that describes each request
// it receives as JSON.
func echoUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath,
			Query: r.URL.RawQuery, Host: r.Host, Header: r.Header, Body: n})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// parse builds a configuration from YAML text, with the upstream filled in
// unless it is "".
func parse(t *testing.T, upstream, yaml string) *config.Config {
	t.Helper()
	src := yaml
	if upstream != "" {
		src = fmt.Sprintf("upstream: %q\n%s", upstream, yaml)
	}
	c, err := config.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if !strings.Contains(yaml, "shutdown_delay") {
		// Tests stop their gateways at once unless they test the delay.
		var none time.Duration
		c.Limits.ShutdownDelay = &none
	}
	return c
}

type harness struct {
	url   string
	admin string
	g     *gateway.Gateway
	logs  *testutil.Buffer
}

// start runs a gateway for c on loopback listeners until the test ends.
func start(t *testing.T, c *config.Config) *harness {
	t.Helper()
	logs := &testutil.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := gateway.New(c, gateway.Options{Logger: log, ProbeInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	ln, adminLn := testutil.Listen(t), testutil.Listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln, adminLn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		_ = g.Close()
	})
	scheme := "http"
	if c.TLS != nil {
		scheme = "https"
	}
	return &harness{url: scheme + "://" + ln.Addr().String(), admin: "http://" + adminLn.Addr().String(), g: g, logs: logs}
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp, string(b)
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, nil, req)
}

// decodeSeen parses the echo upstream's report.
func decodeSeen(t *testing.T, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("upstream report is not JSON: %v\n%s", err, body)
	}
	return s
}

// assertNeutral checks that a response is Rampart's neutral error.
func assertNeutral(t *testing.T, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status: got %d, want %d (body %q)", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("content type: got %q, want application/problem+json", ct)
	}
	id := resp.Header.Get("X-Request-Id")
	if id == "" || !strings.Contains(body, `"incident":"`+id+`"`) {
		t.Errorf("incident id %q missing from body %q", id, body)
	}
}

type configT = config.Config

func parseConfig(src string) (*config.Config, error) { return config.Parse("bench.yaml", []byte(src)) }

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}
