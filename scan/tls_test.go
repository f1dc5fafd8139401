package scan_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/severity"
	"github.com/rampartsec/rampart/scan"
)

func TestTLS(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	good, pool := newCert(t, time.Now().Add(90*day))
	soon, soonPool := newCert(t, time.Now().Add(3*day))
	month, monthPool := newCert(t, time.Now().Add(20*day))
	site := serveTLS(t, page(goodHeaders), good, nil)

	tests := []struct {
		name string
		cfg  scan.Config
		want map[string]scan.Status
		sub  map[string]string
	}{
		{"trusted", scan.Config{URL: site, RootCAs: pool}, map[string]scan.Status{
			"https": scan.Pass, "tls-certificate": scan.Pass, "tls-expiry": scan.Pass, "tls-version": scan.Pass, "hsts": scan.Pass},
			map[string]string{"tls-version": "negotiated TLS 1.3; TLS 1.0 and 1.1 refused", "tls-expiry": "89 days"}},
		{"untrusted, scanned anyway", scan.Config{URL: site, InsecureSkipVerify: true}, map[string]scan.Status{
			"tls-certificate": scan.Fail, "hsts": scan.Fail, "tls-expiry": scan.Pass},
			map[string]string{"tls-certificate": "not trusted: x509: certificate signed by unknown authority", "hsts": "hsts-invalid-cert"}},
		{"expired by the clock", scan.Config{URL: site, RootCAs: pool, Now: func() time.Time { return time.Now().Add(100 * day) }}, map[string]scan.Status{
			"tls-certificate": scan.Fail, "tls-expiry": scan.Fail},
			map[string]string{"tls-certificate": "expired", "tls-expiry": "expired on"}},
		{"expires in three days", scan.Config{URL: serveTLS(t, page(goodHeaders), soon, nil), RootCAs: soonPool}, map[string]scan.Status{
			"tls-certificate": scan.Pass, "tls-expiry": scan.Fail}, map[string]string{"tls-expiry": "expires in"}},
		{"expires in twenty days", scan.Config{URL: serveTLS(t, page(goodHeaders), month, nil), RootCAs: monthPool}, map[string]scan.Status{
			"tls-expiry": scan.Warn}, nil},
		{"accepts TLS 1.0", scan.Config{URL: serveTLS(t, page(goodHeaders), good, &tls.Config{MinVersion: tls.VersionTLS10}), RootCAs: pool}, map[string]scan.Status{
			"tls-version": scan.Warn}, map[string]string{"tls-version": "negotiated TLS 1.3, but a TLS 1.1 handshake was accepted too"}},
		{"offers a CBC suite", scan.Config{URL: serveTLS(t, page(goodHeaders), good, &tls.Config{CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}), RootCAs: pool}, map[string]scan.Status{
			"tls-ciphers": scan.Warn, "tls-version": scan.Pass}, map[string]string{"tls-ciphers": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"}},
		{"offers AEAD suites only", scan.Config{URL: serveTLS(t, page(goodHeaders), good, &tls.Config{CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}), RootCAs: pool}, map[string]scan.Status{
			"tls-ciphers": scan.Pass}, nil},
		{"speaks only TLS 1.1", scan.Config{URL: serveTLS(t, page(goodHeaders), good, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}), RootCAs: pool}, map[string]scan.Status{
			"tls-version": scan.Fail}, map[string]string{"tls-version": "the connection used TLS 1.1"}},
		{"hsts without includeSubDomains", scan.Config{URL: serveTLS(t, page(map[string]string{"Strict-Transport-Security": "max-age=31536000"}), good, nil), RootCAs: pool}, map[string]scan.Status{
			"hsts": scan.Warn}, map[string]string{"hsts": "without includeSubDomains"}},
		{"hsts short", scan.Config{URL: serveTLS(t, page(map[string]string{"Strict-Transport-Security": "max-age=300; includeSubDomains"}), good, nil), RootCAs: pool}, map[string]scan.Status{
			"hsts": scan.Warn}, map[string]string{"hsts": "max-age under six months"}},
		{"no hsts", scan.Config{URL: serveTLS(t, page(nil), good, nil), RootCAs: pool}, map[string]scan.Status{
			"hsts": scan.Fail}, map[string]string{"hsts": "not set on the HTTPS answer"}},
		{"plain http", scan.Config{URL: serve(t, page(goodHeaders))}, map[string]scan.Status{
			"https": scan.Fail, "http-redirect": scan.Fail, "tls-certificate": scan.Skip, "tls-expiry": scan.Skip, "tls-version": scan.Skip, "hsts": scan.Fail}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.cfg.HTTPPort == 0 && strings.HasPrefix(tt.cfg.URL, "https:") {
				tt.cfg.HTTPPort = closedPort(t)
			}
			rep := run(t, tt.cfg)
			expect(t, rep, tt.want)
			for id, sub := range tt.sub {
				if c, _ := rep.Check(id); !strings.Contains(c.Detail, sub) {
					t.Errorf("%s: got detail %q, want it to contain %q", id, c.Detail, sub)
				}
			}
		})
	}

	t.Run("untrusted stops the scan", func(t *testing.T) {
		t.Parallel()
		_, err := scan.Run(context.Background(), scan.Config{URL: site})
		if !errors.Is(err, scan.ErrCertificate) || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Errorf("got %v, want ErrCertificate naming the unknown authority", err)
		}
	})
	t.Run("critical with insecure", func(t *testing.T) {
		t.Parallel()
		rep := run(t, scan.Config{URL: site, InsecureSkipVerify: true, HTTPPort: closedPort(t)})
		if c, _ := rep.Check("tls-certificate"); c.Severity != severity.Critical {
			t.Errorf("got %s, want critical", c.Severity)
		}
	})
}

