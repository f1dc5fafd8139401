package lockfile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/lockfile"
)

// syntheticNPMLock returns a lockfile v3 with n packages, nested one level
// for every tenth, like a mid-sized web application.
func syntheticNPMLock(n int) []byte {
	var b strings.Builder
	b.WriteString("{\n  \"name\": \"app\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {\"name\": \"app\"}")
	for i := range n {
		key := fmt.Sprintf("node_modules/pkg-%d", i)
		if i%10 == 9 {
			key = fmt.Sprintf("node_modules/pkg-%d/node_modules/dep-%d", i-1, i)
		}
		fmt.Fprintf(&b, ",\n    %q: {\n      \"version\": \"%d.%d.%d\",\n      \"resolved\": \"https://registry.npmjs.org/pkg-%d/-/pkg-%d-1.0.0.tgz\",\n      \"integrity\": \"sha512-%040d\",\n      \"dependencies\": {\"x\": \"^1.0.0\"}\n    }", key, i%7, i%13, i%5, i, i, i)
	}
	b.WriteString("\n  }\n}\n")
	return []byte(b.String())
}

func BenchmarkParseNPM2000(b *testing.B) {
	data := syntheticNPMLock(2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := lockfile.ParseNPM("package-lock.json", data)
		if err != nil || len(f.Packages) != 2000 {
			b.Fatalf("got %v, %d packages", err, len(f.Packages))
		}
	}
}

func BenchmarkParseYarn2000(b *testing.B) {
	var s strings.Builder
	s.WriteString("# yarn lockfile v1\n\n")
	for i := range 2000 {
		fmt.Fprintf(&s, "pkg-%d@^1.0.0:\n  version \"1.0.%d\"\n  resolved \"https://registry.yarnpkg.com/pkg-%d/-/pkg-%d-1.0.%d.tgz#0000000000000000000000000000000000000000\"\n  integrity sha512-abc\n  dependencies:\n    x \"^1\"\n\n", i, i, i, i, i)
	}
	data := []byte(s.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := lockfile.ParseYarn("yarn.lock", data)
		if err != nil || len(f.Packages) != 2000 {
			b.Fatalf("got %v, %d packages", err, len(f.Packages))
		}
	}
}

func BenchmarkParsePnpm2000(b *testing.B) {
	var s strings.Builder
	s.WriteString("lockfileVersion: '9.0'\n\npackages:\n\n")
	for i := range 2000 {
		fmt.Fprintf(&s, "  pkg-%d@1.0.%d:\n    resolution: {integrity: sha512-abc}\n    engines: {node: '>=12'}\n\n", i, i)
	}
	data := []byte(s.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := lockfile.ParsePnpm("pnpm-lock.yaml", data)
		if err != nil || len(f.Packages) != 2000 {
			b.Fatalf("got %v, %d packages", err, len(f.Packages))
		}
	}
}

// BenchmarkParseNPM100000 measures a very large lockfile: bytes allocated
// per op are the parse's share of the audit's memory bound (see
// docs/audit-deps.md, "Memory").
func BenchmarkParseNPM100000(b *testing.B) {
	data := syntheticNPMLock(100000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lockfile.ParseNPM("package-lock.json", data); err != nil {
			b.Fatal(err)
		}
	}
}
