package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/rampartsec/rampart/internal/testutil"
)

// ocspResponder answers OCSP requests for Pebble's certificates, signed by
// Pebble's intermediate: Pebble writes a responder URL into certificates
// but runs no responder.
type ocspResponder struct {
	pebble atomic.Pointer[testutil.Pebble]
	hits   atomic.Int64
	err    atomic.Value // the last failure, for the test's message
}

func (o *ocspResponder) fail(w http.ResponseWriter, code int, err error) {
	o.err.Store(err.Error())
	http.Error(w, "failed", code)
}

func (o *ocspResponder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var der []byte
	var err error
	switch r.Method {
	case http.MethodPost:
		der, err = io.ReadAll(io.LimitReader(r.Body, 64<<10))
	case http.MethodGet:
		der, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(r.URL.Path, "/"))
	}
	p := o.pebble.Load()
	if err != nil || p == nil {
		o.fail(w, http.StatusBadRequest, fmt.Errorf("reading the request: %v", err))
		return
	}
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		o.fail(w, http.StatusBadRequest, err)
		return
	}
	issuer, key, err := p.Intermediate()
	if err != nil {
		o.fail(w, http.StatusInternalServerError, err)
		return
	}
	now := time.Now()
	resp, err := ocsp.CreateResponse(issuer, issuer, ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: new(big.Int).Set(req.SerialNumber),
		ThisUpdate:   now.Add(-time.Minute),
		NextUpdate:   now.Add(time.Hour),
	}, key)
	if err != nil {
		o.fail(w, http.StatusInternalServerError, err)
		return
	}
	o.hits.Add(1)
	w.Header().Set("Content-Type", "application/ocsp-response")
	_, _ = w.Write(resp)
}

// gatewayProc is the real binary serving a configuration.
type gatewayProc struct {
	cmd  *exec.Cmd
	logs *testutil.Buffer
	done chan struct{}
}

func startGateway(t *testing.T, cfgPath string) *gatewayProc {
	t.Helper()
	g := &gatewayProc{cmd: exec.Command(testutil.BuildRampart(t), "serve", "--config", cfgPath), logs: &testutil.Buffer{}, done: make(chan struct{})}
	g.cmd.Stderr = g.logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.cmd.Wait(); close(g.done) }()
	t.Cleanup(g.stop)
	return g
}

func (g *gatewayProc) stop() {
	_ = g.cmd.Process.Kill()
	<-g.done
}

func (g *gatewayProc) running() bool {
	select {
	case <-g.done:
		return false
	default:
		return true
	}
}

// served makes a fresh TLS connection to addr for name and returns the
// certificate served and the stapled OCSP response.
func served(addr, name string, roots *x509.CertPool) (*x509.Certificate, []byte, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{ServerName: name, RootCAs: roots, MinVersion: tls.VersionTLS12}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	st := conn.(*tls.Conn).ConnectionState()
	return st.PeerCertificates[0], st.OCSPResponse, nil
}