// TestHTTPRedirect checks the plain-HTTP side of an https site, and an
// http URL that moves to https.
func TestHTTPRedirect(t *testing.T) {
	t.Parallel()
	cert, pool := newCert(t, time.Now().Add(90*24*time.Hour))
	site := serveTLS(t, page(goodHeaders), cert, nil)
	toHTTPS := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, site+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	toOtherHost := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(site, "127.0.0.1", "localhost", 1)+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	noRedirect := serve(t, page(goodHeaders))
	port := func(u string) int {
		parsed, _ := url.Parse(u)
		n, _ := strconv.Atoi(parsed.Port())
		return n
	}
	tests := []struct {
		name string
		cfg  scan.Config
		want scan.Status
		sub  string
	}{
		{"redirects", scan.Config{URL: site, HTTPPort: port(toHTTPS)}, scan.Pass, "redirects to HTTPS on the same host"},
		{"answers without redirect", scan.Config{URL: site, HTTPPort: port(noRedirect)}, scan.Fail, "plain HTTP answers without redirecting"},
		{"to another host", scan.Config{URL: site, HTTPPort: port(toOtherHost)}, scan.Warn, "redirection-off-host-from-http"},
		{"nothing on plain HTTP", scan.Config{URL: site, HTTPPort: closedPort(t)}, scan.Pass, "connection refused"},
		{"http URL that moves to https", scan.Config{URL: toHTTPS + "/"}, scan.Pass, "redirection-to-https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.RootCAs = pool
			rep := run(t, tt.cfg)
			c, _ := rep.Check("http-redirect")
			if c.Status != tt.want || !strings.Contains(c.Detail, tt.sub) {
				t.Errorf("got %s %q, want %s containing %q", c.Status, c.Detail, tt.want, tt.sub)
			}
			if tt.name == "http URL that moves to https" {
				expect(t, rep, map[string]scan.Status{"https": scan.Pass, "tls-certificate": scan.Pass, "hsts": scan.Pass})
				if rep.FinalURL != site+"/" {
					t.Errorf("final URL: got %s, want %s/", rep.FinalURL, site)
				}
			}
		})
	}
}
