package csrf

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/rampartsec/rampart/problem"
)

// Token sizes. A token as sent is TokenLen characters of unpadded base64url:
// a 32-byte random mask followed by the 32-byte HMAC XOR the mask.
const (
	rawLen    = sha256.Size
	nonceLen  = 32
	nonceText = 43 // base64url of nonceLen bytes, unpadded
	// TokenLen is the length of every token this package hands out.
	TokenLen = 86
)

var b64 = base64.RawURLEncoding.Strict()

// binding is what r's tokens are bound to: its session, or the random
// value in the anonymous binding cookie.
type binding struct {
	raw   [rawLen]byte // HMAC(key, binding): the unmasked token
	nonce string       // the anonymous cookie's value; "" for a session
	fresh bool         // nonce made for this request: the cookie must be set
}

// rawToken computes HMAC-SHA256(key, "rampart-csrf-v1" 0 kind 0 value).
// kind separates session ids from anonymous nonces, so that no value of one
// can ever produce the other's token.
func (p *Protection) rawToken(kind byte, value string) [rawLen]byte {
	m := hmac.New(sha256.New, p.key)
	_, _ = io.WriteString(m, "rampart-csrf-v1")
	_, _ = m.Write([]byte{0, kind, 0})
	_, _ = io.WriteString(m, value)
	var out [rawLen]byte
	m.Sum(out[:0])
	return out
}

// bind finds r's binding: the session when SessionID reports one, else a
// well-formed anonymous cookie, else a new anonymous nonce.
func (p *Protection) bind(r *http.Request) *binding {
	if p.sessionID != nil {
		if id, ok := p.sessionID(r); ok && id != "" {
			return &binding{raw: p.rawToken('s', id)}
		}
	}
	if c, err := r.Cookie(p.cookieFor(r)); err == nil && validNonce(c.Value) {
		return &binding{raw: p.rawToken('a', c.Value), nonce: c.Value}
	}
	return p.newAnonymous()
}

func (p *Protection) newAnonymous() *binding {
	var n [nonceLen]byte
	_, _ = rand.Read(n[:]) // crypto/rand.Read never returns an error.
	v := b64.EncodeToString(n[:])
	return &binding{raw: p.rawToken('a', v), nonce: v, fresh: true}
}

func validNonce(v string) bool {
	if len(v) != nonceText {
		return false
	}
	var src [nonceText]byte
	var dst [nonceLen + 2]byte
	copy(src[:], v)
	n, err := b64.Decode(dst[:], src[:])
	return err == nil && n == nonceLen
}

// mask returns a fresh encoding of raw: a random mask and raw XOR mask, so
// that the same secret never appears twice in compressed responses
// (BREACH).
func mask(raw [rawLen]byte) string {
	var buf [2 * rawLen]byte
	_, _ = rand.Read(buf[:rawLen])
	for i := range rawLen {
		buf[rawLen+i] = buf[i] ^ raw[i]
	}
	return b64.EncodeToString(buf[:])
}

// ParseToken unmasks a token as received. It reports false for anything
// that is not exactly TokenLen characters of canonical unpadded base64url.
// It does not allocate.
func ParseToken(tok string) (raw [rawLen]byte, ok bool) {
	if len(tok) != TokenLen {
		return raw, false
	}
	var src [TokenLen]byte
	var buf [2*rawLen + 2]byte
	copy(src[:], tok)
	n, err := b64.Decode(buf[:], src[:])
	if err != nil || n != 2*rawLen {
		return raw, false
	}
	for i := range rawLen {
		raw[i] = buf[i] ^ buf[rawLen+i]
	}
	return raw, true
}

// checkToken verifies the token r carries against b.
func (p *Protection) checkToken(r *http.Request, b *binding) error {
	if b.fresh {
		// No binding cookie came with the request, so no token can have
		// been issued for it.
		return ErrTokenMissing
	}
	tok := r.Header.Get(p.header)
	if tok == "" {
		var err error
		if tok, err = p.formToken(r); err != nil {
			return err
		}
	}
	if tok == "" {
		return ErrTokenMissing
	}
	raw, ok := ParseToken(tok)
	if !ok {
		return ErrTokenInvalid
	}
	if subtle.ConstantTimeCompare(raw[:], b.raw[:]) != 1 {
		return ErrTokenInvalid
	}
	return nil
}

type ctxKey struct{}

// source is what Token reads from a request's context.
type source struct {
	raw atomic.Pointer[[rawLen]byte]
}

// Token returns a fresh token for r, for a Go handler wrapped by a
// Protection in token or both mode to render into a form or a page. It
// returns "" for a request that did not come through such a handler.
func Token(r *http.Request) string {
	s, _ := r.Context().Value(ctxKey{}).(*source)
	if s == nil {
		return ""
	}
	return mask(*s.raw.Load())
}

