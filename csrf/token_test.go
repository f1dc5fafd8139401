package csrf_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/csrf"
)

var testKey = bytes.Repeat([]byte{7}, 32)

// sessionFromHeader stands in for the authentication code: the session id
// is whatever X-Test-Session says.
func sessionFromHeader(r *http.Request) (string, bool) {
	id := r.Header.Get("X-Test-Session")
	return id, id != ""
}

// app records what the application receives.
type app struct {
	token string
	body  string
	ctx   string
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.token = r.Header.Get("X-Rampart-Csrf-Token")
	a.ctx = csrf.Token(r)
	b, _ := io.ReadAll(r.Body)
	a.body = string(b)
}

func tokenProtection(t testing.TB, mode csrf.Mode, extra func(*csrf.Config)) *csrf.Protection {
	c := csrf.Config{Mode: mode, Key: testKey, SessionID: sessionFromHeader}
	if extra != nil {
		extra(&c)
	}
	return mustNew(t, c)
}

// visit does a same-origin GET and returns the binding cookie (if one was
// set) and the token the application received.
func visit(t *testing.T, p *csrf.Protection, cookie *http.Cookie, session string) (*http.Cookie, string) {
	t.Helper()
	r := httptest.NewRequest("GET", "https://app.example.com/form", nil)
	r.Header.Set("X-Rampart-Csrf-Token", "forged-by-client")
	if cookie != nil {
		r.AddCookie(cookie)
	}
	if session != "" {
		r.Header.Set("X-Test-Session", session)
	}
	a := &app{}
	w := httptest.NewRecorder()
	p.Handler(a).ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("GET: got %d", w.Code)
	}
	if a.token == "forged-by-client" || len(a.token) != csrf.TokenLen {
		t.Fatalf("upstream token: got %q, want a fresh %d-character token", a.token, csrf.TokenLen)
	}
	if a.ctx == "" || a.ctx == a.token {
		t.Fatalf("Token(r): got %q, want a fresh token different from the header's", a.ctx)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == csrf.DefaultCookie {
			if !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("binding cookie attributes: got %+v", c)
			}
			return c, a.token
		}
	}
	return cookie, a.token
}

type post struct {
	cookie      *http.Cookie
	session     string
	headerToken string
	form        url.Values
	site        string
}

func (q post) send(p *csrf.Protection) (*httptest.ResponseRecorder, *app) {
	var body io.Reader
	if q.form != nil {
		body = strings.NewReader(q.form.Encode())
	}
	r := httptest.NewRequest("POST", "https://app.example.com/items", body)
	if q.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if q.cookie != nil {
		r.AddCookie(q.cookie)
	}
	if q.session != "" {
		r.Header.Set("X-Test-Session", q.session)
	}
	if q.headerToken != "" {
		r.Header.Set("X-CSRF-Token", q.headerToken)
	}
	if q.site != "" {
		r.Header.Set("Sec-Fetch-Site", q.site)
	}
	a := &app{}
	w := httptest.NewRecorder()
	p.Handler(a).ServeHTTP(w, r)
	return w, a
}

