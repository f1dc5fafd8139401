package origin_test

import (
	"testing"

	"github.com/rampartsec/rampart/internal/origin"
)

func BenchmarkSetContains(b *testing.B) {
	set, err := origin.NewSet([]string{"https://app.example.com", "https://admin.example.com", "https://*.example.org"})
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range []struct{ name, origin string }{
		{"exact", "https://admin.example.com"},
		{"pattern", "https://tenant.example.org"},
		{"miss", "https://evil.example.net"},
	} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				set.Contains(in.origin)
			}
		})
	}
}
