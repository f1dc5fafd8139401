package issuer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/problem"
)

// LoginCookie is the cookie that carries one login attempt's state, nonce,
// PKCE verifier and return path between the redirect to the provider and
// the callback.
const LoginCookie = "__Host-rampart-oidc"

// Login limits.
const (
	// loginMaxAge bounds how long a user may take at the provider.
	loginMaxAge = 10 * time.Minute
	// maxTokenResponseBytes bounds the provider's token response.
	maxTokenResponseBytes = 1 << 20
)

// LoginConfig configures signing users in with the provider through the
// OpenID Connect authorization code flow with PKCE: the login block of an
// auth.issuers entry.
type LoginConfig struct {
	// ClientID is Rampart's client id at the provider. Required; ID tokens
	// must be issued to it (aud, azp).
	ClientID string `yaml:"client_id"`
	// ClientSecretFile holds the client secret, for confidential clients.
	// Default none: a public client, protected by PKCE.
	ClientSecretFile string `yaml:"client_secret_file"`
	// ClientSecret is the client secret itself, for a program that holds
	// it already (the gateway's configuration fills it from ${ENV}). It
	// excludes ClientSecretFile. Default none.
	ClientSecret string `yaml:"client_secret"`
	// AuthorizationURL is the provider's authorization_endpoint. Required.
	AuthorizationURL string `yaml:"authorization_url"`
	// TokenURL is the provider's token_endpoint. Required.
	TokenURL string `yaml:"token_url"`
	// RedirectURL is the callback URL registered at the provider, served by
	// Callback. Required.
	RedirectURL string `yaml:"redirect_url"`
	// Scopes are requested besides openid. Default: none.
	Scopes []string `yaml:"scopes"`

	// Complete is called after a successful login with the user's
	// identity and the local path to return to; it starts the user's
	// session and responds (typically a redirect to next). Required.
	Complete func(w http.ResponseWriter, r *http.Request, id *auth.Identity, next string) `yaml:"-"`
	// HTTPClient calls the token endpoint. Default: a client with the
	// verifier's JWKS timeout. Redirects are never followed.
	HTTPClient *http.Client `yaml:"-"`
}

// Login runs the OpenID Connect authorization code flow with PKCE (RFC 7636,
// S256) against one provider, for browsers. Start sends the user to the
// provider; Callback verifies the answer and hands the identity to
// LoginConfig.Complete. It is safe for concurrent use and keeps no state on
// the server: each attempt's secrets travel in a __Host- cookie that only
// this site can set, and are checked against the provider's answer.
type Login struct {
	v            *Verifier
	clientID     string
	clientSecret string
	authURL      *url.URL
	tokenURL     string
	redirectURL  string
	scope        string
	complete     func(http.ResponseWriter, *http.Request, *auth.Identity, string)
	client       *http.Client
	log          *slog.Logger
}

// NewLogin returns a Login for the provider v verifies. v must have the
// provider's keys (jwks_url or public_key): ID tokens are verified with
// them, with aud the client id.
func NewLogin(v *Verifier, c LoginConfig) (*Login, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("issuer: %s: login: "+format, append([]any{v.issuer}, args...)...)
	}
	if c.ClientID == "" {
		return nil, fail("client_id is required")
	}
	if c.Complete == nil {
		return nil, fail("a completion function is required")
	}
	l := &Login{v: v, clientID: c.ClientID, tokenURL: c.TokenURL, redirectURL: c.RedirectURL,
		complete: c.Complete, client: newClient(c.HTTPClient, v.timeout), log: v.log}
	for _, u := range []struct{ name, value string }{
		{"authorization_url", c.AuthorizationURL}, {"token_url", c.TokenURL}, {"redirect_url", c.RedirectURL},
	} {
		if u.value == "" {
			return nil, fail("%s is required", u.name)
		}
		if err := checkURL(u.value); err != nil {
			return nil, fail("%s: %w", u.name, err)
		}
	}
	authURL, _ := url.Parse(c.AuthorizationURL) // checked above
	l.authURL = authURL
	if c.ClientSecret != "" && c.ClientSecretFile != "" {
		return nil, fail("set either client_secret or client_secret_file, not both")
	}
	if c.ClientSecret != "" {
		l.clientSecret = strings.TrimSpace(c.ClientSecret)
		if l.clientSecret == "" {
			return nil, fail("client_secret is blank")
		}
	}
	if c.ClientSecretFile != "" {
		secret, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			return nil, fail("client_secret_file: %w", err)
		}
		l.clientSecret = strings.TrimSpace(string(secret))
		if l.clientSecret == "" {
			return nil, fail("client_secret_file %s is empty", c.ClientSecretFile)
		}
	}
	scopes := []string{"openid"}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return nil, fail("invalid scope %q", s)
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	l.scope = strings.Join(scopes, " ")
	return l, nil
}

