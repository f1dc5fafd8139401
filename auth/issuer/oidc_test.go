package issuer_test

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/issuer"
)

// fakeOIDC is a minimal OpenID Connect provider: an authorization endpoint
// that approves at once, a token endpoint that checks PKCE, and a JWKS.
type fakeOIDC struct {
	*idp
	key    *rsa.PrivateKey
	clock  *clock
	srv    *httptest.Server
	mu     sync.Mutex
	grants map[string]grant
	// tamper, when set, edits the ID token claims before signing.
	tamper func(map[string]any)
	// tokenStatus, when not 200, makes the token endpoint fail.
	tokenStatus int
	secret      string
	lastAuth    string
}

type grant struct {
	challenge, nonce, clientID, redirect string
}

func newFakeOIDC(t *testing.T, clk *clock) *fakeOIDC {
	t.Helper()
	key := rsaKey(t, 2)
	p := &fakeOIDC{idp: newIDP(t, jwk(key, "oidc-1", "RS256")), key: key, clock: clk,
		grants: map[string]grant{}, tokenStatus: 200}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || !strings.Contains(q.Get("scope"), "openid") {
			http.Error(w, "bad request", 400)
			return
		}
		code := "code-" + q.Get("state")[:8]
		p.mu.Lock()
		p.grants[code] = grant{q.Get("code_challenge"), q.Get("nonce"), q.Get("client_id"), q.Get("redirect_uri")}
		p.mu.Unlock()
		to, _ := url.Parse(q.Get("redirect_uri"))
		back := url.Values{"code": {code}, "state": {q.Get("state")}}
		to.RawQuery = back.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		g, ok := p.grants[r.PostForm.Get("code")]
		delete(p.grants, r.PostForm.Get("code")) // codes are single-use
		p.lastAuth = r.Header.Get("Authorization")
		status, tamper, secret := p.tokenStatus, p.tamper, p.secret
		p.mu.Unlock()
		clientID := r.PostForm.Get("client_id")
		if user, pass, ok := r.BasicAuth(); ok {
			// RFC 6749, section 2.3.1: both are form-encoded first.
			user, _ = url.QueryUnescape(user)
			pass, _ = url.QueryUnescape(pass)
			if secret == "" || pass != secret {
				http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
				return
			}
			clientID = user
		}
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok, r.PostForm.Get("grant_type") != "authorization_code",
			g.clientID != clientID, g.redirect != r.PostForm.Get("redirect_uri"),
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			http.Error(w, `{"error":"invalid_grant"}`, 400)
			return
		case status != 200:
			http.Error(w, `{"error":"server_error"}`, status)
			return
		}
		now := p.clock.Now()
		c := map[string]any{"iss": testIssuer, "aud": g.clientID, "sub": "oidc-user", "nonce": g.nonce,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "roles": []string{"admin"}}
		if tamper != nil {
			tamper(c)
		}
		idToken := sign(t, p.key, jose.RS256, "oidc-1", nil, c)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "opaque", "token_type": "Bearer", "id_token": idToken})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// loginFixture wires a Login to a fake provider and records completions.
type loginFixture struct {
	provider *fakeOIDC
	login    *issuer.Login
	clock    *clock
	mu       sync.Mutex
	done     []*auth.Identity
	next     []string
}

