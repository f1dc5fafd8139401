package scan_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/scan"
)

// counter is a handler wrapper that counts the requests it receives.
type counter struct {
	mu    sync.Mutex
	n     int
	paths []string
	h     http.Handler
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.n++
	c.paths = append(c.paths, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	c.h.ServeHTTP(w, r)
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// serve runs h on a loopback HTTP server until the test ends and returns
// its URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// serveTLS runs h over TLS with cert (and the server settings in cfg, if
// any) and returns its https URL.
func serveTLS(t *testing.T, h http.Handler, cert tls.Certificate, cfg *tls.Config) string {
	t.Helper()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.Certificates = []tls.Certificate{cert}
	ln := tls.NewListener(testutil.Listen(t), cfg)
	// Refused handshakes (the legacy-TLS probe) are expected; keep them
	// out of the test log.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String()
}

// run scans with cfg, failing the test on an error.
func run(t *testing.T, cfg scan.Config) *scan.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := scan.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run(%s): %v", cfg.URL, err)
	}
	return rep
}

// expect checks the statuses of the named checks.
func expect(t *testing.T, rep *scan.Report, want map[string]scan.Status) {
	t.Helper()
	for id, st := range want {
		c, ok := rep.Check(id)
		if !ok {
			t.Errorf("%s: no such check", id)
			continue
		}
		if c.Status != st {
			t.Errorf("%s: got %s (%s), want %s", id, c.Status, c.Detail, st)
		}
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	addr := testutil.FreeAddr(t)
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

// page is a small HTML page with the given headers set.
func page(hdr map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		if r.URL.Path != "/" {
			w.WriteHeader(http.StatusNotFound)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>t</title><p>hello</p>"))
	})
}

// goodHeaders are headers that pass every header check.
var goodHeaders = map[string]string{
	"Content-Security-Policy":      "default-src 'self'; frame-ancestors 'self'; object-src 'none'",
	"Strict-Transport-Security":    "max-age=31536000; includeSubDomains",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Cross-Origin-Opener-Policy":   "same-origin",
}

// newCert makes a self-signed certificate for 127.0.0.1 and localhost valid
// until notAfter, and the pool that trusts it.
func newCert(t *testing.T, notAfter time.Time) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	certFile, keyFile, pool := testutil.SelfSignedCertUntil(t, t.TempDir(), notAfter)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return cert, pool
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
