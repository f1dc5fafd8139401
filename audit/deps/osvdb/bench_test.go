package osvdb_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/osvdb"
)

func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	files := map[string]string{}
	for i := range 500 {
		files[fmt.Sprintf("GHSA-%d.json", i)] = record(fmt.Sprintf("GHSA-%d", i), "1.0.0")
	}
	t := &testing.T{}
	if err := os.MkdirAll(filepath.Join(dir, "npm"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "npm", "all.zip"), archive(t, files), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := osvdb.Open(dir); err != nil {
			b.Fatal(err)
		}
	}
}
