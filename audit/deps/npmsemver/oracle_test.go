package npmsemver_test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/npmsemver"
)

type oracle struct {
	Generator string `json:"generator"`
	Cases     []struct {
		Range  string   `json:"range"`
		Valid  bool     `json:"valid"`
		NPM    []string `json:"npm"`
		Strict []string `json:"strict"`
		Tested []string `json:"tested"`
	} `json:"cases"`
}

// TestNodeSemverOracle replays node-semver's own answers: for every range
// of the legacy npm advisories, of npm's audit fixture and of a set of
// grammar corners, which of a set of nearby versions satisfy it, once with
// npm audit's options and once with the strict defaults.
func TestNodeSemverOracle(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/node-semver-oracle.json")
	if err != nil {
		t.Fatal(err)
	}
	var o oracle
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Cases) < 500 {
		t.Fatalf("got %d oracle cases, want at least 500", len(o.Cases))
	}
	for _, c := range o.Cases {
		t.Run(c.Range, func(t *testing.T) {
			t.Parallel()
			for _, mode := range []struct {
				name string
				opts npmsemver.Options
				want []string
			}{
				{"npm audit", npmsemver.NPMAudit, c.NPM},
				{"strict", npmsemver.Options{}, c.Strict},
			} {
				r, err := npmsemver.ParseRange(c.Range, mode.opts)
				if !c.Valid {
					if err == nil && mode.opts == npmsemver.NPMAudit {
						t.Errorf("%s: got a valid range, want an error", mode.name)
					}
					continue
				}
				if err != nil {
					if mode.opts == npmsemver.NPMAudit {
						t.Errorf("%s: got %v, want a valid range", mode.name, err)
					} else if len(mode.want) > 0 {
						t.Errorf("%s: got %v, want a range satisfied by %v", mode.name, err, mode.want)
					}
					continue
				}
				var got []string
				for _, s := range c.Tested {
					v, err := npmsemver.ParseVersion(s, mode.opts)
					if err == nil && r.Contains(v) {
						got = append(got, s)
					}
				}
				if !slices.Equal(got, mode.want) {
					t.Errorf("%s: got %v, want %v", mode.name, got, mode.want)
				}
			}
		})
	}
}
