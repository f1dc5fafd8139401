package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}))
	t.Cleanup(healthy.Close)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hanging.Close)
	tlsHealthy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	}))
	t.Cleanup(tlsHealthy.Close)
	addr := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
	tests := []struct {
		name   string
		args   []string
		env    string
		code   int
		stderr string
	}{
		{"healthy", []string{"--admin", addr(healthy)}, "", 0, ""},
		{"from the environment", nil, addr(healthy), 0, ""},
		{"all interfaces probed on loopback", []string{"--admin", "0.0.0.0:" + strings.Split(addr(healthy), ":")[1]}, "", 0, ""},
		{"503", []string{"--admin", addr(failing)}, "", 1, "answered 503"},
		{"TLS admin listener", []string{"--admin", strings.TrimPrefix(tlsHealthy.URL, "https://")}, "", 0, ""},
		{"closed port", []string{"--admin", testutil.FreeAddr(t)}, "", 1, "unhealthy"},
		{"hanging", []string{"--admin", addr(hanging), "--timeout", "200ms"}, "", 1, "unhealthy"},
		{"bad address", []string{"--admin", "nowhere"}, "", 2, "is not host:port"},
		{"extra argument", []string{"now"}, "", 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			c := newCLI(strings.NewReader(""), &stdout, &stderr, func(k string) string {
				if k == "RAMPART_ADMIN" {
					return tt.env
				}
				return ""
			})
			start := time.Now()
			code := c.main(context.Background(), append([]string{"healthcheck"}, tt.args...))
			if code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("got exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.stderr)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
		})
	}
}
