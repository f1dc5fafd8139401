package token_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
)

// limitedError is what a brute-force protection refusal looks like.
type limitedError struct{ after time.Duration }

func (e limitedError) Error() string             { return "too many failures" }
func (e limitedError) RetryAfter() time.Duration { return e.after }

// scriptedVerifier answers VerifyPassword from a table and records the
// client IP it was given.
type scriptedVerifier struct {
	lastIP string
}

func (v *scriptedVerifier) VerifyPassword(_ context.Context, user, password, ip string) (*auth.Identity, error) {
	v.lastIP = ip
	switch {
	case user == "limited":
		return nil, limitedError{after: 29500 * time.Millisecond}
	case user == "broken":
		return nil, errors.New("database is locked at /var/lib/rampart.db")
	case user == "nobody":
		return nil, nil
	case user == "alice" && password == "correct horse":
		return &auth.Identity{Subject: "alice", Roles: []string{"admin"}}, nil
	}
	return nil, token.ErrInvalidCredentials
}

func postToken(h http.Handler, ctype, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/.rampart/token", strings.NewReader(body))
	r.RemoteAddr = "198.51.100.7:4242"
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	v := &scriptedVerifier{}
	f := newFixture(t, func(c *token.Config) { c.Passwords = v })
	h := f.m.TokenHandler()
	issued := f.issue(t, "bob")
	used := f.issue(t, "carol")
	if _, err := f.m.Refresh(context.Background(), used.RefreshToken); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(token.DefaultRefreshRetryWindow) // past the retry window
	big := `{"username":"alice","password":"` + strings.Repeat("x", token.MaxTokenRequestBytes) + `"}`
	tests := []struct {
		name       string
		ctype      string
		body       string
		wantStatus int
		wantDetail string
	}{
		{"password grant", "application/json", `{"username":"alice","password":"correct horse"}`, 200, ""},
		{"password grant with grant_type", "application/json; charset=utf-8", `{"grant_type":"password","username":"alice","password":"correct horse"}`, 200, ""},
		{"refresh grant", "application/json", `{"refresh_token":"` + issued.RefreshToken + `"}`, 200, ""},
		{"wrong password", "application/json", `{"username":"alice","password":"wrong"}`, 401, "invalid username or password"},
		{"unknown user", "application/json", `{"username":"eve","password":"correct horse"}`, 401, "invalid username or password"},
		{"brute-force protection", "application/json", `{"username":"limited","password":"x"}`, 429, "too many failed attempts"},
		{"verifier failure", "application/json", `{"username":"broken","password":"x"}`, 500, ""},
		{"verifier without identity", "application/json", `{"username":"nobody","password":"x"}`, 500, ""},
		{"used refresh token", "application/json", `{"refresh_token":"` + used.RefreshToken + `"}`, 401, "invalid refresh token"},
		{"garbage refresh token", "application/json", `{"refresh_token":"nope"}`, 401, "invalid refresh token"},
		{"both grants", "application/json", `{"username":"alice","password":"p","refresh_token":"r"}`, 400, "not both"},
		{"neither", "application/json", `{}`, 400, "send username and password"},
		{"unknown grant_type", "application/json", `{"grant_type":"client_credentials"}`, 400, "grant_type must be"},
		{"grant_type disagrees", "application/json", `{"grant_type":"refresh_token","username":"alice","password":"p"}`, 400, "send username and password"},
		{"missing password", "application/json", `{"username":"alice"}`, 400, "required"},
		{"overlong username", "application/json", `{"username":"` + strings.Repeat("a", 300) + `","password":"p"}`, 400, "required"},
		{"not JSON", "application/json", `username=alice`, 400, "JSON object"},
		{"JSON array", "application/json", `[1]`, 400, "JSON object"},
		{"form post", "application/x-www-form-urlencoded", `username=alice&password=correct+horse`, 415, "application/json"},
		{"no content type", "", `{"username":"alice","password":"correct horse"}`, 415, ""},
		{"body too large", "application/json", big, 413, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := postToken(h, tc.ctype, tc.body)
			if w.Code != tc.wantStatus {
				t.Fatalf("status: got %d, want %d\n%s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantStatus == 200 {
				checkPair(t, f, w)
				return
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type: got %q, want application/problem+json", ct)
			}
			if got := w.Header().Get("WWW-Authenticate"); (tc.wantStatus == 401) != (got != "") {
				t.Errorf("WWW-Authenticate on %d: got %q", tc.wantStatus, got)
			}
			var p struct{ Detail, Incident string }
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatalf("problem body: %v\n%s", err, w.Body)
			}
			if !strings.Contains(p.Detail, tc.wantDetail) || p.Incident == "" {
				t.Errorf("problem: got %+v, want detail containing %q and an incident id", p, tc.wantDetail)
			}
			for _, leak := range []string{"database", "rampart.db", "token:", "access_token"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("body leaks %q: %s", leak, w.Body)
				}
			}
		})
	}
	if v.lastIP != "198.51.100.7" {
		t.Errorf("client IP given to the verifier: got %q, want 198.51.100.7", v.lastIP)
	}
	w := postToken(h, "application/json", `{"username":"limited","password":"x"}`)
	if got := w.Header().Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After: got %q, want 30", got)
	}
	r := httptest.NewRequest("GET", "/.rampart/token", nil)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" {
		t.Errorf("GET: got %d Allow %q, want 405 POST", w.Code, w.Header().Get("Allow"))
	}
}

func checkPair(t *testing.T, f *fixture, w *httptest.ResponseRecorder) {
	t.Helper()
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", cc)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var p map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"access_token", "refresh_token", "token_type", "expires_in"} {
		if _, ok := p[k]; !ok {
			t.Errorf("response lacks %q: %s", k, w.Body)
		}
	}
	if p["token_type"] != "Bearer" || p["expires_in"] != float64(900) {
		t.Errorf("got token_type %v expires_in %v, want Bearer 900", p["token_type"], p["expires_in"])
	}
	at, _ := p["access_token"].(string)
	if _, err := f.m.Verify(context.Background(), at); err != nil {
		t.Errorf("issued access token does not verify: %v", err)
	}
}

func TestTokenEndpointWithoutPasswordGrant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	w := postToken(f.m.TokenHandler(), "application/json", `{"username":"alice","password":"correct horse"}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "not enabled") {
		t.Errorf("got %d %s, want 400 not enabled", w.Code, w.Body)
	}
}

// TestTokenEndpointRefreshReuse plays the stolen-refresh-token story over
// HTTP: the thief refreshes first, the victim's later refresh is reuse, and
// both lose the family. The victim comes back after the retry window; the
// retry-window tests show the victim coming back within it.
func TestTokenEndpointRefreshReuse(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := f.m.TokenHandler()
	stolen := f.issue(t, "alice").RefreshToken
	refresh := func(rt string) (int, string) {
		w := postToken(h, "application/json", `{"refresh_token":"`+rt+`"}`)
		var p token.Pair
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		return w.Code, p.RefreshToken
	}
	code, thiefToken := refresh(stolen)
	if code != 200 {
		t.Fatalf("thief's refresh: got %d, want 200", code)
	}
	f.clock.Advance(time.Minute)
	if code, _ := refresh(stolen); code != 401 {
		t.Fatalf("victim's refresh with the same token: got %d, want 401", code)
	}
	if code, _ := refresh(thiefToken); code != 401 {
		t.Fatalf("thief's next refresh: got %d, want 401 (family revoked)", code)
	}
}
