package inspect_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/inspect"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/registry"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

// benchPackage returns the files of an ordinary small package: a
// package.json, an index, a few modules of about 4 KiB each.
func benchPackage(i int) map[string]string {
	files := map[string]string{"package.json": fmt.Sprintf(`{"name":"bench-pkg-%d","version":"1.0.%d","main":"index.js"}`, i, i)}
	var idx strings.Builder
	idx.WriteString("'use strict'\n")
	for m := range 4 {
		fmt.Fprintf(&idx, "exports.m%d = require('./lib/m%d')\n", m, m)
		var b strings.Builder
		b.WriteString("'use strict'\nconst path = require('path')\n")
		for f := 0; b.Len() < 4096; f++ {
			fmt.Fprintf(&b, "function f%[1]d (a, b) {\n  const o = { a, b, k: 'key-%[1]d' }\n  return Object.keys(o).map((k) => path.join(k, String(o[k]))).join(',')\n}\nexports.f%[1]d = f%[1]d\n", f)
		}
		files[fmt.Sprintf("lib/m%d.js", m)] = b.String()
	}
	files["index.js"] = idx.String()
	files["README.md"] = strings.Repeat("Documentation line.\n", 100)
	return files
}

// BenchmarkInspectCached inspects 1,000 packages whose archives are in the
// cache: no network, the whole read-verify-parse path.
func BenchmarkInspectCached(b *testing.B) {
	cache := &registry.Cache{Dir: b.TempDir()}
	pkgs := make([]inspect.Package, 0, 1000)
	var bytes int64
	for i := range 1000 {
		tgz := npmregistrytest.Tarball(benchPackage(i))
		integ := npmregistrytest.Integrity(tgz)
		if err := cache.Put(integ, tgz); err != nil {
			b.Fatal(err)
		}
		bytes += int64(len(tgz))
		pkgs = append(pkgs, inspect.Package{Source: "package-lock.json", Package: lockfile.Package{
			Name: fmt.Sprintf("bench-pkg-%d", i), Version: fmt.Sprintf("1.0.%d", i), Ecosystem: lockfile.EcosystemNPM, Integrity: integ}})
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := inspect.Run(ctx, inspect.Config{Cache: cache, Concurrency: 2}, pkgs)
		if err != nil {
			b.Fatal(err)
		}
		if res.Inspected != 1000 || len(res.Gaps) != 0 {
			b.Fatalf("got %d inspected, gaps %v", res.Inspected, res.Gaps)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "µs/package")
	_ = bytes
}