func TestTokenAnonymous(t *testing.T) {
	t.Parallel()
	p := tokenProtection(t, csrf.ModeToken, nil)
	cookie, tok := visit(t, p, nil, "")
	if cookie == nil {
		t.Fatal("no binding cookie was set")
	}
	again, tok2 := visit(t, p, cookie, "")
	if again != cookie {
		t.Error("binding cookie replaced on a later visit")
	}
	if tok == tok2 {
		t.Error("two responses carried the same token; tokens must be masked per response")
	}
	otherCookie, otherTok := visit(t, p, nil, "")
	forged := make([]byte, 64)
	_, _ = rand.Read(forged)

	tests := []struct {
		name string
		post post
		want error
	}{
		{"header token", post{cookie: cookie, headerToken: tok}, nil},
		{"second masked token", post{cookie: cookie, headerToken: tok2}, nil},
		{"form token", post{cookie: cookie, form: url.Values{"csrf_token": {tok}, "title": {"x"}}}, nil},
		{"header wins over form", post{cookie: cookie, headerToken: tok, form: url.Values{"csrf_token": {"junk"}}}, nil},
		{"missing", post{cookie: cookie}, csrf.ErrTokenMissing},
		{"missing cookie", post{headerToken: tok}, csrf.ErrTokenMissing},
		{"forged", post{cookie: cookie, headerToken: base64url(forged)}, csrf.ErrTokenInvalid},
		{"truncated", post{cookie: cookie, headerToken: tok[:80]}, csrf.ErrTokenInvalid},
		{"token of another user", post{cookie: cookie, headerToken: otherTok}, csrf.ErrTokenInvalid},
		{"other user's cookie and my token", post{cookie: otherCookie, headerToken: tok}, csrf.ErrTokenInvalid},
		{"attacker-chosen cookie", post{cookie: &http.Cookie{Name: csrf.DefaultCookie, Value: strings.Repeat("A", 43)}, headerToken: tok}, csrf.ErrTokenInvalid},
		{"form field garbled", post{cookie: cookie, form: url.Values{"csrf_token": {"%zz"}}}, csrf.ErrTokenInvalid},
		{"cross-site with valid token passes in token mode", post{cookie: cookie, headerToken: tok, site: "cross-site"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, a := tt.post.send(p)
			if tt.want == nil {
				if w.Code != 200 {
					t.Fatalf("got %d %s, want 200", w.Code, w.Body)
				}
				if tt.post.form != nil && a.body != tt.post.form.Encode() {
					t.Errorf("body reaching the app: got %q, want %q", a.body, tt.post.form.Encode())
				}
				return
			}
			if w.Code != 403 {
				t.Errorf("got %d, want 403 (%v)", w.Code, tt.want)
			}
			for _, c := range w.Result().Cookies() {
				if c.Name == csrf.DefaultCookie {
					t.Errorf("a refused request reset the binding cookie")
				}
			}
		})
	}
}

func TestTokenSessionBound(t *testing.T) {
	t.Parallel()
	p := tokenProtection(t, csrf.ModeToken, nil)
	anonCookie, anonTok := visit(t, p, nil, "")
	_, aliceTok := visit(t, p, anonCookie, "alice-session")
	_, bobTok := visit(t, p, nil, "bob-session")
	tests := []struct {
		name string
		post post
		want error
	}{
		{"own session", post{session: "alice-session", headerToken: aliceTok}, nil},
		{"own session, any cookie", post{session: "alice-session", cookie: anonCookie, headerToken: aliceTok}, nil},
		{"replayed from another session", post{session: "alice-session", headerToken: bobTok}, csrf.ErrTokenInvalid},
		{"anonymous token after login", post{session: "alice-session", cookie: anonCookie, headerToken: anonTok}, csrf.ErrTokenInvalid},
		{"session token without the session", post{cookie: anonCookie, headerToken: aliceTok}, csrf.ErrTokenInvalid},
		{"missing", post{session: "alice-session"}, csrf.ErrTokenMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, _ := tt.post.send(p)
			wantCode := 200
			if tt.want != nil {
				wantCode = 403
			}
			if w.Code != wantCode {
				t.Errorf("got %d, want %d (%v)", w.Code, wantCode, tt.want)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	p := tokenProtection(t, csrf.ModeToken, nil)
	cookie, oldTok := visit(t, p, nil, "")
	// The login handler: authenticates, rotates the session id, then
	// rotates CSRF tokens.
	var loginTok, ctxTok string
	var newCookie *http.Cookie
	login := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loginTok = p.Rotate(w, r, "new-session")
		ctxTok = csrf.Token(r)
	}))
	r := httptest.NewRequest("POST", "https://app.example.com/login", nil)
	r.AddCookie(cookie)
	r.Header.Set("X-CSRF-Token", oldTok)
	w := httptest.NewRecorder()
	login.ServeHTTP(w, r)
	if w.Code != 200 || loginTok == "" {
		t.Fatalf("login: got %d, token %q", w.Code, loginTok)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == csrf.DefaultCookie {
			newCookie = c
		}
	}
	if newCookie == nil || newCookie.Value == cookie.Value {
		t.Fatal("Rotate did not replace the anonymous binding cookie")
	}
	for name, q := range map[string]post{
		"token from Rotate":        {session: "new-session", headerToken: loginTok},
		"Token(r) after Rotate":    {session: "new-session", headerToken: ctxTok},
		"old token, new session":   {session: "new-session", headerToken: oldTok},
		"old token, new anonymous": {cookie: newCookie, headerToken: oldTok},
	} {
		w, _ := q.send(p)
		want := 403
		if strings.HasPrefix(name, "token from") || strings.HasPrefix(name, "Token(r)") {
			want = 200
		}
		if w.Code != want {
			t.Errorf("%s: got %d, want %d", name, w.Code, want)
		}
	}
	if got := mustNew(t, csrf.Config{}).Rotate(httptest.NewRecorder(), r, "x"); got != "" {
		t.Errorf("Rotate in origin mode: got %q, want \"\"", got)
	}
}

