package canonical_test

import (
	"net/http"
	"testing"

	"github.com/rampartsec/rampart/access/canonical"
)

func BenchmarkPath(b *testing.B) {
	cases := map[string]string{
		"canonical":      "/api/v1/items/12345/comments/",
		"canonical-utf8": "/shop/caf%C3%A9/menu",
		"rewrite":        "/api/%7euser/caf%c3%a9",
		"refused":        "/public/..%2fadmin",
	}
	for name, p := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = canonical.Path(p)
			}
		})
	}
}

func BenchmarkRequest(b *testing.B) {
	r, err := http.ReadRequest(bufioReader("GET /api/v1/items/12345?sort=asc HTTP/1.1\r\nHost: app.example.com\r\n\r\n"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := canonical.Request(r); err != nil {
			b.Fatal(err)
		}
	}
}
