package auth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/auth"
)

// fakeAuth authenticates "Authorization: Test <user>[:role,role]" and
// refuses "Authorization: Test !bad"; "Test !down" is a system failure.
var fakeAuth = auth.AuthenticatorFunc(func(r *http.Request) (*auth.Identity, error) {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Test ")
	if !ok {
		return nil, nil
	}
	switch v {
	case "!bad":
		return nil, fmt.Errorf("fake: %w", auth.ErrInvalidCredential)
	case "!down":
		return nil, errors.New("fake: store unreachable")
	}
	user, roles, _ := strings.Cut(v, ":")
	id := &auth.Identity{Subject: user, Method: "token"}
	if roles != "" {
		id.Roles = strings.Split(roles, ",")
	}
	if user == "scoped" {
		id.Scopes = []string{"notes:read", "notes:write"}
	}
	return id, nil
})

// echo reports what the upstream saw.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id := auth.FromContext(r.Context())
	out := map[string]any{"headers": r.Header, "identity": id != nil}
	if id != nil {
		out["subject"] = id.Subject
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
})

func mustPolicy(t testing.TB, c auth.Config) *auth.Policy {
	t.Helper()
	p, err := auth.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyDecisions(t *testing.T) {
	t.Parallel()
	required := auth.Config{Auth: auth.ModeRequired, Authenticators: []auth.Authenticator{fakeAuth}}
	admin := required
	admin.Roles = []string{"admin", "owner"}
	scoped := required
	scoped.Scopes = []string{"notes:read", "notes:write"}
	optional := auth.Config{Auth: auth.ModeOptional, Authenticators: []auth.Authenticator{fakeAuth}}
	none := auth.Config{Auth: auth.ModeNone}
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

	tests := []struct {
		name      string
		config    auth.Config
		method    string
		target    string
		authz     string
		accept    string
		status    int
		location  string
		challenge string
	}{
		{"required, no credential, API", required, "GET", "/api/notes", "", "application/json", 401, "", `Bearer realm="rampart"`},
		{"required, no credential, browser", required, "GET", "/notes?x=1", "", browser, 303, "/.rampart/login?next=%2Fnotes%3Fx%3D1", ""},
		{"required, no credential, browser POST", required, "POST", "/notes", "", browser, 401, "", `Bearer realm="rampart"`},
		{"required, browser, unsafe next dropped", required, "GET", "//evil.com/x", "", browser, 303, "/.rampart/login", ""},
		{"required, valid", required, "GET", "/api/notes", "Test alice", "", 200, "", ""},
		{"required, invalid credential", required, "GET", "/api/notes", "Test !bad", "", 401, "", `Bearer realm="rampart", error="invalid_token"`},
		{"required, invalid credential, browser", required, "GET", "/notes", "Test !bad", browser, 401, "", `Bearer realm="rampart", error="invalid_token"`},
		{"required, authenticator down", required, "GET", "/api/notes", "Test !down", "", 503, "", ""},
		{"role, has one of them", admin, "GET", "/admin", "Test alice:owner", "", 200, "", ""},
		{"role, lacks it", admin, "GET", "/admin", "Test bob:user", "", 403, "", ""},
		{"role, no roles at all", admin, "GET", "/admin", "Test bob", "", 403, "", ""},
		{"role, anonymous", admin, "GET", "/admin", "", "", 401, "", `Bearer realm="rampart"`},
		{"scopes, has all", scoped, "GET", "/api", "Test scoped", "", 200, "", ""},
		{"scopes, lacks them", scoped, "GET", "/api", "Test alice", "", 403, "", `Bearer realm="rampart", error="insufficient_scope", scope="notes:read notes:write"`},
		{"optional, anonymous", optional, "GET", "/", "", "", 200, "", ""},
		{"optional, valid", optional, "GET", "/", "Test alice", "", 200, "", ""},
		{"optional, invalid credential refused", optional, "GET", "/", "Test !bad", "", 401, "", `Bearer realm="rampart", error="invalid_token"`},
		{"optional, authenticator down is anonymous", optional, "GET", "/", "Test !down", "", 200, "", ""},
		{"none, credential ignored", none, "GET", "/", "Test alice", "", 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := mustPolicy(t, tc.config).Handler(echo)
			r := httptest.NewRequest(tc.method, "http://gw.test"+tc.target, nil)
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			if tc.accept != "" {
				r.Header.Set("Accept", tc.accept)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status: got %d, want %d\n%s", w.Code, tc.status, w.Body)
			}
			if got := w.Header().Get("Location"); got != tc.location {
				t.Errorf("Location: got %q, want %q", got, tc.location)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, tc.challenge)
			}
			if w.Code >= 400 && !strings.Contains(w.Header().Get("Content-Type"), "problem+json") && !strings.Contains(w.Header().Get("Content-Type"), "text/html") {
				t.Errorf("refusal did not go through the problem writer: %q", w.Header().Get("Content-Type"))
			}
		})
	}
}

