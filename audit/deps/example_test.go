package deps_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/osv"
)

func ExampleScan() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(`{"lockfileVersion": 3, "packages": {
  "node_modules/minimist": {"version": "1.2.0", "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.0.tgz", "integrity": "sha1-o1AIsg9BOD7sH7kU9M1d95omQoQ="}}}`), 0o644)

	db := osv.NewDB()
	rec, _ := osv.ParseRecord([]byte(`{"id": "GHSA-vh95-rmgr-6w4m", "aliases": ["CVE-2020-7598"],
  "database_specific": {"severity": "MODERATE"},
  "affected": [{"package": {"ecosystem": "npm", "name": "minimist"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.3"}]}]}]}`))
	db.Add(rec)

	r, err := deps.Scan(context.Background(), deps.Config{Paths: []string{dir}, Source: deps.OSVSource{DB: db}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range r.Findings {
		fmt.Println(f.Package, f.Version, f.ID, f.Aliases, f.Severity, f.Fixed)
	}
	for _, s := range r.Signals {
		fmt.Println(s.Kind, s.Package)
	}
	fmt.Println("clean:", r.Clean())
	// Output:
	// minimist 1.2.0 GHSA-vh95-rmgr-6w4m [CVE-2020-7598] moderate [1.2.3]
	// weak-integrity minimist
	// clean: true
}
