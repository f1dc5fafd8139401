package cookies_test

import (
	"net/http"
	"testing"

	"github.com/rampartsec/rampart/cookies"
)

func BenchmarkHarden(b *testing.B) {
	h, err := cookies.New(cookies.Config{HTTPOnly: []string{"sid"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("already hardened", func(b *testing.B) {
		b.ReportAllocs()
		hdr := http.Header{"Set-Cookie": {"sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax"}}
		for b.Loop() {
			h.Harden(hdr, true)
		}
	})
	b.Run("bare cookie", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hdr := http.Header{"Set-Cookie": {"sid=abc; Path=/"}}
			h.Harden(hdr, true)
		}
	})
	b.Run("no cookie", func(b *testing.B) {
		b.ReportAllocs()
		hdr := http.Header{"Content-Type": {"text/html"}}
		for b.Loop() {
			h.Harden(hdr, true)
		}
	})
}
