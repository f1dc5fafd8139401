package deps_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/ignore"
	"github.com/rampartsec/rampart/audit/deps/osv"
)

// fakeSource answers from a fixed table.
type fakeSource map[deps.Query][]deps.Advisory

func (fakeSource) Name() string { return "fake" }

func (s fakeSource) Check(_ context.Context, qs []deps.Query) (map[deps.Query][]deps.Advisory, []deps.Unchecked, error) {
	out := map[deps.Query][]deps.Advisory{}
	for _, q := range qs {
		out[q] = s[q]
	}
	return out, nil, nil
}

func writeLock(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "package-lock.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const groupsLock = `{"lockfileVersion": 3, "packages": {
  "node_modules/prod": {"version": "1.0.0", "integrity": "sha512-A"},
  "node_modules/dev": {"version": "1.0.0", "dev": true, "integrity": "sha512-A"},
  "node_modules/opt": {"version": "1.0.0", "optional": true, "integrity": "sha512-A"},
  "node_modules/devopt": {"version": "1.0.0", "devOptional": true, "integrity": "sha512-A"},
  "node_modules/peer": {"version": "1.0.0", "peer": true, "integrity": "sha512-A"},
  "node_modules/bundled": {"version": "1.0.0", "inBundle": true, "integrity": "sha512-A"}
}}`

func TestOmit(t *testing.T) {
	t.Parallel()
	path := writeLock(t, groupsLock)
	tests := []struct {
		omit []string
		want []string
	}{
		{nil, []string{"bundled", "dev", "devopt", "opt", "peer", "prod"}},
		{[]string{"dev"}, []string{"bundled", "devopt", "opt", "peer", "prod"}},
		{[]string{"dev", "optional"}, []string{"bundled", "peer", "prod"}},
		{[]string{"dev", "optional", "peer"}, []string{"bundled", "prod"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Join(tt.omit...), func(t *testing.T) {
			t.Parallel()
			r := scan(t, deps.Config{Paths: []string{path}, Source: fakeSource{}, Omit: tt.omit})
			var got []string
			for _, p := range r.Packages {
				got = append(got, p.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) || r.Omitted != 6-len(tt.want) {
				t.Errorf("got %v (%d omitted), want %v", got, r.Omitted, tt.want)
			}
		})
	}
}

func TestAliasesMergeAndIgnores(t *testing.T) {
	t.Parallel()
	path := writeLock(t, `{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0", "integrity": "sha512-A"}}}`)
	q := deps.Query{Ecosystem: "npm", Name: "a", Version: "1.0.0"}
	src := fakeSource{q: {
		{ID: "GHSA-1", Aliases: []string{"CVE-1"}, Severity: osv.SeverityModerate, Fixed: []string{"1.0.1"}},
		{ID: "1001", Aliases: []string{"GHSA-1"}, Severity: osv.SeverityHigh, Fixed: []string{"1.0.2"}},
		{ID: "CVE-2", Severity: osv.SeverityUnknown},
	}}
	r := scan(t, deps.Config{Paths: []string{path}, Source: src})
	if len(r.Findings) != 2 {
		t.Fatalf("got %d findings, want 2 (two aliases of one vulnerability merged): %+v", len(r.Findings), r.Findings)
	}
	var merged deps.Finding
	for _, f := range r.Findings {
		if f.ID == "GHSA-1" {
			merged = f
		}
	}
	if !slices.Equal(merged.Aliases, []string{"1001", "CVE-1"}) || merged.Severity != osv.SeverityHigh || !slices.Equal(merged.Fixed, []string{"1.0.1", "1.0.2"}) {
		t.Errorf("got %+v, want GHSA-1 aliased 1001 and CVE-1, high, fixed in both", merged)
	}
	if worst, ok := r.Worst(); !ok || worst != osv.SeverityCritical {
		t.Errorf("got worst %v, want an unrated finding to count as critical", worst)
	}

	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	l, err := ignore.Parse("i.yaml", []byte("ignore:\n  - id: CVE-1\n    reason: r\n    until: 2026-12-01\n"), now)
	if err != nil {
		t.Fatal(err)
	}
	r = scan(t, deps.Config{Paths: []string{path}, Source: src, Ignores: l, Now: func() time.Time { return now }})
	if len(r.Findings) != 1 || len(r.Ignored) != 1 || r.Ignored[0].ID != "GHSA-1" {
		t.Errorf("got findings %+v ignored %+v, want GHSA-1 ignored by its alias", r.Findings, r.Ignored)
	}
	later := now.AddDate(0, 1, 0)
	r = scan(t, deps.Config{Paths: []string{path}, Source: src, Ignores: l, Now: func() time.Time { return later }})
	if len(r.Findings) != 2 || len(r.Expired) != 1 {
		t.Errorf("got %d findings and %d expired, want the expired ignore to stop working", len(r.Findings), len(r.Expired))
	}
}

func TestCleanAndErrors(t *testing.T) {
	t.Parallel()
	empty := writeLock(t, `{"lockfileVersion": 3, "packages": {"": {}}}`)
	r := scan(t, deps.Config{Paths: []string{empty}, Source: fakeSource{}})
	if r.Clean() {
		t.Error("got a clean report for a lockfile without packages, want not clean")
	}
	if _, err := deps.Scan(context.Background(), deps.Config{Paths: []string{empty}}); !errors.Is(err, deps.ErrNoSource) {
		t.Errorf("got %v, want ErrNoSource", err)
	}
	if _, err := deps.Scan(context.Background(), deps.Config{Paths: []string{"does-not-exist"}, Source: fakeSource{}}); err == nil {
		t.Error("got nil error for a missing path, want one")
	}
	ok := writeLock(t, `{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0", "integrity": "sha512-A"}}}`)
	if r := scan(t, deps.Config{Paths: []string{ok}, Source: fakeSource{}}); !r.Clean() {
		t.Errorf("got gaps %v, want a clean report", r.Gaps)
	}
}
