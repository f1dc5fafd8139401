package npmsemver_test

import (
	"errors"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/npmsemver"
)

func TestCompare(t *testing.T) {
	t.Parallel()
	// Each version sorts strictly before the next (semver.org §11).
	order := []string{
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1-0", "1.0.1", "1.10.0", "2.0.0", "9007199254740991.0.0",
	}
	for i := 0; i+1 < len(order); i++ {
		a, err := npmsemver.ParseVersion(order[i], npmsemver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := npmsemver.ParseVersion(order[i+1], npmsemver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Run(order[i]+"<"+order[i+1], func(t *testing.T) {
			if got := a.Compare(b); got != -1 {
				t.Errorf("got %d, want -1", got)
			}
			if got := b.Compare(a); got != 1 {
				t.Errorf("got %d, want 1", got)
			}
			if got := a.Compare(a); got != 0 {
				t.Errorf("got %d, want 0", got)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		loose bool
		want  string
		err   bool
	}{
		{"1.2.3", false, "1.2.3", false},
		{" v1.2.3-beta.1+build.5 ", false, "1.2.3-beta.1", false},
		{"=1.2.3", false, "", true},
		{"=1.2.3", true, "1.2.3", false},
		{"1.2.3beta", true, "1.2.3-beta", false},
		{"01.2.3", false, "", true},
		{"01.2.3", true, "1.2.3", false},
		{"1.2", true, "", true},
		{"9007199254740992.0.0", true, "", true},
		{"1.2.3-01", false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			v, err := npmsemver.ParseVersion(tt.in, npmsemver.Options{Loose: tt.loose})
			if tt.err {
				if !errors.Is(err, npmsemver.ErrInvalidVersion) {
					t.Errorf("got %v, want ErrInvalidVersion", err)
				}
				return
			}
			if err != nil || v.String() != tt.want {
				t.Errorf("got %q %v, want %q", v.String(), err, tt.want)
			}
		})
	}
}

func TestSatisfiesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, version, rng string }{
		{"garbage range", "1.0.0", "not a range"},
		{"bad version", "one", ">=1.0.0"},
		{"strict comparator", "1.0.0", ">=1.0.0 junk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := npmsemver.Satisfies(tt.version, tt.rng, npmsemver.Options{}); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}

func TestPrereleaseSemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version, rng string
		opts         npmsemver.Options
		want         bool
	}{
		{"4.17.11-beta.1", "<4.17.11", npmsemver.NPMAudit, true},
		{"4.17.11-beta.1", "<4.17.11", npmsemver.Options{}, false},
		{"1.2.4-beta", ">=1.2.3-alpha <1.3.0", npmsemver.Options{}, false},
		{"1.2.3-beta", ">=1.2.3-alpha <1.3.0", npmsemver.Options{}, true},
		{"2.0.0-rc.1", "^1.0.0", npmsemver.NPMAudit, false},
	}
	for _, tt := range tests {
		t.Run(tt.version+" "+tt.rng, func(t *testing.T) {
			t.Parallel()
			got, err := npmsemver.Satisfies(tt.version, tt.rng, tt.opts)
			if err != nil || got != tt.want {
				t.Errorf("got %v %v, want %v", got, err, tt.want)
			}
		})
	}
}

func TestIntervalsAgreeWithContains(t *testing.T) {
	t.Parallel()
	ranges := []string{"<=4.0.13 || >=4.1.0 <4.1.2", ">1.2.3 <2", "1.2.3 - 2.3.4", "^0.0.3", "~1.2.3-beta.2", "=1.0.0", ">=2 <1", "*", "<0.2.1 || >=1.0.0 <1.2.3", ">1.2.3-beta"}
	versions := []string{"0.0.0", "0.0.3", "0.0.4-0", "0.2.0", "1.0.0", "1.2.2", "1.2.3-beta", "1.2.3-beta.0", "1.2.3-beta.2", "1.2.3", "1.2.4-0", "1.2.4", "1.3.0-0", "2.0.0-0", "2.0.0", "2.3.4", "2.3.5-0", "4.0.13", "4.0.14", "4.1.1-rc.1", "4.1.2"}
	for _, rs := range ranges {
		r, err := npmsemver.ParseRange(rs, npmsemver.NPMAudit)
		if err != nil {
			t.Fatal(err)
		}
		ivs := r.Intervals()
		for _, vs := range versions {
			v, _ := npmsemver.ParseVersion(vs, npmsemver.NPMAudit)
			in := false
			for _, iv := range ivs {
				lo := iv.Lower.Unbounded || v.Compare(iv.Lower.Version) > 0 || iv.Lower.Inclusive && v.Compare(iv.Lower.Version) == 0
				hi := iv.Upper.Unbounded || v.Compare(iv.Upper.Version) < 0 || iv.Upper.Inclusive && v.Compare(iv.Upper.Version) == 0
				in = in || lo && hi
			}
			if in != r.Contains(v) {
				t.Errorf("%s %s: got intervals %v, want Contains %v", rs, vs, in, r.Contains(v))
			}
			succ := v.Successor()
			if succ.Compare(v) <= 0 {
				t.Errorf("got successor %v <= %v", succ, v)
			}
		}
	}
}
