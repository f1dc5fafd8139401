package deps_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/osvdb"
)

// TestSelfAudit audits rampart's own go.mod against the committed advisory
// snapshot with the toolchain running the test, as CI does with
// "rampart audit deps go.mod --db audit/deps/testdata/selfdb --go-version $(go env GOVERSION)".
func TestSelfAudit(t *testing.T) {
	t.Parallel()
	db, info, err := osvdb.Open("testdata/selfdb")
	if err != nil {
		t.Fatal(err)
	}
	if info.Records < 100 {
		t.Fatalf("got %d records in the snapshot, want at least 100", info.Records)
	}
	r := scan(t, deps.Config{Paths: []string{"../../go.mod"}, Source: deps.OSVSource{DB: db}, GoVersion: strings.TrimPrefix(runtime.Version(), "go")})
	if len(r.Findings) > 0 || !r.Clean() {
		t.Errorf("got findings %+v and gaps %v, want a clean audit", r.Findings, r.Gaps)
	}
}
