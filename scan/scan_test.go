package scan_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/scan"
)

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  scan.Config
		want string
	}{
		{"empty", scan.Config{}, "scan: no URL given"},
		{"no scheme", scan.Config{URL: "example.com/app"}, "has no scheme: start it with https:// or http://"},
		{"other scheme", scan.Config{URL: "ftp://example.com/"}, "scheme must be http or https"},
		{"no host", scan.Config{URL: "https:///path"}, "has no host"},
		{"credentials", scan.Config{URL: "https://alice:secret@example.com/"}, "must not carry credentials"},
		{"credentials redacted", scan.Config{URL: "https://alice:secret@example.com/"}, "alice:xxxxx@"},
		{"port too large", scan.Config{URL: "http://example.com:99999/"}, `invalid port "99999"`},
		{"bad ipv6", scan.Config{URL: "http://[::1/"}, "is not a URL"},
		{"control character", scan.Config{URL: "http://exa\x7fmple.com/"}, "is not a URL"},
		{"too long", scan.Config{URL: "https://example.com/" + strings.Repeat("a", 3000)}, "longer than 2048 bytes"},
		{"budget too large", scan.Config{URL: "https://example.com/", MaxRequests: 101}, "max requests 101 out of range (1 to 100)"},
		{"budget negative", scan.Config{URL: "https://example.com/", MaxRequests: -1}, "out of range"},
		{"negative timeout", scan.Config{URL: "https://example.com/", Timeout: -time.Second}, "must not be negative"},
		{"login path relative", scan.Config{URL: "https://example.com/", LoginPath: "login"}, `login path "login" must start with a single /`},
		{"login path other host", scan.Config{URL: "https://example.com/", LoginPath: "//evil.example/login"}, "must start with a single /"},
		{"login path space", scan.Config{URL: "https://example.com/", LoginPath: "/log in"}, "not a valid path"},
		{"http port", scan.Config{URL: "https://example.com/", HTTPPort: 70000}, "http port 70000 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := scan.Run(context.Background(), tt.cfg)
			if err == nil {
				t.Fatalf("got report %+v, want error %q", rep, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "scan: ") {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the password: %q", err)
			}
		})
	}
}

// TestUnusable covers sites that give nothing to grade: each is an error
// that names the cause, within a bounded time.
func TestUnusable(t *testing.T) {
	t.Parallel()
	// Accepts connections and never answers.
	silent := testutil.Listen(t)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	loop := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := "/b"
		if r.URL.Path == "/b" {
			next = "/a"
		}
		http.Redirect(w, r, next, http.StatusFound)
	}))
	var endless atomic.Int64
	forever := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		endless.Add(1)
		http.Redirect(w, r, fmt.Sprintf("/%d", n+1), http.StatusMovedPermanently)
	}))
	elsewhere := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "javascript:alert(1)", http.StatusFound)
	}))
	// Sends a megabyte of headers.
	bigHeaders := rawServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("a", 1<<20)+"\r\n\r\n")
	})
	// Speaks plain HTTP on what the URL says is TLS.
	plain := serve(t, page(nil))
	refused := closedPort(t)

	tests := []struct {
		name    string
		cfg     scan.Config
		is      error
		want    string
		maxTime time.Duration
	}{
		{"connection refused", scan.Config{URL: fmt.Sprintf("http://127.0.0.1:%d/", refused)}, scan.ErrUnreachable, fmt.Sprintf("scan: site unreachable: http://127.0.0.1:%d/: dial tcp 127.0.0.1:%d: connect: connection refused", refused, refused), 2 * time.Second},
		{"never answers", scan.Config{URL: "http://" + silent.Addr().String() + "/", RequestTimeout: 300 * time.Millisecond}, scan.ErrUnreachable, "no answer within 300ms", 2 * time.Second},
		{"total time budget", scan.Config{URL: "http://" + silent.Addr().String() + "/", Timeout: 400 * time.Millisecond}, scan.ErrTimeout, "scan: time budget exhausted: http://" + silent.Addr().String() + "/: no page within 400ms", 2 * time.Second},
		{"redirect loop", scan.Config{URL: loop + "/a"}, scan.ErrRedirects, "scan: too many redirects: a redirect loop: " + loop + "/a -> " + loop + "/b -> " + loop + "/a", 2 * time.Second},
		{"endless redirects", scan.Config{URL: forever + "/0"}, scan.ErrRedirects, "more than 5 redirects", 2 * time.Second},
		{"redirect to another scheme", scan.Config{URL: elsewhere}, scan.ErrRedirects, `redirects to "javascript:alert(1)", which is not http or https`, 2 * time.Second},
		{"request budget", scan.Config{URL: forever + "/0", MaxRequests: 2}, scan.ErrBudget, "scan: request budget exhausted: " + forever + "/0: 2 requests were not enough to reach the page", 2 * time.Second},
		{"huge headers", scan.Config{URL: bigHeaders}, scan.ErrUnreachable, "headers exceeded", 2 * time.Second},
		{"not TLS", scan.Config{URL: strings.Replace(plain, "http:", "https:", 1)}, scan.ErrTLS, "does not speak TLS", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			rep, err := scan.Run(context.Background(), tt.cfg)
			took := time.Since(start)
			if err == nil {
				t.Fatalf("got a report (%d checks), want an error", len(rep.Checks))
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("got %v, want it to wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
			if took > tt.maxTime {
				t.Errorf("took %s, want at most %s", took, tt.maxTime)
			}
		})
	}
	if n := endless.Load(); n > int64(scan.MaxRedirects+1+2) {
		t.Errorf("the endless redirect server got %d requests, want at most %d per scan", n, scan.MaxRedirects+1)
	}
}

