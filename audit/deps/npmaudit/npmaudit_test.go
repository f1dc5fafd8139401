package npmaudit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/npmaudit"
	"github.com/rampartsec/rampart/audit/deps/npmsemver"
	"github.com/rampartsec/rampart/audit/deps/osv"
)

type legacy struct {
	ID                 json.Number `json:"id"`
	ModuleName         string      `json:"module_name"`
	VulnerableVersions string      `json:"vulnerable_versions"`
	PatchedVersions    string      `json:"patched_versions"`
	CVEs               []string    `json:"cves"`
}

var numbers = regexp.MustCompile(`\d+(\.\d+){0,2}(-[0-9A-Za-z.]+)?`)

// probeVersions returns versions around every number a range names.
func probeVersions(rng string) []string {
	out := []string{"0.0.0", "0.0.1", "1.0.0", "99.0.0"}
	for _, m := range numbers.FindAllString(rng, -1) {
		v, err := npmsemver.ParseVersion(m, npmsemver.NPMAudit)
		if err != nil {
			parts := strings.SplitN(m, ".", 3)
			for len(parts) < 3 {
				parts = append(parts, "0")
			}
			if v, err = npmsemver.ParseVersion(strings.Join(parts, "."), npmsemver.NPMAudit); err != nil {
				continue
			}
		}
		s := v.Successor()
		out = append(out, v.String(), s.String(), npmsemver.Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch + 1}.String(),
			npmsemver.Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch, Prerelease: []string{"beta", "1"}}.String())
		if v.Patch > 0 {
			out = append(out, npmsemver.Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch - 1}.String())
		}
	}
	return out
}

// TestLegacyAdvisoriesAsOSV converts every advisory of the Node.js
// Security WG's npm set to OSV and checks that the OSV matcher accepts
// exactly the versions npm's range test accepts.
func TestLegacyAdvisoriesAsOSV(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/legacy-nodejs-security-wg-npm/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 400 {
		t.Fatalf("got %d advisories, want at least 400", len(files))
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var a legacy
		if err := json.Unmarshal(data, &a); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			adv := npmaudit.Advisory{ID: a.ID, VulnerableVersions: a.VulnerableVersions, Severity: "high"}
			rec, err := npmaudit.ToOSV(a.ModuleName, adv)
			if err != nil {
				t.Fatal(err)
			}
			db := osv.NewDB()
			db.Add(rec)
			r, err := npmsemver.ParseRange(a.VulnerableVersions, npmsemver.NPMAudit)
			if err != nil {
				t.Fatal(err)
			}
			patched, perr := npmsemver.ParseRange(a.PatchedVersions, npmsemver.NPMAudit)
			for _, vs := range probeVersions(a.VulnerableVersions + " " + a.PatchedVersions) {
				v, err := npmsemver.ParseVersion(vs, npmsemver.NPMAudit)
				if err != nil {
					t.Fatal(err)
				}
				ms, err := db.Lookup("npm", a.ModuleName, vs)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := len(ms) > 0, r.Contains(v); got != want {
					t.Errorf("%s against %q: got OSV affected=%v, want %v", vs, a.VulnerableVersions, got, want)
				}
				// Through the npm source's own decision as well.
				advs, bad := npmaudit.Affecting([]npmaudit.Advisory{adv}, vs)
				if bad != "" || (len(advs) > 0) != r.Contains(v) {
					t.Errorf("%s: got Affecting %v %q, want %v", vs, advs, bad, r.Contains(v))
				}
				if perr == nil && a.PatchedVersions != "" && patched.Contains(v) && r.Contains(v) && !strings.Contains(a.VulnerableVersions, "*") {
					t.Logf("%s is both vulnerable and patched in advisory %s (the advisory's own overlap)", vs, a.ID)
				}
				checked++
			}
		})
	}
	if checked < 5000 {
		t.Errorf("got %d version checks, want at least 5000", checked)
	}
}

func TestSourceCheck(t *testing.T) {
	t.Parallel()
	answer := `{"a":[{"id":1,"url":"https://github.com/advisories/GHSA-aaaa-bbbb-cccc","title":"T","severity":"moderate","vulnerable_versions":"<2.0.0"}],
"bad":[{"id":2,"url":"u","title":"B","severity":"high","vulnerable_versions":"not a range"}]}`
	var got map[string][]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		w.Write([]byte(answer))
	}))
	defer srv.Close()
	s := &npmaudit.Source{Registry: srv.URL + "/", Client: srv.Client()}
	qs := []deps.Query{
		{Ecosystem: "npm", Name: "a", Version: "1.5.0"},
		{Ecosystem: "npm", Name: "a", Version: "2.0.0"},
		{Ecosystem: "npm", Name: "bad", Version: "1.0.0"},
		{Ecosystem: "npm", Name: "clean", Version: "1.0.0"},
		{Ecosystem: "Go", Name: "golang.org/x/net", Version: "0.1.0"},
	}
	ans, unchecked, err := s.Check(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got["a"]) != 2 || got["golang.org/x/net"] != nil {
		t.Errorf("got request body %v, want npm names with their versions only", got)
	}
	if advs := ans[qs[0]]; len(advs) != 1 || advs[0].ID != "1" || advs[0].Aliases[0] != "GHSA-aaaa-bbbb-cccc" || advs[0].Severity != osv.SeverityModerate {
		t.Errorf("got %+v, want advisory 1 aliased GHSA-aaaa-bbbb-cccc", advs)
	}
	if advs, ok := ans[qs[1]]; !ok || len(advs) != 0 {
		t.Errorf("got %v %v, want a clean answer for the fixed version", advs, ok)
	}
	if advs, ok := ans[qs[3]]; !ok || len(advs) != 0 {
		t.Errorf("got %v %v, want a clean answer for a package without advisories", advs, ok)
	}
	if len(unchecked) != 2 {
		t.Fatalf("got unchecked %+v, want the unreadable range and the Go module", unchecked)
	}
}

func TestFetchErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"server error", "oops", http.StatusInternalServerError, "answered 500"},
		{"not json", "<html>", http.StatusOK, "not an advisory list"},
		{"wrong shape", `{"a": {"id": 1}}`, http.StatusOK, "not an advisory list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			s := &npmaudit.Source{Registry: srv.URL, Client: srv.Client()}
			_, err := s.Fetch(context.Background(), map[string][]string{"a": {"1.0.0"}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := npmaudit.Endpoint("file:///etc/passwd"); err == nil {
		t.Error("got nil error for a file URL, want one")
	}
}
