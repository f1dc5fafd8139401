package observatory_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/rampartsec/rampart/internal/observatory"
)

func site(h http.Header) *observatory.Site {
	u, _ := url.Parse("https://example.com/")
	r := &observatory.Response{URL: u, Status: 200, Header: h, Verified: true}
	return &observatory.Site{Hostname: "example.com", Final: r, HTTPS: r, SetCookies: h.Values("Set-Cookie")}
}

func TestTests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, test, csp, want string
		extra                 http.Header
	}{
		{"unsafe inline script", "content-security-policy", "default-src 'self'; script-src 'self' 'unsafe-inline'", "csp-implemented-with-unsafe-inline", nil},
		{"nonce cancels unsafe-inline", "content-security-policy", "default-src 'self'; script-src 'nonce-abc' 'unsafe-inline'", "csp-implemented-with-no-unsafe", nil},
		{"style only", "content-security-policy", "default-src 'self'; style-src 'self' 'unsafe-inline'", "csp-implemented-with-unsafe-inline-in-style-src-only", nil},
		{"default none", "content-security-policy", "default-src 'none'; script-src 'self'", "csp-implemented-with-no-unsafe-default-src-none", nil},
		{"duplicate directive", "content-security-policy", "default-src 'self'; default-src *", "csp-header-invalid", nil},
		{"eval", "content-security-policy", "default-src 'self' 'unsafe-eval'", "csp-implemented-with-unsafe-eval", nil},
		{"http source on https", "content-security-policy", "default-src 'self'; connect-src http://api.example.com", "csp-implemented-with-insecure-scheme", nil},
		{"no csp", "content-security-policy", "", "csp-not-implemented", nil},
		{"xfo via csp", "x-frame-options", "default-src 'self'; frame-ancestors 'none'", "x-frame-options-implemented-via-csp", nil},
		{"session cookie without httponly", "cookies", "", "cookies-session-without-httponly-flag", http.Header{"Set-Cookie": {"sessionid=1; Secure"}}},
		{"good cookie", "cookies", "", "cookies-secure-with-httponly-sessions-and-samesite", http.Header{"Set-Cookie": {"sessionid=1; Secure; HttpOnly; SameSite=Lax"}}},
		{"cookie without samesite", "cookies", "", "cookies-secure-with-httponly-sessions", http.Header{"Set-Cookie": {"sessionid=1; Secure; HttpOnly"}}},
		{"csrf cookie without samesite", "cookies", "", "cookies-anticsrf-without-samesite-flag", http.Header{"Set-Cookie": {"csrftoken=1; Secure"}}},
		{"invalid samesite", "cookies", "", "cookies-samesite-flag-invalid", http.Header{"Set-Cookie": {"prefs=1; Secure; SameSite=Lox"}}},
		{"csrf cookie with invalid samesite", "cookies", "", "cookies-anticsrf-without-samesite-flag", http.Header{"Set-Cookie": {"csrftoken=1; Secure; SameSite=Lox"}}},
		{"host prefix with domain is dropped", "cookies", "", "cookies-not-found", http.Header{"Set-Cookie": {"__Host-sess=1; Secure; HttpOnly; SameSite=Lax; Path=/; Domain=example.com"}}},
		{"secure prefix without secure is dropped", "cookies", "", "cookies-not-found", http.Header{"Set-Cookie": {"__Secure-sess=1; HttpOnly"}}},
		{"universal cors is not from headers alone", "cross-origin-resource-sharing", "", "cross-origin-resource-sharing-not-implemented", nil},
		{"referrer unsafe", "referrer-policy", "", "referrer-policy-unsafe", http.Header{"Referrer-Policy": {"unsafe-url"}}},
		{"hsts short", "strict-transport-security", "", "hsts-implemented-max-age-less-than-six-months", http.Header{"Strict-Transport-Security": {"max-age=300"}}},
		{"corp invalid", "cross-origin-resource-policy", "", "corp-header-invalid", http.Header{"Cross-Origin-Resource-Policy": {"everyone"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.csp != "" {
				h.Set("Content-Security-Policy", tt.csp)
			}
			for k, v := range tt.extra {
				h[k] = v
			}
			got := observatory.Score(site(h)).Tests[tt.test]
			if got.Result != tt.want {
				t.Errorf("got %s, want %s", got.Result, tt.want)
			}
			if got.Modifier != observatory.Modifier(tt.want) {
				t.Errorf("modifier: got %d, want %d", got.Modifier, observatory.Modifier(tt.want))
			}
		})
	}
}

func TestGradeAndCurve(t *testing.T) {
	t.Parallel()
	for score, want := range map[int]string{135: "A+", 100: "A+", 95: "A", 85: "A-", 72: "B", 50: "C", 25: "D-", 0: "F"} {
		if got := observatory.Grade(score); got != want {
			t.Errorf("Grade(%d): got %s, want %s", score, got, want)
		}
	}
	// No headers at all, no HTTPS: penalties only, no bonus.
	u, _ := url.Parse("http://example.com/")
	r := &observatory.Response{URL: u, Status: 200, Header: http.Header{}, Verified: true}
	got := observatory.Score(&observatory.Site{Hostname: "example.com", Final: r, HTTP: r,
		HTTPRedirects: []observatory.Redirect{{URL: u, Status: 200}}})
	// csp -25, hsts no https -20, redirection missing -20, xcto -5, xfo -20
	if got.Score != 10 || got.Grade != "F" {
		t.Errorf("got %d %s, want 10 F", got.Score, got.Grade)
	}
}
