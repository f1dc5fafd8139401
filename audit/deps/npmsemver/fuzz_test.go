package npmsemver_test

import (
	"testing"

	"github.com/rampartsec/rampart/audit/deps/npmsemver"
)

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"^1.2.3", "~1.2", "1.x || >=2.5.0 <3", "1.2.3 - 2", ">= 1.0.0-beta", "*", "<=99.999.99999", "~> 1.2.3beta"} {
		f.Add(s, "1.2.3-beta.1")
	}
	f.Fuzz(func(t *testing.T, rng, version string) {
		for _, o := range []npmsemver.Options{{}, npmsemver.NPMAudit} {
			r, err := npmsemver.ParseRange(rng, o)
			if err != nil {
				continue
			}
			if v, err := npmsemver.ParseVersion(version, o); err == nil {
				r.Contains(v)
				// A version always equals itself.
				if v.Compare(v) != 0 {
					t.Fatalf("got %v != itself", v)
				}
			}
		}
	})
}
