package requestid

import (
	"context"
	"crypto/rand"
	"net/http"
)

// Header is the header that carries the request id in both directions.
const Header = "X-Request-Id"

// MaxLen is the longest incoming id that is kept from a trusted proxy.
const MaxLen = 64

type ctxKey struct{}

// NewContext returns a copy of ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the request id stored in ctx, or "" if there is none.
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// alphabet is lowercase base32 without look-alike letters (Crockford's).
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// New returns a fresh request id: 128 random bits as 26 lowercase base32
// characters.
func New() string {
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never returns an error.
	var out [26]byte
	var acc uint32
	bits := 0
	j := 0
	for _, b := range raw {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out[j] = alphabet[(acc>>uint(bits))&31]
			j++
		}
	}
	if bits > 0 {
		out[j] = alphabet[(acc<<uint(5-bits))&31]
	}
	return string(out[:])
}

// Valid reports whether id may be kept from a trusted proxy: 1 to MaxLen
// characters from [A-Za-z0-9._-].
func Valid(id string) bool {
	if len(id) == 0 || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// Config configures a Handler.
type Config struct {
	// Trust reports whether r came through a proxy whose X-Request-Id may be
	// kept. Nil (the default) never keeps an incoming id.
	Trust func(r *http.Request) bool
}

// Handler is the package's middleware in the shape of every other
// package's (New(cfg) then .Handler(h)): requestid.Config{}.Handler(h) is
// Handler(requestid.Config{}, h).
func (c Config) Handler(h http.Handler) http.Handler { return Handler(c, h) }

// Handler returns a handler that assigns the request id, stores it in the
// request's context and in the X-Request-Id request header (so the upstream
// receives it), and sets it on the response, before calling h.
func Handler(c Config, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := Assign(c, r)
		w.Header().Set(Header, id)
		h.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

// Assign decides r's request id — the trusted incoming one or a new one —
// and writes it into r's X-Request-Id header. It does not touch the context.
func Assign(c Config, r *http.Request) string {
	id := ""
	if c.Trust != nil {
		if vs := r.Header.Values(Header); len(vs) == 1 && Valid(vs[0]) && c.Trust(r) {
			id = vs[0]
		}
	}
	if id == "" {
		id = New()
	}
	r.Header.Set(Header, id)
	return id
}
