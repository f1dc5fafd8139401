package names_test

import (
	"testing"

	"github.com/rampartsec/rampart/audit/deps/names"
)

func TestNPMList(t *testing.T) {
	t.Parallel()
	c := names.NPM()
	if c.Len() < 1000 || c.ListDate() == "" {
		t.Fatalf("got %d names dated %q, want at least 1000 and a date", c.Len(), c.ListDate())
	}
	for _, p := range []string{"lodash", "express", "react", "cross-env", "chalk"} {
		if !c.Popular(p) {
			t.Errorf("got %s not popular, want popular", p)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	c := names.NPM()
	tests := []struct {
		name    string
		kind    names.Kind
		popular string
	}{
		{"lodahs", names.Typosquat, "lodash"},
		{"expresss", names.Typosquat, "express"},
		{"chalkk", names.Typosquat, "chalk"},
		{"crossenv", names.Confusable, "cross-env"},
		{"cross_env", names.Confusable, "cross-env"},
		{"Lodash", names.Confusable, "lodash"},
		{"l0dash", names.Confusable, "lodash"},
		{"expreѕѕ", names.Confusable, "express"},
		{"rеact", names.Confusable, "react"},
		{"electorn", names.Typosquat, "electron"},
		{"discrd.js", names.Typosquat, "discord.js"},
		{"loadsh", names.Typosquat, "lodash"},
		{"axois", names.Typosquat, "axios"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ms := c.Check(tc.name)
			for _, m := range ms {
				if m.Kind == tc.kind && m.Popular == tc.popular {
					return
				}
			}
			t.Fatalf("got %+v, want %s of %s", ms, tc.kind, tc.popular)
		})
	}
	for _, clean := range []string{"lodash", "express", "my-own-package", "zod", "ab", "@rampartsec/thing", "left-pad-but-different"} {
		if ms := c.Check(clean); len(ms) != 0 {
			t.Errorf("%s: got %+v, want nothing", clean, ms)
		}
	}
}

func TestCustomList(t *testing.T) {
	t.Parallel()
	c := names.New([]string{"fastlib", "other"}, "2026-01-01")
	if ms := c.Check("fastlb"); len(ms) != 1 || ms[0].Kind != names.Typosquat || ms[0].Rank != 1 {
		t.Fatalf("got %+v, want one typosquat of rank 1", ms)
	}
	if ms := c.Check("fsatlib"); len(ms) != 1 {
		t.Fatalf("got %+v, want a transposition", ms)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("lodahs")
	f.Add("expreѕѕ")
	c := names.NPM()
	f.Fuzz(func(t *testing.T, name string) {
		for _, m := range c.Check(name) {
			if m.Popular == name || m.Rank < 1 {
				t.Fatalf("got %+v for %q", m, name)
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	c := names.NPM()
	b.ReportAllocs()
	for b.Loop() {
		c.Check("some-package-name")
	}
}