// loginState is what the login cookie holds.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"r"`
	Expires  int64  `json:"e"`
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error.
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Start returns the handler that begins a login: it records a fresh state,
// nonce and PKCE verifier in the login cookie and redirects to the
// provider. The query parameter next names the local path to return to;
// anything but a local path is replaced by "/".
func (l *Login) Start() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Write(w, r, problem.Problem{Status: http.StatusMethodNotAllowed, Policy: Policy})
			return
		}
		st := loginState{State: randomString(), Nonce: randomString(), Verifier: randomString(),
			Next: LocalPath(r.URL.Query().Get("next")), Expires: l.v.now().Add(loginMaxAge).Unix()}
		value, _ := json.Marshal(st) // a struct of strings and an integer always marshals
		http.SetCookie(w, &http.Cookie{Name: LoginCookie, Value: base64.RawURLEncoding.EncodeToString(value),
			Path: "/", MaxAge: int(loginMaxAge / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		challenge := sha256.Sum256([]byte(st.Verifier))
		q := l.authURL.Query()
		q.Set("response_type", "code")
		q.Set("client_id", l.clientID)
		q.Set("redirect_uri", l.redirectURL)
		q.Set("scope", l.scope)
		q.Set("state", st.State)
		q.Set("nonce", st.Nonce)
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(challenge[:]))
		q.Set("code_challenge_method", "S256")
		u := *l.authURL
		u.RawQuery = q.Encode()
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
}

// LocalPath returns next if it is a path on this site, and "/" otherwise,
// so that a login link cannot send users elsewhere afterwards (an open
// redirect). Scheme-relative ("//host"), backslash and absolute URLs are
// refused, and so are paths over 1024 bytes.
func LocalPath(next string) string {
	if next == "" || len(next) > 1024 || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// Errors of the login flow. The client sees a neutral 400 or 401.
var (
	// ErrLoginState is returned when the callback's state does not match a
	// login started in this browser: a forged or replayed callback, an
	// expired attempt, or a login CSRF.
	ErrLoginState = errors.New("issuer: login state missing, expired or mismatched")
	// ErrLoginDenied is returned when the provider reports an error
	// (the user cancelled, consent refused, ...).
	ErrLoginDenied = errors.New("issuer: the provider refused the login")
	// ErrTokenExchange is returned when the code cannot be exchanged.
	ErrTokenExchange = errors.New("issuer: code exchange failed")
	// ErrIDToken is returned when the ID token is not valid for this login.
	ErrIDToken = errors.New("issuer: invalid ID token")
)

// Callback returns the handler for RedirectURL. It checks the state against
// the login cookie (and deletes the cookie: an attempt is used once),
// exchanges the code with the PKCE verifier, verifies the ID token — keys
// and pinned algorithms of the provider, iss, aud and azp equal to the
// client id, exp and iat, the lifetime cap, and the nonce — and calls
// Complete with the identity.
func (l *Login) Callback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, next, err := l.finish(w, r)
		if err != nil {
			status := http.StatusUnauthorized
			if errors.Is(err, ErrLoginState) {
				status = http.StatusBadRequest
			}
			l.log.Info("login with the identity provider failed", "issuer", l.v.issuer, "err", err)
			w.Header().Set("Cache-Control", "no-store")
			problem.Write(w, r, problem.Problem{Status: status, Policy: Policy, Detail: "the login did not succeed; please try again"})
			return
		}
		l.complete(w, r, id, next)
	})
}

