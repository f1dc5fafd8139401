package osv_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/osv"
)

func record(t *testing.T, js string) *osv.Vulnerability {
	t.Helper()
	v, err := osv.ParseRecord([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ids(ms []osv.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Vuln.ID+" fixed="+strings.Join(m.Fixed, ","))
	}
	return out
}

func TestLookupRangeSemantics(t *testing.T) {
	t.Parallel()
	db := osv.NewDB()
	for _, js := range []string{
		`{"id":"A-semver","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"},{"introduced":"2.0.0"},{"fixed":"2.3.1"}]}]}]}`,
		`{"id":"B-last","affected":[{"package":{"ecosystem":"npm","name":"b"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0.0"},{"last_affected":"1.4.0"}]}]}]}`,
		`{"id":"C-git-first","affected":[{"package":{"ecosystem":"npm","name":"c"},"ranges":[{"type":"GIT","repo":"https://example.com/c","events":[{"introduced":"0"},{"fixed":"abcdef1"}]},{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"3.0.0"}]}]}]}`,
		`{"id":"D-limit","affected":[{"package":{"ecosystem":"npm","name":"d"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"1.5.0"}]}]}]}`,
		`{"id":"E-withdrawn","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`,
		`{"id":"F-versions","affected":[{"package":{"ecosystem":"npm","name":"f"},"versions":["1.0.0","1.0.1"]}]}`,
		`{"id":"G-go","affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.0.0-20220906165146-f3363e06e74c"}]}]}]}`,
		`{"id":"H-incompatible","affected":[{"package":{"ecosystem":"Go","name":"github.com/x/y"},"ranges":[{"type":"SEMVER","events":[{"introduced":"2.0.0"},{"fixed":"2.5.0"}]}]}]}`,
		`{"id":"I-stdlib","affected":[{"package":{"ecosystem":"Go","name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.20.8"},{"introduced":"1.21.0-0"},{"fixed":"1.21.1"}]}]}]}`,
		`{"id":"J-debian","affected":[{"package":{"ecosystem":"Debian:11","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`,
	} {
		db.Add(record(t, js))
	}
	tests := []struct {
		name, eco, pkg, version string
		want                    []string
	}{
		{"first interval", "npm", "a", "1.1.9", []string{"A-semver fixed=1.2.0"}},
		{"prerelease of fix is still affected", "npm", "a", "1.2.0-rc.1", []string{"A-semver fixed=1.2.0"}},
		{"at fix", "npm", "a", "1.2.0", nil},
		{"gap between intervals", "npm", "a", "1.9.9", nil},
		{"second interval", "npm", "a", "2.3.0", []string{"A-semver fixed=2.3.1"}},
		{"prerelease of introduced is before it", "npm", "a", "2.0.0-beta", nil},
		{"last affected inclusive", "npm", "b", "1.4.0", []string{"B-last fixed="}},
		{"after last affected", "npm", "b", "1.4.1", nil},
		{"git range first does not stop semver", "npm", "c", "2.9.0", []string{"C-git-first fixed=3.0.0"}},
		{"below limit", "npm", "d", "1.4.9", []string{"D-limit fixed="}},
		{"at limit", "npm", "d", "1.5.0", nil},
		{"versions list", "npm", "f", "1.0.1", []string{"F-versions fixed="}},
		{"versions list miss", "npm", "f", "1.0.2", nil},
		{"pseudo-version before fix", "Go", "golang.org/x/net", "0.0.0-20210226172049-e18ecbb05110", []string{"G-go fixed=0.0.0-20220906165146-f3363e06e74c"}},
		{"pseudo-version after fix", "Go", "golang.org/x/net", "0.0.0-20221004154528-8021a29435af", nil},
		{"release after pseudo fix", "Go", "golang.org/x/net", "0.1.0", nil},
		{"incompatible", "Go", "github.com/x/y", "2.4.0+incompatible", []string{"H-incompatible fixed=2.5.0"}},
		{"go directive version", "Go", "stdlib", "1.20", []string{"I-stdlib fixed=1.20.8"}},
		{"go release candidate", "Go", "stdlib", "1.21rc2", []string{"I-stdlib fixed=1.21.1"}},
		{"go patched", "Go", "stdlib", "1.21.1", nil},
		{"other ecosystem ignored", "npm", "zzz", "1.0.0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := db.Lookup(tt.eco, tt.pkg, tt.version)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("got %q, want %q", ids(got), tt.want)
			}
		})
	}
	if _, err := db.Lookup("npm", "a", "not-a-version"); err == nil {
		t.Error("got nil error for an unreadable version, want one")
	}
}

func TestCVSS3BaseScore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vector string
		want   float64
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			t.Parallel()
			got, err := osv.CVSS3BaseScore(tt.vector)
			if err != nil || got != tt.want {
				t.Errorf("got %v %v, want %v", got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "CVSS:2.0/AV:N", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Q/C:H/I:H/A:H"} {
		if _, err := osv.CVSS3BaseScore(bad); err == nil {
			t.Errorf("got nil error for %q, want one", bad)
		}
	}
}

func TestSeverityOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, js string
		want     osv.Severity
	}{
		{"cvss wins", `{"id":"X","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"database_specific":{"severity":"LOW"}}`, osv.SeverityCritical},
		{"database specific", `{"id":"X","database_specific":{"severity":"MODERATE"}}`, osv.SeverityModerate},
		{"nothing", `{"id":"GO-2024-0001"}`, osv.SeverityUnknown},
		{"malicious", `{"id":"MAL-2024-1","database_specific":{"severity":"LOW"}}`, osv.SeverityCritical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, _ := osv.SeverityOf(record(t, tt.js)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadDirAndZip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := `{"id":"GHSA-1","modified":"2024-05-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "GHSA-1.json"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("GO-1.json")
	json.NewEncoder(w).Encode(map[string]any{"id": "GO-1", "modified": "2025-01-01T00:00:00Z", "affected": []any{map[string]any{"package": map[string]string{"ecosystem": "Go", "name": "m"}, "versions": []string{"1.0.0"}}}})
	zw.Close()
	if err := os.MkdirAll(filepath.Join(dir, "Go"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Go", "all.zip"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := osv.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if db.Records() != 2 || db.Newest().Year() != 2025 {
		t.Errorf("got %d records newest %v, want 2 and 2025", db.Records(), db.Newest())
	}
	if m, _ := db.Lookup("Go", "m", "1.0.0"); len(m) != 1 {
		t.Errorf("got %d matches from the zip, want 1", len(m))
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := osv.Load(dir); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("got %v, want an error naming bad.json", err)
	}
}

func TestLoadKeepsSeverityAndSummary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := `{"id":"GHSA-2","details":"First line.\nMore.","references":[{"type":"WEB","url":"https://example.com"}],"database_specific":{"severity":"HIGH","cwe_ids":["CWE-1"]},"affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1.0.0"]}]}`
	if err := os.WriteFile(filepath.Join(dir, "GHSA-2.json"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := osv.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := db.Lookup("npm", "a", "1.0.0")
	if len(ms) != 1 {
		t.Fatalf("got %d matches, want 1", len(ms))
	}
	if sev, _ := osv.SeverityOf(ms[0].Vuln); sev != osv.SeverityHigh || ms[0].Vuln.Summary != "First line." {
		t.Errorf("got severity %v summary %q, want high and the first line of details", sev, ms[0].Vuln.Summary)
	}
}
