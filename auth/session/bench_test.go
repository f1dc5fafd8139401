package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/session"
)

// benchAuthenticate measures the per-request session check: cookie parse,
// one store read, deadline checks (the activity write happens at most once
// a minute, so it is off this path).
func benchAuthenticate(b *testing.B, s session.Store) {
	m, err := session.New(s, session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	_, c := login(b, m, "alice", []string{"admin"})
	r := httptest.NewRequest("GET", "/notes", nil)
	r.AddCookie(c)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		id, err := m.Authenticate(r)
		if err != nil || id == nil {
			b.Fatal(id, err)
		}
	}
}

func BenchmarkAuthenticateSQLite(b *testing.B) { benchAuthenticate(b, newSQLiteStore(b)) }

// BenchmarkAuthenticateSQLiteCached is the gateway's default: the SQLite
// store behind the process cache (store.session_cache).
func BenchmarkAuthenticateSQLiteCached(b *testing.B) {
	s, err := session.NewCachedStore(newSQLiteStore(b), time.Minute, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchAuthenticate(b, s)
}

func BenchmarkAuthenticateRedis(b *testing.B) {
	s, err := session.NewRedisStore(startRedis(b), session.RedisConfig{})
	if err != nil {
		b.Fatal(err)
	}
	benchAuthenticate(b, s)
}

func BenchmarkAuthenticateParallelSQLite(b *testing.B) {
	m, _ := session.New(newSQLiteStore(b), session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour})
	_, c := login(b, m, "alice", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(c)
		for pb.Next() {
			if id, err := m.Authenticate(r); err != nil || id == nil {
				b.Fatal(id, err)
			}
		}
	})
}

func BenchmarkAuthenticateNoCookie(b *testing.B) {
	m, _ := session.New(failingStore{}, session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header = http.Header{"Cookie": {"theme=dark; lang=en"}}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Authenticate(r)
	}
}

func BenchmarkParseID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = session.ParseID("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	}
}