func newLoginFixture(t *testing.T, edit func(*issuer.LoginConfig)) *loginFixture {
	t.Helper()
	f := &loginFixture{clock: &clock{t: t0}}
	f.provider = newFakeOIDC(t, f.clock)
	v := newVerifier(t, f.provider.idp, f.clock, nil)
	c := issuer.LoginConfig{
		ClientID:         "rampart-web",
		AuthorizationURL: f.provider.srv.URL + "/authorize",
		TokenURL:         f.provider.srv.URL + "/token",
		RedirectURL:      "https://app.example.com/.rampart/oidc/callback",
		Scopes:           []string{"profile", "email"},
		Complete: func(w http.ResponseWriter, r *http.Request, id *auth.Identity, next string) {
			f.mu.Lock()
			f.done, f.next = append(f.done, id), append(f.next, next)
			f.mu.Unlock()
			http.Redirect(w, r, next, http.StatusSeeOther)
		},
	}
	if edit != nil {
		edit(&c)
	}
	l, err := issuer.NewLogin(v, c)
	if err != nil {
		t.Fatal(err)
	}
	f.login = l
	return f
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// begin runs Start and the provider's authorization step, and returns the
// callback URL the browser would be sent to and the login cookie.
func (f *loginFixture) begin(t *testing.T, next string) (*url.URL, *http.Cookie) {
	t.Helper()
	w := httptest.NewRecorder()
	f.login.Start().ServeHTTP(w, httptest.NewRequest("GET", "/.rampart/oidc/login?next="+url.QueryEscape(next), nil))
	if w.Code != http.StatusFound {
		t.Fatalf("start: got %d, want 302", w.Code)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != issuer.LoginCookie || !cookies[0].Secure || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("login cookie: got %+v", cookies)
	}
	resp, err := noRedirects.Get(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider authorize: got %d", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return back, cookies[0]
}

func (f *loginFixture) callback(callback *url.URL, cookie *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", callback.String(), nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	f.login.Callback().ServeHTTP(w, r)
	return w
}

func TestLoginFlow(t *testing.T) {
	t.Parallel()
	f := newLoginFixture(t, nil)
	back, cookie := f.begin(t, "/reports?year=2030")
	w := f.callback(back, cookie)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/reports?year=2030" {
		t.Fatalf("callback: got %d to %q, want 303 to the next path\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if len(f.done) != 1 || f.done[0].Subject != "oidc-user" || !f.done[0].HasRole("admin") || f.done[0].Issuer != testIssuer {
		t.Fatalf("identity: got %+v", f.done)
	}
	// The attempt's cookie is deleted.
	if c := w.Result().Cookies(); len(c) != 1 || c[0].Name != issuer.LoginCookie || c[0].MaxAge >= 0 {
		t.Errorf("cookie after the callback: got %+v, want it deleted", c)
	}
	// Replaying the callback (same code, same cookie) fails: the code is
	// single-use at the provider.
	if w := f.callback(back, cookie); w.Code != http.StatusUnauthorized {
		t.Errorf("replayed callback: got %d, want 401", w.Code)
	}
}

func TestLoginAuthorizationRequest(t *testing.T) {
	t.Parallel()
	f := newLoginFixture(t, nil)
	w := httptest.NewRecorder()
	f.login.Start().ServeHTTP(w, httptest.NewRequest("GET", "/.rampart/oidc/login", nil))
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	for k, want := range map[string]string{
		"response_type": "code", "client_id": "rampart-web", "code_challenge_method": "S256",
		"redirect_uri": "https://app.example.com/.rampart/oidc/callback", "scope": "openid profile email",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("%s: got %q, want 256 random bits", k, q.Get(k))
		}
	}
	if q.Get("state") == q.Get("nonce") {
		t.Error("state and nonce are equal")
	}
	// The verifier never leaves the browser's cookie: the challenge in the
	// URL is its hash, not the verifier.
	if strings.Contains(loc.RawQuery, "code_verifier") {
		t.Error("the PKCE verifier is in the authorization URL")
	}
}

func TestLoginRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(*fakeOIDC)
		mutate func(u *url.URL, c *http.Cookie) (*url.URL, *http.Cookie)
		want   int
	}{
		{"no cookie (login CSRF)", nil, func(u *url.URL, c *http.Cookie) (*url.URL, *http.Cookie) { return u, nil }, 400},
		{"state mismatch", nil, func(u *url.URL, c *http.Cookie) (*url.URL, *http.Cookie) {
			q := u.Query()
			q.Set("state", "attacker-state")
			u.RawQuery = q.Encode()
			return u, c
		}, 400},
		{"garbage cookie", nil, func(u *url.URL, c *http.Cookie) (*url.URL, *http.Cookie) {
			return u, &http.Cookie{Name: issuer.LoginCookie, Value: "!!!"}
		}, 400},
		{"wrong PKCE verifier", nil, func(u *url.URL, c *http.Cookie) (*url.URL, *http.Cookie) {
			return u, swapVerifier(c)
		}, 401},
		{"provider error", nil, func(u *url.URL, c *http.Cookie) (*url.URL, *http.Cookie) {
			q := u.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			u.RawQuery = q.Encode()
			return u, c
		}, 401},
		{"token endpoint failure", func(p *fakeOIDC) { p.tokenStatus = 500 }, nil, 401},
		{"nonce mismatch (replayed ID token)", func(p *fakeOIDC) { p.tamper = func(c map[string]any) { c["nonce"] = "other" } }, nil, 401},
		{"no nonce", func(p *fakeOIDC) { p.tamper = func(c map[string]any) { delete(c, "nonce") } }, nil, 401},
		{"ID token for another client", func(p *fakeOIDC) { p.tamper = func(c map[string]any) { c["aud"] = "other-client" } }, nil, 401},
		{"several audiences without azp", func(p *fakeOIDC) {
			p.tamper = func(c map[string]any) { c["aud"] = []string{"rampart-web", "other"} }
		}, nil, 401},
		{"wrong issuer", func(p *fakeOIDC) { p.tamper = func(c map[string]any) { c["iss"] = "https://evil.example" } }, nil, 401},
		{"expired ID token", func(p *fakeOIDC) {
			p.tamper = func(c map[string]any) {
				c["iat"] = t0.Add(-time.Hour).Unix()
				c["exp"] = t0.Add(-10 * time.Minute).Unix()
			}
		}, nil, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newLoginFixture(t, nil)
			if tc.edit != nil {
				f.provider.mu.Lock()
				tc.edit(f.provider)
				f.provider.mu.Unlock()
			}
			back, cookie := f.begin(t, "/")
			if tc.mutate != nil {
				back, cookie = tc.mutate(back, cookie)
			}
			w := f.callback(back, cookie)
			if w.Code != tc.want {
				t.Fatalf("got %d, want %d\n%s", w.Code, tc.want, w.Body)
			}
			if len(f.done) != 0 {
				t.Fatalf("Complete was called with %+v", f.done)
			}
			if strings.Contains(w.Body.String(), "nonce") || strings.Contains(w.Body.String(), "issuer:") {
				t.Errorf("reason leaked: %s", w.Body)
			}
		})
	}
}

