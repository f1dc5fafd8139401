package gateway_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

// TestListenHTTPRedirect serves a static certificate with listen_http: plain
// HTTP answers a redirect to the HTTPS listener's port and never reaches
// the upstream.
func TestListenHTTPRedirect(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	cert, key, pool := testutil.SelfSignedCert(t, t.TempDir())
	c := parse(t, up.URL, fmt.Sprintf("tls:\n  cert: %q\n  key: %q\nlisten_http: \"127.0.0.1:0\"\n", cert, key))
	g, err := gateway.New(c, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	ln, plain := testutil.Listen(t), testutil.Listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.ServeListeners(ctx, gateway.Listeners{Gateway: ln, HTTP: plain}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("ServeListeners did not return")
		}
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/a?b=c", 301},
		{"POST", "/form", 308},
	} {
		req, _ := http.NewRequest(tc.method, "http://"+plain.Addr().String()+tc.path, strings.NewReader("x=1"))
		req.Host = "app.example.com"
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := "https://app.example.com:" + port + tc.path
		if res.StatusCode != tc.code || res.Header.Get("Location") != want {
			t.Errorf("%s %s: got %d %q, want %d %q", tc.method, tc.path, res.StatusCode, res.Header.Get("Location"), tc.code, want)
		}
	}
	// HTTPS serves the app with the configured certificate.
	tc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	res, err := tc.Get("https://" + ln.Addr().String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("HTTPS: got %d, want 200", res.StatusCode)
	}
}

// TestHTTPSPort: the redirect names the port clients use when a port
// mapping differs from the listener's, and none for 443.
func TestHTTPSPort(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	cert, key, _ := testutil.SelfSignedCert(t, t.TempDir())
	for _, tc := range []struct {
		port int
		want string
	}{{443, "https://app.example.com/x"}, {8443, "https://app.example.com:8443/x"}} {
		c := parse(t, up.URL, fmt.Sprintf("tls:\n  cert: %q\n  key: %q\n  https_port: %d\nlisten_http: \"127.0.0.1:0\"\n", cert, key, tc.port))
		g, err := gateway.New(c, gateway.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ln, plain := testutil.Listen(t), testutil.Listen(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.ServeListeners(ctx, gateway.Listeners{Gateway: ln, HTTP: plain}) }()
		client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequest("GET", "http://"+plain.Addr().String()+"/x", nil)
		req.Host = "app.example.com"
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Location"); got != tc.want {
			t.Errorf("https_port %d: got %q, want %q", tc.port, got, tc.want)
		}
		cancel()
		<-done
		g.Close()
	}
}

// TestACMEConfigErrors: what tls.acme names but cannot be used is a
// configuration error with the key's location, before anything listens.
func TestACMEConfigErrors(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"missing ca_root", "tls:\n  acme:\n    domains: [a.example]\n    storage: " + dir + "\n    ca_root: " + filepath.Join(dir, "none.pem") + "\n", "test.yaml:6: tls.acme.ca_root: reading the CA roots"},
		{"storage under a file", "tls:\n  acme:\n    domains: [a.example]\n    storage: " + filepath.Join(notDir, "acme") + "\n", "test.yaml:5: tls.acme.storage: creating the storage directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := gateway.New(parse(t, up.URL, tc.yaml), gateway.Options{})
			var errs config.Errors
			if !errors.As(err, &errs) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a configuration error %q", err, tc.want)
			}
		})
	}
}
