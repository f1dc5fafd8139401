package deps_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/semver"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/npmaudit"
	"github.com/rampartsec/rampart/audit/deps/osv"
)

const nycDir = "testdata/npm-audit-oracle/audit-nyc-mkdirp"

func loadDB(t testing.TB, dirs ...string) *osv.DB {
	t.Helper()
	db := osv.NewDB()
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(d, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v, err := osv.ParseRecord(data)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			db.Add(v)
		}
	}
	return db
}

func scan(t *testing.T, c deps.Config) *deps.Report {
	t.Helper()
	r, err := deps.Scan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// findingSet renders findings as "name@version id" lines, sorted.
func findingSet(r *deps.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Package+"@"+f.Version+" "+f.ID)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// npmDirectFindings reads npm's audit report and returns, for each package
// with advisories of its own ("via" objects), one "name@version id" line
// per advisory and installed version, the versions taken from the
// lockfile nodes npm lists.
func npmDirectFindings(t *testing.T) []string {
	t.Helper()
	var report struct {
		Vulnerabilities map[string]struct {
			Via   []json.RawMessage `json:"via"`
			Nodes []string          `json:"nodes"`
		} `json:"vulnerabilities"`
	}
	readJSON(t, filepath.Join(nycDir, "expected-npm-audit.bulk-endpoint.json"), &report)
	versions := lockfileV1NodeVersions(t, filepath.Join(nycDir, "package-lock.json"))
	var out []string
	for name, v := range report.Vulnerabilities {
		for _, raw := range v.Via {
			var via struct {
				Source json.Number `json:"source"`
			}
			if json.Unmarshal(raw, &via) != nil {
				continue // a string: the package is affected through another
			}
			for _, node := range v.Nodes {
				ver, ok := versions[node]
				if !ok {
					t.Fatalf("npm's node %s is not in the lockfile", node)
				}
				out = append(out, name+"@"+ver+" "+via.Source.String())
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// lockfileV1NodeVersions maps "node_modules/a/node_modules/b" paths to the
// versions of a lockfile v1.
func lockfileV1NodeVersions(t *testing.T, path string) map[string]string {
	t.Helper()
	type dep struct {
		Version      string          `json:"version"`
		Dependencies map[string]*dep `json:"dependencies"`
	}
	var lock struct {
		Dependencies map[string]*dep `json:"dependencies"`
	}
	readJSON(t, path, &lock)
	out := map[string]string{}
	var walk func(prefix string, ds map[string]*dep)
	walk = func(prefix string, ds map[string]*dep) {
		for name, d := range ds {
			p := prefix + "node_modules/" + name
			out[p] = d.Version
			walk(p+"/", d.Dependencies)
		}
	}
	walk("", lock.Dependencies)
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// replayServer serves the recorded bulk advisory answer and checks the
// request npm would make.
func replayServer(t *testing.T) *httptest.Server {
	t.Helper()
	answer, err := os.ReadFile(filepath.Join(nycDir, "advisory-bulk.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != npmaudit.BulkPath {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		var body map[string][]string
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &body); err != nil || !slices.Contains(body["handlebars"], "4.0.11") || !slices.Contains(body["minimist"], "0.0.8") {
			http.Error(w, "body is not a name→versions map holding the lockfile's versions", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNPMAuditOracle replays the advisory answer npm's own audit test was
// given, and checks that the npm source reports exactly the packages,
// versions and advisories npm reported as direct findings.
func TestNPMAuditOracle(t *testing.T) {
	t.Parallel()
	srv := replayServer(t)
	want := npmDirectFindings(t)
	if len(want) < 10 {
		t.Fatalf("got %d expected findings from npm's report, want at least 10", len(want))
	}
	r := scan(t, deps.Config{
		Paths:  []string{filepath.Join(nycDir, "package-lock.json")},
		Source: &npmaudit.Source{Registry: srv.URL, Client: &http.Client{Timeout: 10 * time.Second}},
	})
	if got := findingSet(r); !slices.Equal(got, want) {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if len(r.Gaps) != 0 {
		t.Errorf("got gaps %v, want none", r.Gaps)
	}
}

// TestNPMAuditOracleOffline converts the same advisories to OSV records
// and checks the offline matcher finds the same.
func TestNPMAuditOracleOffline(t *testing.T) {
	t.Parallel()
	var bulk npmaudit.Response
	readJSON(t, filepath.Join(nycDir, "advisory-bulk.json"), &bulk)
	db := osv.NewDB()
	for name, advs := range bulk {
		for _, a := range advs {
			v, err := npmaudit.ToOSV(name, a)
			if err != nil {
				t.Fatal(err)
			}
			db.Add(v)
		}
	}
	r := scan(t, deps.Config{Paths: []string{filepath.Join(nycDir, "package-lock.json")}, Source: deps.OSVSource{DB: db}})
	var got []string
	for _, f := range findingSet(r) {
		got = append(got, strings.Replace(f, " NPM-", " ", 1))
	}
	if want := npmDirectFindings(t); !slices.Equal(got, want) {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestOSVScannerOracle checks offline OSV matching against osv-scanner's
// answers for the same lockfiles and records.
func TestOSVScannerOracle(t *testing.T) {
	t.Parallel()
	db := loadDB(t, "testdata/advisories/osv-npm-ghsa")
	tests := []struct{ name, lock, oracle string }{
		{"npm scratch project", "testdata/osv-scanner-oracle/npm-scratch-project/package-lock.json", "testdata/osv-scanner-oracle/npm-scratch-project/osv-scanner-2.5.0.json"},
		{"npm audit fixture", filepath.Join(nycDir, "package-lock.json"), "testdata/osv-scanner-oracle/audit-nyc-mkdirp.osv-scanner-2.5.0.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out struct {
				Results []struct {
					Packages []struct {
						Package struct{ Name, Version string }
						Groups  []struct {
							IDs []string `json:"ids"`
						} `json:"groups"`
					} `json:"packages"`
				} `json:"results"`
			}
			readJSON(t, tt.oracle, &out)
			var want []string
			for _, res := range out.Results {
				for _, p := range res.Packages {
					for _, g := range p.Groups {
						want = append(want, p.Package.Name+"@"+p.Package.Version+" "+g.IDs[0])
					}
				}
			}
			sort.Strings(want)
			r := scan(t, deps.Config{Paths: []string{tt.lock}, Source: deps.OSVSource{DB: db}})
			if got := findingSet(r); !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// naiveAffected evaluates a record the simplest way the OSV schema allows,
// for Go SEMVER ranges, as an independent check of the indexed matcher.
func naiveAffected(v *osv.Vulnerability, name, version string) bool {
	if v.Withdrawn != nil {
		return false
	}
	canon := func(s string) string {
		if s == "0" {
			return ""
		}
		return "v" + s
	}
	for _, a := range v.Affected {
		if a.Package.Ecosystem != "Go" || a.Package.Name != name {
			continue
		}
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" {
				continue
			}
			events := slices.Clone(r.Events)
			key := func(e osv.Event) string { return canon(e.Introduced + e.Fixed + e.LastAffected) }
			slices.SortStableFunc(events, func(x, y osv.Event) int { return semver.Compare(key(x), key(y)) })
			affected := false
			for _, e := range events {
				switch {
				case e.Introduced != "" && (e.Introduced == "0" || semver.Compare("v"+version, "v"+e.Introduced) >= 0):
					affected = true
				case e.Fixed != "" && semver.Compare("v"+version, "v"+e.Fixed) >= 0:
					affected = false
				}
			}
			if affected {
				return true
			}
		}
	}
	return false
}

// TestGoFixturesAgainstVulnDB checks that, for every go.mod fixture, the
// findings are exactly the records a direct reading of the advisories says
// affect each module version, pseudo-versions and replacements included.
func TestGoFixturesAgainstVulnDB(t *testing.T) {
	t.Parallel()
	dir := "testdata/advisories/osv-go-vulndb"
	db := loadDB(t, dir)
	var records []*osv.Vulnerability
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		v, _ := osv.ParseRecord(data)
		records = append(records, v)
	}
	mods, _ := filepath.Glob("lockfile/testdata/osv-scalibr/gomod/*.mod")
	if len(mods) < 10 {
		t.Fatalf("got %d go.mod fixtures, want at least 10", len(mods))
	}
	total := 0
	for _, mod := range mods {
		if strings.Contains(mod, "not-go-mod") || strings.Contains(mod, "empty.mod") { // not detectable as go.mod by content or name
			continue
		}
		t.Run(filepath.Base(mod), func(t *testing.T) {
			r := scan(t, deps.Config{Paths: []string{mod}, Source: deps.OSVSource{DB: db}, GoVersion: "1.20.1"})
			var want []string
			for _, p := range r.Packages {
				name, version := p.Name, p.Version
				if p.Origin == "local" {
					continue
				}
				if name == lockfile.StdlibName {
					version = "1.20.1"
				}
				for _, v := range records {
					if naiveAffected(v, name, version) {
						want = append(want, name+"@"+version+" "+v.ID)
					}
					if name == lockfile.StdlibName && naiveAffected(v, "toolchain", version) {
						want = append(want, "toolchain@"+version+" "+v.ID)
					}
				}
			}
			sort.Strings(want)
			got := findingSet(r)
			total += len(got)
			if !slices.Equal(got, want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
	if total < 20 {
		t.Errorf("got %d findings over all fixtures, want at least 20", total)
	}
	// Spot checks a reader of the advisories can verify by hand.
	spot := []struct{ mod, want string }{
		{"indirect-packages.mod", "golang.org/x/sys@0.0.0-20210630005230-0f9fa26af87c GO-2022-0493"},
		{"indirect-1.23.mod", "stdlib@1.20.1 GO-2023-1621"},
	}
	for _, s := range spot {
		r := scan(t, deps.Config{Paths: []string{"lockfile/testdata/osv-scalibr/gomod/" + s.mod}, Source: deps.OSVSource{DB: db}, GoVersion: "1.20.1"})
		if !slices.Contains(findingSet(r), s.want) {
			t.Errorf("%s: got %q, want it to contain %q", s.mod, findingSet(r), s.want)
		}
	}
	// A replaced module is matched under its replacement only.
	r := scan(t, deps.Config{Paths: []string{"lockfile/testdata/osv-scalibr/gomod/replace-one.mod"}, Source: deps.OSVSource{DB: db}})
	for _, f := range r.Findings {
		if f.Package == "golang.org/x/net" {
			t.Errorf("got a finding for the replaced module: %+v", f)
		}
	}
}
