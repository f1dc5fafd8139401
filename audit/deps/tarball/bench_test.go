package tarball_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/tarball"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

// BenchmarkRead reads a 200-file package of about 1 MiB.
func BenchmarkRead(b *testing.B) {
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("lib/f%d.js", i)] = strings.Repeat(fmt.Sprintf("exports.v%d = %d\n", i, i), 400)
	}
	data := npmregistrytest.Tarball(files)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if a, err := tarball.Read(data, tarball.Limits{}); err != nil || len(a.Files) != 200 {
			b.Fatal(err)
		}
	}
}