// rawServer answers every connection with write, after reading the request
// head, and returns its URL.
func rawServer(t *testing.T, write func(net.Conn)) string {
	t.Helper()
	ln := testutil.Listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				write(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel()
		_, _ = w.Write([]byte("ok"))
	}))
	_, err := scan.Run(ctx, scan.Config{URL: url})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// TestEndlessBody: a site whose every answer is an endless body is scanned
// in bounded time, reading at most MaxBodyBytes of each answer.
func TestEndlessBody(t *testing.T) {
	t.Parallel()
	var written atomic.Int64
	chunk := []byte(strings.Repeat("<p>more</p>", 1000))
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		for {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil || r.Context().Err() != nil {
				return
			}
		}
	}))
	start := time.Now()
	rep := run(t, scan.Config{URL: url, MaxBodyBytes: 64 << 10})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s, want under 5s", took)
	}
	// Every exchange stops after 64 KiB; what the server wrote beyond that
	// sat in socket buffers when the connection was dropped.
	perRequest := written.Load() / int64(rep.Requests)
	if perRequest > 8<<20 {
		t.Errorf("server wrote %d bytes per request, want the body cut near 64 KiB", perRequest)
	}
	expect(t, rep, map[string]scan.Status{"leak-not-found": scan.Pass, "csp": scan.Fail})
	if c, _ := rep.Check("leak-not-found"); !strings.Contains(c.Detail, "nothing internal in the first 65536 bytes") {
		t.Errorf("leak-not-found: got %q, want it to say how much was judged", c.Detail)
	}
}

// TestRequestBudget: the report counts every request, which is what the
// server received, and never more than the budget; checks the budget left
// unsent are skipped.
func TestRequestBudget(t *testing.T) {
	t.Parallel()
	for _, budget := range []int{1, 2, 5, 9, 12, 30} {
		t.Run(strconv.Itoa(budget), func(t *testing.T) {
			t.Parallel()
			c := &counter{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/login" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				page(goodHeaders).ServeHTTP(w, r)
			})}
			url := serve(t, c)
			rep := run(t, scan.Config{URL: url, MaxRequests: budget, LoginPath: "/login"})
			if rep.Requests > budget {
				t.Errorf("report says %d requests, over the budget of %d", rep.Requests, budget)
			}
			if got := c.count(); got != rep.Requests {
				t.Errorf("server received %d requests, report says %d", got, rep.Requests)
			}
			if rep.MaxRequests != budget {
				t.Errorf("max_requests: got %d, want %d", rep.MaxRequests, budget)
			}
			if budget < 30 {
				if s := rep.Summary(); s.Skip == 0 {
					t.Errorf("budget %d: got no skipped check, want some", budget)
				}
			}
			for _, ch := range rep.Checks {
				if ch.Status == scan.Errored {
					t.Errorf("%s errored with a spent budget, want skipped: %s", ch.ID, ch.Detail)
				}
			}
		})
	}
	// The default budget leaves the whole login burst to a site that does
	// not redirect.
	c := &counter{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		page(goodHeaders).ServeHTTP(w, r)
	})}
	rep := run(t, scan.Config{URL: serve(t, c), LoginPath: "/login"})
	if rep.Requests > scan.DefaultMaxRequests || c.count() != rep.Requests {
		t.Errorf("default budget: report %d, server %d, budget %d", rep.Requests, c.count(), scan.DefaultMaxRequests)
	}
	ch, _ := rep.Check("login-rate-limit")
	if ch.Status != scan.Fail || !contains(ch.Detail, "20 POSTs to /login") {
		t.Errorf("login-rate-limit: got %s %q, want fail after 20 POSTs", ch.Status, ch.Detail)
	}
}
