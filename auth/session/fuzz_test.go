package session_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/session"
)

// FuzzParseID checks the cookie-value parser: only canonical 43-character
// base64url encodings of 32 bytes are accepted, and the key is the SHA-256
// of exactly those bytes.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", // non-canonical tail bits
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"++++++++++++++++++++++++++++++++++++++++++8",
		"-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_8",
		"", "x", "' OR 1=1 --",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, ok := session.ParseID(s)
		if !ok {
			return
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil || len(raw) != 32 || len(s) != 43 {
			t.Fatalf("accepted %q (decode err %v, %d bytes)", s, err, len(raw))
		}
		if base64.RawURLEncoding.EncodeToString(raw) != s {
			t.Fatalf("accepted non-canonical %q", s)
		}
		if k != sha256.Sum256(raw) {
			t.Fatalf("wrong key for %q", s)
		}
	})
}

// FuzzCookieHeader sends arbitrary Cookie headers to Authenticate: never a
// panic, never an identity, never a store error (the parser must refuse
// junk before any store is asked).
func FuzzCookieHeader(f *testing.F) {
	f.Add("__Host-rampart-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("__Host-rampart-session=; __Host-rampart-session=x")
	f.Add(`__Host-rampart-session="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"`)
	f.Add("a=b; c")
	m, err := session.New(failingStore{}, session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cookie string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = http.Header{"Cookie": {cookie}}
		id, err := m.Authenticate(r)
		if id != nil {
			t.Fatalf("identity from %q", cookie)
		}
		if err != nil {
			// Only a well-formed id may reach the (failing) store.
			c, cerr := r.Cookie(m.CookieName())
			if cerr != nil {
				t.Fatalf("store asked for %q without a session cookie", cookie)
			}
			if _, ok := session.ParseID(c.Value); !ok {
				t.Fatalf("store asked for malformed id %q", c.Value)
			}
		}
	})
}