// swapVerifier returns a copy of the login cookie with another PKCE
// verifier, as an attacker who intercepted the code but not the cookie
// would have to guess.
func swapVerifier(c *http.Cookie) *http.Cookie {
	raw, _ := base64.RawURLEncoding.DecodeString(c.Value)
	var st map[string]any
	_ = json.Unmarshal(raw, &st)
	st["v"] = "guessed-verifier-guessed-verifier-guessed-ver"
	raw, _ = json.Marshal(st)
	return &http.Cookie{Name: c.Name, Value: base64.RawURLEncoding.EncodeToString(raw)}
}

func TestLoginExpiredAttempt(t *testing.T) {
	t.Parallel()
	f := newLoginFixture(t, nil)
	back, cookie := f.begin(t, "/")
	f.clock.Advance(11 * time.Minute)
	if w := f.callback(back, cookie); w.Code != http.StatusBadRequest {
		t.Fatalf("got %d, want 400", w.Code)
	}
}

// TestLoginConfidentialClient: the client secret, from a file or given
// directly (the gateway's client_secret from the environment), is sent to
// the provider's token endpoint with client_secret_basic.
func TestLoginConfidentialClient(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("s3cret value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*issuer.LoginConfig){
		"file":   func(c *issuer.LoginConfig) { c.ClientSecretFile = secretFile },
		"direct": func(c *issuer.LoginConfig) { c.ClientSecret = "s3cret value" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newLoginFixture(t, edit)
			f.provider.mu.Lock()
			f.provider.secret = "s3cret value"
			f.provider.mu.Unlock()
			back, cookie := f.begin(t, "/")
			if w := f.callback(back, cookie); w.Code != http.StatusSeeOther {
				t.Fatalf("got %d, want 303\n%s", w.Code, w.Body)
			}
			if !strings.HasPrefix(f.provider.lastAuth, "Basic ") {
				t.Errorf("token request authorization: got %q, want client_secret_basic", f.provider.lastAuth)
			}
		})
	}
	// A wrong secret is refused by the provider: the secret is really sent.
	f := newLoginFixture(t, func(c *issuer.LoginConfig) { c.ClientSecret = "wrong" })
	f.provider.mu.Lock()
	f.provider.secret = "s3cret value"
	f.provider.mu.Unlock()
	back, cookie := f.begin(t, "/")
	if w := f.callback(back, cookie); w.Code == http.StatusSeeOther {
		t.Fatalf("a wrong client secret: got 303, want a refusal")
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                              "/",
		"/":                             "/",
		"/reports?y=1#top":              "/reports?y=1#top",
		"//evil.example/":               "/",
		"/\\evil.example":               "/",
		"https://evil.example":          "/",
		"evil.example":                  "/",
		"javascript:alert(1)":           "/",
		"/ok\r\nSet-Cookie: x":          "/",
		"/" + strings.Repeat("a", 2000): "/",
	} {
		if got := issuer.LocalPath(in); got != want {
			t.Errorf("LocalPath(%.30q): got %q, want %q", in, got, want)
		}
	}
}

