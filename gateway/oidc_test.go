package gateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// fakeIdP is an OpenID Connect provider on loopback that approves every
// authorization request at once, for the subject it is told.
type fakeIdP struct {
	srv     *httptest.Server
	key     *ecdsa.PrivateKey
	mu      sync.Mutex
	nonces  map[string]string // code -> nonce
	subject string
}

func newFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeIdP{key: key, nonces: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := fmt.Sprintf("code-%d", time.Now().UnixNano())
		p.mu.Lock()
		p.nonces[code] = q.Get("nonce")
		p.mu.Unlock()
		to, _ := url.Parse(q.Get("redirect_uri"))
		to.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		nonce, ok := p.nonces[r.PostForm.Get("code")]
		delete(p.nonces, r.PostForm.Get("code"))
		sub := p.subject
		p.mu.Unlock()
		if !ok {
			http.Error(w, `{"error":"invalid_grant"}`, 400)
			return
		}
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
		now := time.Now()
		idToken, _ := jwt.Signed(signer).Claims(map[string]any{
			"iss": p.srv.URL, "aud": "rampart-web", "sub": sub, "nonce": nonce,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "roles": []string{"viewer"},
		}).Serialize()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "opaque", "token_type": "Bearer", "id_token": idToken})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// oidcLogin runs the login flow through the gateway at h and returns the
// session cookie.
func oidcLogin(t *testing.T, h *harness, p *fakeIdP) *http.Cookie {
	t.Helper()
	resp, err := noRedirect.Get(h.url + "/.rampart/oidc/login?next=/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var loginCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "oidc") {
			loginCookie = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	if resp.StatusCode != http.StatusFound || loginCookie == nil {
		t.Fatalf("oidc login start: %d %v", resp.StatusCode, resp.Cookies())
	}
	resp, err = noRedirect.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	req, _ := http.NewRequest("GET", h.url+back.RequestURI(), nil)
	req.AddCookie(loginCookie)
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "session") && c.Value != "" {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatalf("oidc callback: %d, no session cookie", resp.StatusCode)
	return nil
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestOIDCSubjectIsNotLocalUser: an OIDC login whose sub equals a local
// user name is its own identity: the app is told the issuer and the
// method, /.rampart/me does not list the local user's sessions, and the
// local user's "log out everywhere" does not end it (nor the other way).
func TestOIDCSubjectIsNotLocalUser(t *testing.T) {
	t.Parallel()
	p := newFakeIdP(t)
	p.subject = "carol"
	up := echoUpstream(t)
	db := filepath.Join(t.TempDir(), "rampart.db")
	seedUser(t, db, "carol", "admin")
	h := start(t, parse(t, up.URL, fmt.Sprintf(`env: development
store: {sqlite: %q}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
  issuers:
    - issuer: %q
      jwks_url: %q
      audience: rampart-web
      algorithms: [ES256]
      roles_claim: roles
      login:
        client_id: rampart-web
        authorization_url: %q
        token_url: %q
        redirect_url: "https://app.example.com/.rampart/oidc/callback"
routes:
  - match: "GET /me"
  - match: "GET /admin"
    roles: [admin]
`, db, p.srv.URL, p.srv.URL+"/jwks", p.srv.URL+"/authorize", p.srv.URL+"/token")))

	local := (&deployment{h: h}).login(t)
	external := oidcLogin(t, h, p)

	seenAs := func(c *http.Cookie) seen {
		req, _ := http.NewRequest("GET", h.url+"/me", nil)
		req.AddCookie(c)
		resp, body := do(t, nil, req)
		if resp.StatusCode != 200 {
			t.Fatalf("/me: %d %s", resp.StatusCode, body)
		}
		return decodeSeen(t, body)
	}
	s := seenAs(external)
	if s.Header.Get("X-Rampart-User") != "carol" || s.Header.Get("X-Rampart-Issuer") != p.srv.URL || s.Header.Get("X-Rampart-Auth-Method") != "oidc" {
		t.Errorf("the OIDC user reached the app as user %q issuer %q method %q", s.Header.Get("X-Rampart-User"), s.Header.Get("X-Rampart-Issuer"), s.Header.Get("X-Rampart-Auth-Method"))
	}
	if s.Header.Get("X-Rampart-Roles") == "admin" {
		t.Error("the OIDC user got the local carol's roles")
	}
	if l := seenAs(local); l.Header.Get("X-Rampart-Issuer") != "" || l.Header.Get("X-Rampart-Auth-Method") != "session" {
		t.Errorf("the local user reached the app with issuer %q method %q", l.Header.Get("X-Rampart-Issuer"), l.Header.Get("X-Rampart-Auth-Method"))
	}
	req, _ := http.NewRequest("GET", h.url+"/admin", nil)
	req.AddCookie(external)
	if resp, _ := do(t, nil, req); resp.StatusCode != 403 {
		t.Errorf("the OIDC carol on the local admin's route: %d, want 403", resp.StatusCode)
	}

	me := func(c *http.Cookie) map[string]any {
		req, _ := http.NewRequest("GET", h.url+"/.rampart/me", nil)
		req.AddCookie(c)
		resp, body := do(t, nil, req)
		var out map[string]any
		if err := json.Unmarshal([]byte(body), &out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("/.rampart/me: %d %s", resp.StatusCode, body)
		}
		return out
	}
	if m := me(external); m["method"] != "oidc" || m["issuer"] != p.srv.URL {
		t.Errorf("/.rampart/me for the OIDC user: %v", m)
	} else if sessions, _ := m["sessions"].([]any); len(sessions) != 1 {
		t.Errorf("/.rampart/me for the OIDC user lists %d sessions, want only its own: %v", len(sessions), m["sessions"])
	}

	// The local carol logs out everywhere: the OIDC carol stays.
	req, _ = http.NewRequest("POST", h.url+"/.rampart/logout?everywhere=1", strings.NewReader(`{"everywhere":true}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", h.url)
	req.AddCookie(local)
	if resp, body := do(t, nil, req); resp.StatusCode/100 != 2 {
		t.Fatalf("log out everywhere: %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest("GET", h.url+"/me", nil)
	req.AddCookie(local)
	if resp, _ := do(t, nil, req); resp.StatusCode == 200 {
		t.Error("the local session survived log out everywhere")
	}
	if s := seenAs(external); s.Header.Get("X-Rampart-User") != "carol" {
		t.Error("the local user's log out everywhere ended the OIDC user's session")
	}
}