func getStatus(url string) int {
	c := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(url)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func acmeConfig(listen, listenHTTP, admin, upstream string, p *testutil.Pebble, storage, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %q\n", listen)
	if listenHTTP != "" {
		fmt.Fprintf(&b, "listen_http: %q\n", listenHTTP)
	}
	fmt.Fprintf(&b, "admin:\n  listen: %q\nupstream: %q\nlog:\n  access: false\n  level: debug\n", admin, upstream)
	fmt.Fprintf(&b, "tls:\n  acme:\n    email: ops@example.com\n    domains: [localhost]\n    ca: %q\n    ca_root: %q\n    storage: %q\n    check_interval: 1s\n%s",
		p.Directory, p.RootFile, storage, extra)
	return b.String()
}

// TestACMEPebble runs the real binary against a real Pebble: a certificate
// is obtained over ACME (HTTP-01 or TLS-ALPN-01 with listen_http, TLS-ALPN-01
// alone without), served with a stapled OCSP response, graded by `rampart
// scan` as passing its TLS checks, and renewed and served without a
// restart.
func TestACMEPebble(t *testing.T) {
	t.Parallel()
	listen, listenHTTP, admin := testutil.FreeAddr(t), testutil.FreeAddr(t), testutil.FreeAddr(t)
	responder := &ocspResponder{}
	ocspSrv := httptest.NewServer(responder)
	t.Cleanup(ocspSrv.Close)
	pebble := testutil.StartPebble(t, testutil.PebbleOptions{
		HTTPPort:         testutil.Port(t, listenHTTP),
		TLSPort:          testutil.Port(t, listen),
		Profiles:         map[string]time.Duration{"default": 90 * 24 * time.Hour, "shortlived": 30 * time.Second},
		OCSPResponderURL: ocspSrv.URL,
	})
	responder.pebble.Store(pebble)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>app</title><p>hello")
	}))
	t.Cleanup(up.Close)

	dir := t.TempDir()
	rootPEM := pebble.IssuerRoot(t)
	rootFile := filepath.Join(dir, "pebble-root.pem")
	if err := os.WriteFile(rootFile, rootPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(rootPEM)

	t.Run("issue, staple, redirect, scan", func(t *testing.T) {
		cfgPath := filepath.Join(dir, "long.yaml")
		cfg := acmeConfig(listen, listenHTTP, admin, up.URL, pebble, filepath.Join(dir, "acme-long"), "    profile: default\n    challenges: [http-01]\n")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		g := startGateway(t, cfgPath)
		if !testutil.WaitFor(60*time.Second, func() bool { return getStatus("http://"+admin+"/readyz") == 200 }) {
			t.Fatalf("not ready within 60s\ngateway:\n%s\npebble:\n%s", g.logs, pebble.Logs())
		}
		leaf, staple, err := served(listen, "localhost", roots)
		if err != nil {
			t.Fatalf("handshake: %v\n%s", err, g.logs)
		}
		if got := leaf.NotAfter.Sub(leaf.NotBefore); got < 80*24*time.Hour {
			t.Errorf("certificate lifetime %s, want the default profile's 90 days", got)
		}
		if len(staple) == 0 {
			time.Sleep(300 * time.Millisecond) // let the log flush
			t.Errorf("no OCSP response stapled (responder hits: %d, last error %v)\n%s", responder.hits.Load(), responder.err.Load(), grepLines(g.logs.String(), "OCSP"))
		} else if r, err := ocsp.ParseResponse(staple, nil); err != nil || r.Status != ocsp.Good || r.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
			t.Errorf("stapled OCSP response: %v, %+v", err, r)
		}
		if _, _, err := served(listen, "other.example", roots); err == nil {
			t.Error("a handshake for a name that is not in domains succeeded")
		}

		// Plain HTTP redirects to HTTPS on the TLS listener's port.
		c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Get("http://localhost:" + fmt.Sprint(testutil.Port(t, listenHTTP)) + "/a/b?c=d")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := fmt.Sprintf("https://localhost:%d/a/b?c=d", testutil.Port(t, listen))
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != want {
			t.Errorf("plain HTTP: got %d %q, want 301 %q", res.StatusCode, res.Header.Get("Location"), want)
		}

		// The proxied page over the obtained certificate.
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}}
		res, err = hc.Get("https://localhost:" + fmt.Sprint(testutil.Port(t, listen)) + "/")
		if err != nil {
			t.Fatalf("GET over the ACME certificate: %v", err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Contains(body, []byte("hello")) || res.ProtoMajor != 2 {
			t.Errorf("GET: %d %s %q, want 200 over HTTP/2 with the app's page", res.StatusCode, res.Proto, body)
		}

		// rampart scan grades the listener's TLS.
		out, err := exec.Command(testutil.BuildRampart(t), "scan", "--format", "json", "--ca-file", rootFile,
			"--http-port", fmt.Sprint(testutil.Port(t, listenHTTP)), "--max-requests", "12",
			fmt.Sprintf("https://localhost:%d/", testutil.Port(t, listen))).Output()
		var rep struct {
			Checks []struct{ ID, Status, Detail string }
		}
		if jerr := json.Unmarshal(out, &rep); jerr != nil {
			t.Fatalf("scan: %v, %v\n%s", err, jerr, out)
		}
		status := map[string]string{}
		for _, c := range rep.Checks {
			status[c.ID] = c.Status
		}
		for _, id := range []string{"https", "http-redirect", "tls-certificate", "tls-expiry", "tls-version"} {
			if status[id] != "pass" {
				t.Errorf("scan check %s: %q, want pass\n%s", id, status[id], out)
			}
		}
		if !g.running() {
			t.Fatalf("gateway exited:\n%s", g.logs)
		}
		if !testutil.WaitFor(5*time.Second, func() bool { return solved(g.logs.String(), "http-01") }) {
			t.Errorf("the certificate was not obtained over HTTP-01:\n%s", grepLines(g.logs.String(), "challenge"))
		}
		g.stop()

		// A replica sharing the storage directory (here: the same gateway
		// started again) serves the stored certificate: no new order.
		g2 := startGateway(t, cfgPath)
		if !testutil.WaitFor(60*time.Second, func() bool { return getStatus("http://"+admin+"/readyz") == 200 }) {
			t.Fatalf("second instance not ready within 60s:\n%s", g2.logs)
		}
		again, _, err := served(listen, "localhost", roots)
		if err != nil {
			t.Fatalf("handshake with the second instance: %v", err)
		}
		if again.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
			t.Errorf("the second instance serves serial %s, want the stored certificate's %s", again.SerialNumber, leaf.SerialNumber)
		}
		g2.stop()
	})

	t.Run("TLS-ALPN-01 only, renewal without restart", func(t *testing.T) {
		cfgPath := filepath.Join(dir, "short.yaml")
		cfg := acmeConfig(listen, "", admin, up.URL, pebble, filepath.Join(dir, "acme-short"), "    profile: shortlived\n")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		g := startGateway(t, cfgPath)
		if !testutil.WaitFor(60*time.Second, func() bool { return getStatus("http://"+admin+"/readyz") == 200 }) {
			t.Fatalf("not ready within 60s\ngateway:\n%s\npebble:\n%s", g.logs, pebble.Logs())
		}
		first, _, err := served(listen, "localhost", roots)
		if err != nil {
			t.Fatalf("handshake: %v\n%s", err, g.logs)
		}
		if life := first.NotAfter.Sub(first.NotBefore); life > time.Minute {
			t.Fatalf("certificate lifetime %s, want the shortlived profile's 30s", life)
		}
		var mu sync.Mutex
		var renewed *x509.Certificate
		ok := testutil.WaitFor(60*time.Second, func() bool {
			leaf, _, err := served(listen, "localhost", roots)
			if err != nil || leaf.SerialNumber.Cmp(first.SerialNumber) == 0 {
				return false
			}
			mu.Lock()
			renewed = leaf
			mu.Unlock()
			return true
		})
		if !ok {
			t.Fatalf("the certificate was not renewed within 60s\ngateway:\n%s", g.logs)
		}
		if !renewed.NotAfter.After(first.NotAfter) {
			t.Errorf("renewed certificate expires %s, not after the first's %s", renewed.NotAfter, first.NotAfter)
		}
		if !g.running() {
			t.Fatalf("gateway restarted or exited:\n%s", g.logs)
		}
		if !testutil.WaitFor(5*time.Second, func() bool { return strings.Contains(g.logs.String(), "acme: certificate renewed") }) {
			t.Errorf("renewal not logged:\n%s", g.logs)
		}
		if solved(g.logs.String(), "http-01") || !solved(g.logs.String(), "tls-alpn-01") {
			t.Errorf("without listen_http, only TLS-ALPN-01 may be used:\n%s", grepLines(g.logs.String(), "challenge_type"))
		}
		metrics := getBody(t, "http://"+admin+"/metrics")
		if !strings.Contains(metrics, `rampart_acme_certificates_total{event="renewed"}`) {
			t.Errorf("metrics do not count the renewal:\n%s", grepLines(metrics, "acme"))
		}
	})
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// solved reports whether the gateway's debug log shows a challenge of kind
// being solved.
func solved(logs, kind string) bool {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "trying to solve challenge") && strings.Contains(l, `"challenge_type":"`+kind+`"`) {
			return true
		}
	}
	return false
}