// provide hands the wrapped handler its token: the upstream header, the
// context for Token, the binding cookie when it is new, and the readable
// cookie when it is missing or stale.
func (p *Protection) provide(w http.ResponseWriter, r *http.Request, b *binding) *http.Request {
	if b.fresh {
		p.setCookie(w, r, p.cookieFor(r), b.nonce, true)
	}
	r.Header.Set(p.upstreamHdr, mask(b.raw))
	if p.readable != "" {
		if c, err := r.Cookie(p.readable); err != nil || !matches(c.Value, b) {
			p.setCookie(w, r, p.readable, mask(b.raw), false)
		}
	}
	s := &source{}
	s.raw.Store(&b.raw)
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, s))
}

func matches(tok string, b *binding) bool {
	raw, ok := ParseToken(tok)
	return ok && subtle.ConstantTimeCompare(raw[:], b.raw[:]) == 1
}

// cookieFor is the binding cookie's name for r: Cookie, or without its
// __Host- prefix for a plain-HTTP request under UnsafePlainHTTP.
func (p *Protection) cookieFor(r *http.Request) string {
	if p.plain != nil && p.plain(r) {
		return strings.TrimPrefix(p.cookie, "__Host-")
	}
	return p.cookie
}

// setCookie sets a cookie for the whole host. The binding cookie is
// HttpOnly and, by its __Host- name, Secure, host-only and Path=/. SameSite
// is Lax, not Strict: a Strict cookie would be missing on the first
// navigation from another site, and replacing it would break the user's
// other open forms.
func (p *Protection) setCookie(w http.ResponseWriter, r *http.Request, name, value string, httpOnly bool) {
	secure := httpOnly || p.readableSecure
	if p.plain != nil && p.plain(r) && !strings.HasPrefix(name, "__Host-") && !strings.HasPrefix(name, "__Secure-") {
		// Development over plain HTTP (UnsafePlainHTTP): a Secure cookie
		// from an insecure origin would be dropped by the browser.
		secure = false
	}
	if !secure {
		scheme, _ := p.served(r)
		secure = scheme == "https"
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/",
		Secure: secure, HttpOnly: httpOnly, SameSite: http.SameSiteLaxMode,
	})
}

// Rotate gives the user a new anonymous binding and returns a token bound to
// sessionID, or to the new anonymous binding when sessionID is "". The
// authentication code calls it right after login (with the new session id)
// and after logout (with ""), so that no token issued before — including
// one an attacker planted before the login — stays valid. Token(r) returns
// tokens for the new binding for the rest of the request. In origin mode it
// does nothing and returns "".
func (p *Protection) Rotate(w http.ResponseWriter, r *http.Request, sessionID string) string {
	if !p.mode.token() {
		return ""
	}
	anon := p.newAnonymous()
	p.setCookie(w, r, p.cookieFor(r), anon.nonce, true)
	b := anon
	if sessionID != "" {
		b = &binding{raw: p.rawToken('s', sessionID)}
	}
	if p.readable != "" {
		p.setCookie(w, r, p.readable, mask(b.raw), false)
	}
	if s, _ := r.Context().Value(ctxKey{}).(*source); s != nil {
		raw := b.raw
		s.raw.Store(&raw)
	}
	return mask(b.raw)
}

// TokenResponse is the JSON body TokenHandler answers with.
type TokenResponse struct {
	// Token is a fresh token for the caller's session.
	Token string `json:"token"`
	// Header is the request header to send it in.
	Header string `json:"header"`
	// FormField is the form field to send it in.
	FormField string `json:"form_field"`
}

// TokenHandler returns the handler the gateway mounts at /.rampart/csrf: a
// GET returns a TokenResponse for the caller's session (binding an
// anonymous caller with the cookie first), not cacheable. Requests a
// browser marks as coming from another site, unless from a trusted origin,
// get 403; other methods 405; in origin mode, where there are no tokens, it
// answers 404.
func (p *Protection) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.mode.token() {
			problem.Write(w, r, problem.Problem{Status: http.StatusNotFound, Policy: "csrf"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Write(w, r, problem.Problem{Status: http.StatusMethodNotAllowed, Policy: "csrf"})
			return
		}
		// Defence in depth: the same-origin policy already keeps other
		// sites from reading the answer.
		if sfs := r.Header.Get("Sec-Fetch-Site"); sfs == "cross-site" || sfs == "same-site" {
			if !p.trusted.Contains(r.Header.Get("Origin")) {
				p.reject(w, r, ErrCrossSite)
				return
			}
		}
		b := p.bind(r)
		p.provide(w, r, b)
		body, _ := json.Marshal(TokenResponse{Token: mask(b.raw), Header: p.header, FormField: p.formField})
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Add("Vary", "Cookie")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(append(body, '\n'))
		}
	})
}