func TestLoginFromConfig(t *testing.T) {
	t.Parallel()
	p := newIDP(t, jwk(rsaKey(t, 0), "k1", "RS256"))
	login := &issuer.LoginConfig{ClientID: "c", AuthorizationURL: "https://idp.example.com/auth",
		TokenURL: "https://idp.example.com/token", RedirectURL: "https://app.example.com/cb",
		Complete: func(http.ResponseWriter, *http.Request, *auth.Identity, string) {}}
	v := newVerifier(t, p, &clock{t: t0}, func(c *issuer.Config) { c.Login = login })
	if v.Login() == nil {
		t.Fatal("Login() is nil with a login block")
	}
	if newVerifier(t, p, &clock{t: t0}, nil).Login() != nil {
		t.Error("Login() is not nil without a login block")
	}
	login.ClientID = ""
	if _, err := issuer.New(issuer.Config{Issuer: testIssuer, JWKSURL: p.url(), Audience: "a", Algorithms: []string{"RS256"}, Login: login}); err == nil {
		t.Error("New accepted an invalid login block")
	}
}

func TestNewLoginValidates(t *testing.T) {
	t.Parallel()
	p := newIDP(t, jwk(rsaKey(t, 0), "k1", "RS256"))
	v := newVerifier(t, p, &clock{t: t0}, nil)
	complete := func(http.ResponseWriter, *http.Request, *auth.Identity, string) {}
	base := func() issuer.LoginConfig {
		return issuer.LoginConfig{ClientID: "c", AuthorizationURL: "https://idp.example.com/auth",
			TokenURL: "https://idp.example.com/token", RedirectURL: "https://app.example.com/cb", Complete: complete}
	}
	for name, tc := range map[string]struct {
		edit func(*issuer.LoginConfig)
		want string
	}{
		"valid":            {func(*issuer.LoginConfig) {}, ""},
		"no client id":     {func(c *issuer.LoginConfig) { c.ClientID = "" }, "client_id is required"},
		"no completion":    {func(c *issuer.LoginConfig) { c.Complete = nil }, "completion function"},
		"http token url":   {func(c *issuer.LoginConfig) { c.TokenURL = "http://idp.example.com/token" }, "token_url: must use https"},
		"missing redirect": {func(c *issuer.LoginConfig) { c.RedirectURL = "" }, "redirect_url is required"},
		"bad scope":        {func(c *issuer.LoginConfig) { c.Scopes = []string{"a b"} }, "invalid scope"},
		"missing secret":   {func(c *issuer.LoginConfig) { c.ClientSecretFile = "/nonexistent/secret" }, "client_secret_file"},
		"both secrets": {func(c *issuer.LoginConfig) { c.ClientSecret, c.ClientSecretFile = "s", "/etc/hostname" },
			"either client_secret or client_secret_file"},
		"blank secret": {func(c *issuer.LoginConfig) { c.ClientSecret = " " }, "client_secret is blank"},
	} {
		c := base()
		tc.edit(&c)
		_, err := issuer.NewLogin(v, c)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}
