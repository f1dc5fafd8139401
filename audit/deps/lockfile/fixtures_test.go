package lockfile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/lockfile"
)

// expectedFile is the shape of testdata/osv-scalibr/**/*.expected.json.
type expectedFile struct {
	Fixture string `json:"fixture"`
	Cases   []struct {
		TestName    string  `json:"test_name"`
		ExpectError *string `json:"expect_error"`
		Packages    []struct {
			Name      string    `json:"name"`
			Version   string    `json:"version"`
			DepGroups *[]string `json:"dep_groups"`
			Commit    string    `json:"commit"`
			Line      int       `json:"line"`
		} `json:"packages"`
	} `json:"cases"`
}

var kindOfDir = map[string]lockfile.Kind{
	"gomod":           lockfile.KindGo,
	"packagelockjson": lockfile.KindNPM,
	"pnpmlock":        lockfile.KindPnpm,
	"yarnlock":        lockfile.KindYarn,
}

// parseFixture parses a fixture the way a directory scan would: fixtures
// in a folder of their own go through Find first, so that a
// package-lock.json shadowed by an npm-shrinkwrap.json yields nothing.
func parseFixture(t *testing.T, kind lockfile.Kind, path string) (*lockfile.File, error) {
	t.Helper()
	dir := filepath.Dir(path)
	if _, isTop := kindOfDir[filepath.Base(dir)]; !isTop {
		found, err := lockfile.Find(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(found, path) {
			return &lockfile.File{Path: path, Kind: kind}, nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum []byte
	if kind == lockfile.KindGo {
		sum, _ = os.ReadFile(strings.TrimSuffix(path, ".mod") + ".sum")
	}
	return lockfile.ParseKind(kind, path, data, sum)
}

func describe(p lockfile.Package, withGroups, withLine bool) string {
	s := p.Name + "@" + p.Version
	if p.Commit != "" {
		s += " commit=" + p.Commit
	}
	if withGroups {
		s += fmt.Sprintf(" groups=%v", p.Groups)
	}
	if withLine {
		s += fmt.Sprintf(" line=%d", p.Line)
	}
	return s
}

// TestFixtures checks that every upstream fixture parses to exactly the
// package list the upstream tests expect.
func TestFixtures(t *testing.T) {
	t.Parallel()
	expectations, err := filepath.Glob("testdata/osv-scalibr/*/*.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	nested, err := filepath.Glob("testdata/osv-scalibr/*/*/*.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	expectations = append(expectations, nested...)
	if len(expectations) < 90 {
		t.Fatalf("got %d expectation files, want at least 90", len(expectations))
	}
	for _, expPath := range expectations {
		raw, err := os.ReadFile(expPath)
		if err != nil {
			t.Fatal(err)
		}
		var exp expectedFile
		if err := json.Unmarshal(raw, &exp); err != nil {
			t.Fatalf("%s: %v", expPath, err)
		}
		rel, _ := filepath.Rel("testdata/osv-scalibr", expPath)
		kind := kindOfDir[strings.Split(filepath.ToSlash(rel), "/")[0]]
		fixture := strings.TrimSuffix(expPath, ".expected.json")
		for _, c := range exp.Cases {
			t.Run(rel+"/"+c.TestName, func(t *testing.T) {
				t.Parallel()
				f, err := parseFixture(t, kind, fixture)
				if c.ExpectError != nil {
					checkExpectedError(t, *c.ExpectError, f, err)
				} else {
					if err != nil {
						t.Fatalf("got error %v, want none", err)
					}
					if len(f.Problems) > 0 {
						t.Fatalf("got problems %v, want none", f.Problems)
					}
				}
				if f == nil {
					if len(c.Packages) > 0 {
						t.Fatalf("got no packages, want %d", len(c.Packages))
					}
					return
				}
				withGroups, withLine := false, false
				var want []string
				for _, p := range c.Packages {
					withGroups = withGroups || p.DepGroups != nil
					withLine = withLine || p.Line != 0
				}
				for _, p := range c.Packages {
					var groups []string
					if p.DepGroups != nil && len(*p.DepGroups) > 0 {
						groups = *p.DepGroups
					}
					want = append(want, describe(lockfile.Package{Name: p.Name, Version: p.Version, Commit: p.Commit, Groups: groups, Line: p.Line}, withGroups, withLine))
				}
				var got []string
				for _, p := range f.Packages {
					got = append(got, describe(p, withGroups, withLine))
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("got packages\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
			})
		}
	}
}

// checkExpectedError accepts a *SyntaxError for upstream's generic "could
// not extract", and otherwise wants the upstream message in the error or a
// problem.
func checkExpectedError(t *testing.T, upstream string, f *lockfile.File, err error) {
	t.Helper()
	want := upstream
	if i := strings.Index(upstream, `Str: "`); i >= 0 {
		want = strings.TrimSuffix(upstream[i+len(`Str: "`):], `"}`)
	}
	var msgs []string
	if err != nil {
		msgs = append(msgs, err.Error())
	}
	if f != nil {
		for _, p := range f.Problems {
			msgs = append(msgs, p.Error())
		}
	}
	if len(msgs) == 0 {
		t.Fatalf("got no error and no problems, want %q", want)
	}
	if want == "could not extract" {
		var se *lockfile.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("got %v, want a *lockfile.SyntaxError", err)
		}
		return
	}
	for _, m := range msgs {
		if strings.Contains(m, want) {
			return
		}
	}
	t.Fatalf("got %q, want a message containing %q", msgs, want)
}