func (l *Login) finish(w http.ResponseWriter, r *http.Request) (*auth.Identity, string, error) {
	if r.Method != http.MethodGet {
		return nil, "", fmt.Errorf("%w: method %s", ErrLoginState, r.Method)
	}
	st, err := l.readCookie(r)
	// Whatever happens next, this attempt is over.
	http.SetCookie(w, &http.Cookie{Name: LoginCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if err != nil {
		return nil, "", err
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		return nil, "", fmt.Errorf("%w: state differs", ErrLoginState)
	}
	if e := q.Get("error"); e != "" {
		return nil, "", fmt.Errorf("%w: %.100q", ErrLoginDenied, e)
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		return nil, "", fmt.Errorf("%w: no code", ErrTokenExchange)
	}
	rawID, err := l.exchange(r.Context(), code, st.Verifier)
	if err != nil {
		return nil, "", err
	}
	id, err := l.verifyIDToken(r.Context(), rawID, st.Nonce)
	if err != nil {
		return nil, "", err
	}
	return id, st.Next, nil
}

func (l *Login) readCookie(r *http.Request) (loginState, error) {
	c, err := r.Cookie(LoginCookie)
	if err != nil {
		return loginState{}, fmt.Errorf("%w: no login cookie", ErrLoginState)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	var st loginState
	if err != nil || len(raw) > 2048 || json.Unmarshal(raw, &st) != nil || st.State == "" || st.Nonce == "" || st.Verifier == "" {
		return loginState{}, fmt.Errorf("%w: malformed login cookie", ErrLoginState)
	}
	if l.v.now().Unix() > st.Expires {
		return loginState{}, fmt.Errorf("%w: the login attempt expired", ErrLoginState)
	}
	st.Next = LocalPath(st.Next)
	return st, nil
}

// exchange trades the code for tokens at the token endpoint and returns the
// ID token.
func (l *Login) exchange(ctx context.Context, code, verifier string) (string, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {l.redirectURL},
		"code_verifier": {verifier},
	}
	if l.clientSecret == "" {
		form.Set("client_id", l.clientID)
	}
	ctx, cancel := context.WithTimeout(ctx, l.v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenExchange, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if l.clientSecret != "" {
		// RFC 6749, section 2.3.1: client_secret_basic, form-encoded first.
		req.SetBasicAuth(url.QueryEscape(l.clientID), url.QueryEscape(l.clientSecret))
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenExchange, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponseBytes+1))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenExchange, err)
	}
	if len(body) > maxTokenResponseBytes {
		return "", fmt.Errorf("%w: response larger than %d bytes", ErrTokenExchange, maxTokenResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: status %s", ErrTokenExchange, strconv.Itoa(resp.StatusCode))
	}
	var tr struct {
		IDToken string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.IDToken == "" {
		return "", fmt.Errorf("%w: no id_token in the response", ErrTokenExchange)
	}
	return tr.IDToken, nil
}

// verifyIDToken checks an ID token (OpenID Connect Core 1.0, section
// 3.1.3.7) with the provider's keys and pinned algorithms.
func (l *Login) verifyIDToken(ctx context.Context, raw, nonce string) (*auth.Identity, error) {
	payload, _, err := l.v.verifiedPayload(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	id, err := l.v.identity(payload, l.clientID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	var c struct {
		Nonce    string       `json:"nonce"`
		AZP      string       `json:"azp"`
		Audience jsonAudience `json:"aud"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: claims", ErrIDToken)
	}
	if subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1 {
		return nil, fmt.Errorf("%w: nonce differs", ErrIDToken)
	}
	if (len(c.Audience) > 1 || c.AZP != "") && c.AZP != l.clientID {
		return nil, fmt.Errorf("%w: azp is not the client id", ErrIDToken)
	}
	return id, nil
}

// jsonAudience decodes aud as a string or an array of strings.
type jsonAudience []string

func (a *jsonAudience) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*a = []string{s}
		return nil
	}
	var arr []string
	if err := json.Unmarshal(b, &arr); err != nil {
		return fmt.Errorf("%w: aud", token.ErrMalformed)
	}
	*a = arr
	return nil
}
