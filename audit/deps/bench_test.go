package deps_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/npmaudit"
	"github.com/rampartsec/rampart/audit/deps/osv"
	"github.com/rampartsec/rampart/internal/testutil"
)

// fullDB loads every advisory the tests ship: the Go vulnerability
// database subset, the GitHub npm records, and the 468 legacy npm
// advisories converted to OSV.
func fullDB(tb testing.TB) (*osv.DB, []string) {
	tb.Helper()
	db := loadDB(tb, "testdata/advisories/osv-go-vulndb", "testdata/advisories/osv-npm-ghsa")
	files, err := filepath.Glob("npmaudit/testdata/legacy-nodejs-security-wg-npm/*.json")
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var a struct {
			ID                 json.Number `json:"id"`
			ModuleName         string      `json:"module_name"`
			VulnerableVersions string      `json:"vulnerable_versions"`
		}
		if err := json.Unmarshal(data, &a); err != nil {
			tb.Fatal(err)
		}
		v, err := npmaudit.ToOSV(a.ModuleName, npmaudit.Advisory{ID: a.ID, VulnerableVersions: a.VulnerableVersions, Severity: "high"})
		if err != nil {
			tb.Fatal(err)
		}
		db.Add(v)
		if a.ModuleName != "" {
			names = append(names, a.ModuleName)
		}
	}
	return db, names
}

// benchLockfile writes a lockfile v3 of n packages, the advisories'
// package names first (at old versions, so that many match), then
// filler names.
func benchLockfile(tb testing.TB, names []string, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("{\n  \"name\": \"bench\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {\"name\": \"bench\"}")
	seen := map[string]bool{}
	count := 0
	for i := 0; count < n; i++ {
		name := fmt.Sprintf("filler-%d", i)
		if i < len(names) {
			name = names[i]
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		version := fmt.Sprintf("%d.%d.%d", i%4, i%10, i%7)
		fmt.Fprintf(&b, ",\n    \"node_modules/%s\": {\"version\": %q, \"resolved\": \"https://registry.npmjs.org/%s/-/x-%s.tgz\", \"integrity\": \"sha512-%040d\"}", name, version, name, version, i)
		count++
	}
	b.WriteString("\n  }\n}\n")
	path := filepath.Join(tb.TempDir(), "package-lock.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkParse2000 measures reading a 2,000-package lockfile.
func BenchmarkParse2000(b *testing.B) {
	_, names := fullDB(b)
	path := benchLockfile(b, names, 2000)
	b.ReportAllocs()
	for b.Loop() {
		f, err := lockfile.ReadFile(path)
		if err != nil || len(f.Packages) != 2000 {
			b.Fatalf("got %v, %d packages", err, len(f.Packages))
		}
	}
}

// BenchmarkMatch2000 measures matching 2,000 packages against the full
// advisory set, the lockfile already parsed.
func BenchmarkMatch2000(b *testing.B) {
	db, names := fullDB(b)
	path := benchLockfile(b, names, 2000)
	f, err := lockfile.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	src := deps.OSVSource{DB: db}
	var qs []deps.Query
	for _, p := range f.Packages {
		qs = append(qs, deps.Query{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := src.Check(context.Background(), qs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScan2000 measures the whole scan: read, match, signals, merge.
func BenchmarkScan2000(b *testing.B) {
	db, names := fullDB(b)
	path := benchLockfile(b, names, 2000)
	b.ReportAllocs()
	for b.Loop() {
		r, err := deps.Scan(context.Background(), deps.Config{Paths: []string{path}, Source: deps.OSVSource{DB: db}})
		if err != nil || r.Scanned != 2000 || len(r.Findings) == 0 {
			b.Fatalf("got %v, %d scanned, %d findings", err, r.Scanned, len(r.Findings))
		}
	}
}

// BenchmarkLoadDB measures loading the full advisory set from files.
func BenchmarkLoadDB(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		loadDB(b, "testdata/advisories/osv-go-vulndb", "testdata/advisories/osv-npm-ghsa")
	}
}

// TestScanSpeed keeps the scan of 2,000 packages well under a second.
func TestScanSpeed(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("timing test")
	}
	db, names := fullDB(t)
	path := benchLockfile(t, names, 2000)
	cfg := deps.Config{Paths: []string{path}, Source: deps.OSVSource{DB: db}}
	// testing.Benchmark swallows b.Fatal: check the scan works first, and
	// carry any error out of the benchmark to fail on it here.
	if _, err := deps.Scan(context.Background(), cfg); err != nil {
		t.Fatalf("scan: %v", err)
	}
	var scanErr error
	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := deps.Scan(context.Background(), cfg); err != nil && scanErr == nil {
				scanErr = err
			}
		}
	})
	if scanErr != nil {
		t.Fatalf("scan during the benchmark: %v", scanErr)
	}
	if res.N == 0 {
		t.Fatal("the benchmark did not run")
	}
	// The race detector slows this code about tenfold; the bound then only
	// catches gross regressions.
	limit := int64(500_000_000)
	if testutil.RaceEnabled {
		limit *= 10
	}
	if per := res.NsPerOp(); per > limit {
		t.Errorf("got %d ms per scan of 2,000 packages, want under %d ms", per/1_000_000, limit/1_000_000)
	}
}