func TestModeBoth(t *testing.T) {
	t.Parallel()
	p := tokenProtection(t, csrf.ModeBoth, nil)
	cookie, tok := visit(t, p, nil, "")
	for _, tt := range []struct {
		name string
		post post
		want int
	}{
		{"same-origin with token", post{cookie: cookie, headerToken: tok, site: "same-origin"}, 200},
		{"cross-site with stolen token", post{cookie: cookie, headerToken: tok, site: "cross-site"}, 403},
		{"same-origin without token", post{cookie: cookie, site: "same-origin"}, 403},
	} {
		if w, _ := tt.post.send(p); w.Code != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, w.Code, tt.want)
		}
	}
}

func TestFormBodyHandling(t *testing.T) {
	t.Parallel()
	p := tokenProtection(t, csrf.ModeToken, func(c *csrf.Config) { c.MaxFormBytes = 1024 })
	cookie, tok := visit(t, p, nil, "")
	big := strings.Repeat("x", 4000)
	send := func(ct, body string, mutate func(*http.Request)) (*httptest.ResponseRecorder, *app) {
		r := httptest.NewRequest("POST", "https://app.example.com/items", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		r.AddCookie(cookie)
		if mutate != nil {
			mutate(r)
		}
		a := &app{}
		w := httptest.NewRecorder()
		p.Handler(a).ServeHTTP(w, r)
		return w, a
	}
	form := "csrf_token=" + tok + "&note=" + big
	w, a := send("application/x-www-form-urlencoded; charset=UTF-8", form, nil)
	if w.Code != 200 || a.body != form {
		t.Errorf("token first in a large form: got %d, body intact %v", w.Code, a.body == form)
	}
	w, a = send("application/x-www-form-urlencoded", form, func(r *http.Request) { r.ContentLength = -1 })
	if w.Code != 200 || a.body != form {
		t.Errorf("chunked form: got %d, body intact %v", w.Code, a.body == form)
	}
	w, _ = send("application/x-www-form-urlencoded", "note="+big+"&csrf_token="+tok, nil)
	if w.Code != 403 {
		t.Errorf("token beyond max_form_bytes: got %d, want 403", w.Code)
	}
	w, a = send("application/x-www-form-urlencoded", "a=1&csrf%5Ftoken="+tok, nil)
	if w.Code != 200 || a.body != "a=1&csrf%5Ftoken="+tok {
		t.Errorf("encoded field name: got %d", w.Code)
	}
	w, _ = send("application/x-www-form-urlencoded", "a=1&csrf_token="+tok, func(r *http.Request) {
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 10)
	})
	if w.Code != 413 {
		t.Errorf("body over the route limit: got %d, want 413", w.Code)
	}
	w, _ = send("text/plain", "csrf_token="+tok, nil)
	if w.Code != 403 {
		t.Errorf("text/plain form (enctype trick): got %d, want 403", w.Code)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("csrf_token", tok)
	_ = mw.Close()
	w, _ = send(mw.FormDataContentType(), mp.String(), nil)
	if w.Code != 403 {
		t.Errorf("multipart with token only in the body: got %d, want 403 (multipart is header-only)", w.Code)
	}
	w, a = send(mw.FormDataContentType(), mp.String(), func(r *http.Request) { r.Header.Set("X-CSRF-Token", tok) })
	if w.Code != 200 || a.body != mp.String() {
		t.Errorf("multipart with header token: got %d", w.Code)
	}
}

func TestReadableCookie(t *testing.T) {
	t.Parallel()
	p := tokenProtection(t, csrf.ModeToken, func(c *csrf.Config) { c.ReadableCookie = "XSRF-TOKEN"; c.Header = "X-XSRF-TOKEN" })
	r := httptest.NewRequest("GET", "https://app.example.com/", nil)
	w := httptest.NewRecorder()
	p.Handler(&app{}).ServeHTTP(w, r)
	var binding, readable *http.Cookie
	for _, c := range w.Result().Cookies() {
		switch c.Name {
		case csrf.DefaultCookie:
			binding = c
		case "XSRF-TOKEN":
			readable = c
		}
	}
	if binding == nil || readable == nil || readable.HttpOnly {
		t.Fatalf("cookies: got binding %v, readable %v", binding, readable)
	}
	// The single-page app echoes the readable cookie in the header.
	q := post{cookie: binding}
	rr := httptest.NewRequest("POST", "https://app.example.com/items", nil)
	rr.AddCookie(q.cookie)
	rr.AddCookie(readable)
	rr.Header.Set("X-XSRF-TOKEN", readable.Value)
	w = httptest.NewRecorder()
	p.Handler(&app{}).ServeHTTP(w, rr)
	if w.Code != 200 {
		t.Errorf("echoed readable cookie: got %d", w.Code)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == "XSRF-TOKEN" {
			t.Error("a valid readable cookie was replaced")
		}
	}
}

func TestTokenHandler(t *testing.T) {
	t.Parallel()
	p := tokenProtection(t, csrf.ModeToken, nil)
	h := p.TokenHandler()
	r := httptest.NewRequest("GET", "https://app.example.com/.rampart/csrf", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var got csrf.TokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
		t.Fatalf("got %d %s: %v", w.Code, w.Body, err)
	}
	if len(got.Token) != csrf.TokenLen || got.Header != "X-Csrf-Token" || got.FormField != "csrf_token" {
		t.Errorf("body: got %+v", got)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control: got %q", w.Header().Get("Cache-Control"))
	}
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == csrf.DefaultCookie {
			cookie = c
		}
	}
	if w, _ := (post{cookie: cookie, headerToken: got.Token}).send(p); w.Code != 200 {
		t.Errorf("token from the handler: got %d", w.Code)
	}

	for _, tt := range []struct {
		name   string
		p      *csrf.Protection
		method string
		site   string
		want   int
	}{
		{"POST", p, "POST", "", 405},
		{"cross-site read", p, "GET", "cross-site", 403},
		{"origin mode", mustNew(t, csrf.Config{}), "GET", "", 404},
	} {
		r := httptest.NewRequest(tt.method, "https://app.example.com/.rampart/csrf", nil)
		if tt.site != "" {
			r.Header.Set("Sec-Fetch-Site", tt.site)
		}
		w := httptest.NewRecorder()
		tt.p.TokenHandler().ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, w.Code, tt.want)
		}
	}
}

func TestParseToken(t *testing.T) {
	t.Parallel()
	p := tokenProtection(t, csrf.ModeToken, nil)
	_, tok := visit(t, p, nil, "")
	if _, ok := csrf.ParseToken(tok); !ok {
		t.Fatalf("ParseToken(%q): got false", tok)
	}
	for _, bad := range []string{"", tok[:85], tok + "A", strings.Repeat("*", 86), tok[:85] + "=", strings.Repeat("A", 85) + "B"} {
		if _, ok := csrf.ParseToken(bad); ok {
			t.Errorf("ParseToken(%q): got true", bad)
		}
	}
	if err := p.Check(httptest.NewRequest("GET", "/", nil)); err != nil {
		t.Errorf("Check GET: %v", err)
	}
	r := httptest.NewRequest("POST", "/", nil)
	if err := p.Check(r); !errors.Is(err, csrf.ErrTokenMissing) {
		t.Errorf("Check POST without anything: got %v, want ErrTokenMissing", err)
	}
}

func base64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