func TestLoginRedirectNextRoundTrips(t *testing.T) {
	t.Parallel()
	h := mustPolicy(t, auth.Config{Authenticators: []auth.Authenticator{fakeAuth}}).Handler(echo)
	r := httptest.NewRequest("GET", "/notes/7?sort=asc&q=a%26b", nil)
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := loc.Query().Get("next"), "/notes/7?sort=asc&q=a%26b"; got != want {
		t.Errorf("got next %q, want %q", got, want)
	}
}

func TestSpoofedIdentityHeadersStripped(t *testing.T) {
	t.Parallel()
	spoofed := map[string]string{
		"X-Rampart-User":        "admin",
		"x-rampart-roles":       "admin",
		"X-RAMPART-SCOPES":      "everything",
		"X-Rampart-Auth-Method": "session",
		"X-Rampart-Issuer":      "https://idp.example.com",
		"X_Rampart_User":        "admin", // read as X-Rampart-User by CGI-style frameworks
		"X-Rampart_Roles":       "admin",
	}
	modes := map[string]auth.Config{
		"none":                {Auth: auth.ModeNone},
		"optional":            {Auth: auth.ModeOptional, Authenticators: []auth.Authenticator{fakeAuth}},
		"required":            {Auth: auth.ModeRequired, Authenticators: []auth.Authenticator{fakeAuth}},
		"custom header names": {Auth: auth.ModeOptional, Authenticators: []auth.Authenticator{fakeAuth}, Headers: auth.IdentityHeaders{User: "X-Auth-User", Roles: "X-Auth-Groups"}},
	}
	for name, c := range modes {
		for _, withCred := range []bool{false, true} {
			if name == "required" && !withCred {
				continue
			}
			t.Run(fmt.Sprintf("%s, credential %v", name, withCred), func(t *testing.T) {
				t.Parallel()
				var seen http.Header
				h := mustPolicy(t, c).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					seen = r.Header.Clone()
				}))
				r := httptest.NewRequest("GET", "/", nil)
				for k, v := range spoofed {
					r.Header[k] = []string{v} // raw keys, as a hostile client would send them
				}
				r.Header["X-Auth-User"] = []string{"admin"}
				r.Header["X_auth_groups"] = []string{"admin"}
				if withCred {
					r.Header.Set("Authorization", "Test alice:user")
				}
				h.ServeHTTP(httptest.NewRecorder(), r)
				if seen == nil {
					t.Fatal("upstream not reached")
				}
				for k, vs := range seen {
					lk := strings.ToLower(strings.ReplaceAll(k, "_", "-"))
					if !strings.HasPrefix(lk, "x-rampart-") && !(strings.HasPrefix(lk, "x-auth-") && c.Headers.User != "") {
						continue
					}
					for _, v := range vs {
						if v == "admin" || v == "everything" || v == "https://idp.example.com" || (v == "session" && withCred) {
							t.Errorf("spoofed header reached the upstream: %s: %s", k, v)
						}
					}
				}
				if c.Headers.User == "" && c.Auth != auth.ModeNone {
					if withCred && (seen.Get("X-Rampart-User") != "alice" || seen.Get("X-Rampart-Roles") != "user" || seen.Get("X-Rampart-Auth-Method") != "token") {
						t.Errorf("identity headers: got %v", seen)
					}
					if !withCred && seen.Get("X-Rampart-User") != "" {
						t.Errorf("anonymous request carried X-Rampart-User %q", seen.Get("X-Rampart-User"))
					}
				}
				if c.Headers.User != "" && withCred && seen.Get("X-Auth-User") != "alice" {
					t.Errorf("custom user header: got %q, want alice", seen.Get("X-Auth-User"))
				}
				if withCred && c.Auth == auth.ModeNone && seen.Get("X-Rampart-User") != "" {
					t.Errorf("auth: none route forwarded an identity")
				}
			})
		}
	}
}

func TestUnsafeIdentityRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		id   auth.Identity
	}{
		{"newline in subject", auth.Identity{Subject: "alice\r\nX-Rampart-Roles: admin", Method: "issuer"}},
		{"comma in role", auth.Identity{Subject: "alice", Roles: []string{"user,admin"}, Method: "issuer"}},
		{"non-ascii subject", auth.Identity{Subject: "al\u00efce", Method: "issuer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := auth.AuthenticatorFunc(func(*http.Request) (*auth.Identity, error) { id := tc.id; return &id, nil })
			reached := false
			h := mustPolicy(t, auth.Config{Authenticators: []auth.Authenticator{a}}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			if reached || w.Code != 401 {
				t.Errorf("got status %d, reached %v; want 401 and not reached", w.Code, reached)
			}
		})
	}
}

func TestAuthenticatorOrder(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []string
	mk := func(name string, id *auth.Identity, err error) auth.Authenticator {
		return auth.AuthenticatorFunc(func(*http.Request) (*auth.Identity, error) {
			mu.Lock()
			calls = append(calls, name)
			mu.Unlock()
			return id, err
		})
	}
	p := mustPolicy(t, auth.Config{Authenticators: []auth.Authenticator{
		mk("session", nil, nil),
		mk("token", &auth.Identity{Subject: "alice"}, nil),
		mk("issuer", &auth.Identity{Subject: "mallory"}, nil),
	}})
	id, err := p.Check(httptest.NewRequest("GET", "/", nil))
	if err != nil || id.Subject != "alice" {
		t.Fatalf("got %v, %v, want alice", id, err)
	}
	if got := strings.Join(calls, ","); got != "session,token" {
		t.Errorf("got calls %s, want session,token", got)
	}
	// An invalid credential is never skipped for a later authenticator.
	p = mustPolicy(t, auth.Config{Authenticators: []auth.Authenticator{
		mk("token", nil, fmt.Errorf("x: %w", auth.ErrInvalidCredential)),
		mk("issuer", &auth.Identity{Subject: "mallory"}, nil),
	}})
	if _, err := p.Check(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, auth.ErrInvalidCredential) {
		t.Errorf("got %v, want ErrInvalidCredential", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    auth.Config
	}{
		{"required without authenticator", auth.Config{}},
		{"roles on none", auth.Config{Auth: auth.ModeNone, Roles: []string{"admin"}}},
		{"roles on optional", auth.Config{Auth: auth.ModeOptional, Roles: []string{"admin"}, Authenticators: []auth.Authenticator{fakeAuth}}},
		{"bad role", auth.Config{Roles: []string{"a,b"}, Authenticators: []auth.Authenticator{fakeAuth}}},
		{"nil authenticator", auth.Config{Authenticators: []auth.Authenticator{nil}}},
		{"bad header name", auth.Config{Auth: auth.ModeNone, Headers: auth.IdentityHeaders{User: "X User"}}},
		{"duplicate header name", auth.Config{Auth: auth.ModeNone, Headers: auth.IdentityHeaders{User: "X-A", Roles: "x_a"}}},
		{"absolute login URL", auth.Config{Auth: auth.ModeNone, LoginURL: "https://evil.com/login"}},
		{"protocol-relative login URL", auth.Config{Auth: auth.ModeNone, LoginURL: "//evil.com"}},
		{"bad mode", auth.Config{Auth: auth.Mode(7)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := auth.New(tc.c); err == nil || !strings.HasPrefix(err.Error(), "auth: ") {
				t.Errorf("got %v, want an auth: error", err)
			}
		})
	}
}

func TestModeText(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"none", "optional", "required", "Required"} {
		var m auth.Mode
		if err := m.UnmarshalText([]byte(s)); err != nil || m.String() != strings.ToLower(s) {
			t.Errorf("%q: got %v, %v", s, m, err)
		}
	}
	var m auth.Mode
	if err := m.UnmarshalText([]byte("maybe")); err == nil {
		t.Error("got nil error for maybe")
	}
	if m != auth.ModeRequired {
		t.Errorf("zero Mode: got %v, want required", m)
	}
}

func TestStripper(t *testing.T) {
	t.Parallel()
	s, err := auth.NewStripper(auth.IdentityHeaders{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"X-Rampart-User": {"a"}, "X_rampart_roles": {"b"}, "X-Other": {"c"}}
	s.Strip(h)
	if len(h) != 1 || h.Get("X-Other") != "c" {
		t.Errorf("got %v, want only X-Other", h)
	}
}
