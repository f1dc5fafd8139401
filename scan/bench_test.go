package scan_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/scan"
)

// BenchmarkRun measures one whole scan of a loopback site: ten exchanges,
// the grading and the verdicts.
func BenchmarkRun(b *testing.B) {
	site := httptest.NewServer(page(goodHeaders))
	defer site.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scan.Run(context.Background(), scan.Config{URL: site.URL}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteTable(b *testing.B) {
	site := httptest.NewServer(page(nil))
	defer site.Close()
	rep, err := scan.Run(context.Background(), scan.Config{URL: site.URL})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := scan.WriteTable(io.Discard, rep); err != nil {
			b.Fatal(err)
		}
	}
}
