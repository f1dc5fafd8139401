package lockfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/lockfile"
)

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, content string
		want                lockfile.Kind
		ok                  bool
	}{
		{"npm by content", "app.lock", `{"lockfileVersion": 3, "packages": {}}`, lockfile.KindNPM, true},
		{"npm null", "x.json", "null", lockfile.KindNPM, true},
		{"yarn v1 banner", "deps.txt", "# yarn lockfile v1\n\nfoo@^1:\n  version \"1.0.0\"\n", lockfile.KindYarn, true},
		{"yarn v1 no banner", "deps.txt", "foo@^1:\n  version \"1.0.0\"\n", lockfile.KindYarn, true},
		{"yarn berry", "x", "__metadata:\n  version: 8\n", lockfile.KindYarn, true},
		{"pnpm", "lock", "lockfileVersion: '9.0'\n", lockfile.KindPnpm, true},
		{"go.mod by content", "fixture.txt", "// comment\nmodule example.com/x\n\ngo 1.22\n", lockfile.KindGo, true},
		{"go.mod require block", "x.mod", "require (\n\tgolang.org/x/net v0.1.0\n)\n", lockfile.KindGo, true},
		{"empty named go.mod", "sub/go.mod", "", lockfile.KindGo, true},
		{"empty unnamed", "x.txt", "", "", false},
		{"prose", "x.txt", "hello world\n", "", false},
		{"prose named yarn.lock", "yarn.lock", "hello world\n", lockfile.KindYarn, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := lockfile.Detect(tt.path, []byte(tt.content))
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q %v, want %q %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		kind    lockfile.Kind
		content string
		line    int
	}{
		{"npm bad json", lockfile.KindNPM, "{\n  \"lockfileVersion\": 2,\n  \"packages\": {\n    \"node_modules/a\": {,}\n  }\n}\n", 4},
		{"npm wrong type", lockfile.KindNPM, "{\n  \"lockfileVersion\": 2,\n  \"packages\": {\n    \"node_modules/a\": {\"version\": 5}\n  }\n}\n", 4},
		{"yarn indented first", lockfile.KindYarn, "\n  version \"1.0.0\"\n", 2},
		{"pnpm bad yaml", lockfile.KindPnpm, "lockfileVersion: 5.3\npackages:\n  /a/1.0.0: [\n", 3},
		{"pnpm bad version", lockfile.KindPnpm, "lockfileVersion: abc\n", 1},
		{"go.mod bad version", lockfile.KindGo, "module x\n\nrequire golang.org/x/net 1.2.3\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := lockfile.ParseKind(tt.kind, "dir/lock", []byte(tt.content), nil)
			var se *lockfile.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *lockfile.SyntaxError", err)
			}
			if se.Line != tt.line {
				t.Errorf("got line %d, want %d (%v)", se.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), "dir/lock") {
				t.Errorf("got %q, want the file named", err)
			}
		})
	}
}

func TestProblemsAreReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		kind    lockfile.Kind
		content string
		want    []string
	}{
		{"npm v2 missing version", lockfile.KindNPM, `{"lockfileVersion":2,"packages":{"":{},"node_modules/a":{"resolved":"https://registry.npmjs.org/a/-/a-1.0.0.tgz"}}}`,
			[]string{"lock:1: node_modules/a: no version"}},
		{"npm v1 missing version", lockfile.KindNPM, "{\"lockfileVersion\":1,\"dependencies\":{\n\"a\":{}}}",
			[]string{"lock:2: a: no version"}},
		{"npm v1 alias without version", lockfile.KindNPM, "{\"lockfileVersion\":1,\"dependencies\":{\n\"a\":{\"version\":\"npm:@babel/code-frame\"},\n\"b\":{\"version\":\"npm:\"}}}",
			[]string{`lock:2: a: alias "npm:@babel/code-frame" names no version`, `lock:3: b: alias "npm:" names no version`}},
		{"yarn missing version", lockfile.KindYarn, "a@^1:\n  resolved \"https://registry.yarnpkg.com/a/-/a-1.0.0.tgz\"\n",
			[]string{"lock:1: a: no version"}},
		{"yarn bad header", lockfile.KindYarn, "a@^1\n  version \"1.0.0\"\n",
			[]string{"lock:1: entry header does not end with ':'"}},
		{"pnpm invalid path", lockfile.KindPnpm, "lockfileVersion: 5.4\npackages:\n  nonsense:\n    resolution: {integrity: sha512-x}\n",
			[]string{"lock:3: nonsense: invalid dependency path: nonsense"}},
		{"go excluded", lockfile.KindGo, "module x\nrequire a.example/m v1.0.0\nexclude a.example/m v1.0.0\n",
			[]string{"lock:2: a.example/m@v1.0.0: required version is excluded, so the version in use is unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := lockfile.ParseKind(tt.kind, "lock", []byte(tt.content), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range f.Problems {
				got = append(got, p.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUnlistedFixtures covers fixtures that have no upstream expectation.
func TestUnlistedFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		kind lockfile.Kind
		want []string
	}{
		{"pnpmlock/mixed-groups.v53.yaml", lockfile.KindPnpm, []string{"ansi-regex@5.0.1 []", "is-number@7.0.0 [dev]", "uuid@8.3.2 []"}},
		{"pnpmlock/mixed-groups.v54.yaml", lockfile.KindPnpm, []string{"ansi-regex@5.0.1 []", "is-number@7.0.0 [dev]", "uuid@8.3.2 []"}},
		{"pnpmlock/mixed-groups.v6.yaml", lockfile.KindPnpm, []string{"ansi-regex@5.0.0 []", "is-number@7.0.0 [dev]", "uuid@8.0.0 []"}},
		{"yarnlock/metadata-only.v2.lock", lockfile.KindYarn, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata/osv-scalibr", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := lockfile.ParseKind(tt.kind, tt.file, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range f.Packages {
				got = append(got, p.Name+"@"+p.Version+" "+strings.Join(strings.Fields("["+strings.Join(p.Groups, " ")+"]"), " "))
			}
			if !slices.Equal(got, tt.want) || len(f.Problems) > 0 {
				t.Errorf("got %q (problems %v), want %q", got, f.Problems, tt.want)
			}
		})
	}
}

func TestSupplyChainFacts(t *testing.T) {
	t.Parallel()
	lock := `{
  "lockfileVersion": 3,
  "packages": {
    "": {"name": "app", "workspaces": ["packages/*"]},
    "node_modules/reg": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/reg/-/reg-1.0.0.tgz", "integrity": "sha512-AAAA", "hasInstallScript": true},
    "node_modules/weak": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/weak/-/weak-1.0.0.tgz", "integrity": "sha1-AAAA"},
    "node_modules/gitdep": {"version": "2.0.0", "resolved": "git+ssh://git@github.com/o/gitdep.git#0123456789abcdef0123456789abcdef01234567"},
    "node_modules/tar": {"version": "3.0.0", "resolved": "https://example.com/files/tar.tgz"},
    "node_modules/mirror": {"version": "4.0.0", "resolved": "https://npm.example.com/mirror/-/mirror-4.0.0.tgz", "integrity": "sha512-BBBB"},
    "node_modules/@ws/lib": {"resolved": "packages/lib", "link": true},
    "packages/lib": {"name": "@ws/lib", "version": "0.1.0"},
    "node_modules/alias": {"name": "real", "version": "5.0.0", "resolved": "https://registry.npmjs.org/real/-/real-5.0.0.tgz", "integrity": "sha512-CCCC", "peer": true}
  }
}`
	f, err := lockfile.ParseNPM("package-lock.json", []byte(lock))
	if err != nil {
		t.Fatal(err)
	}
	type fact struct {
		origin    lockfile.Origin
		commit    string
		script    bool
		integrity string
		groups    string
	}
	want := map[string]fact{
		"reg@1.0.0":     {lockfile.OriginRegistry, "", true, "sha512-AAAA", ""},
		"weak@1.0.0":    {lockfile.OriginRegistry, "", false, "sha1-AAAA", ""},
		"gitdep@2.0.0":  {lockfile.OriginGit, "0123456789abcdef0123456789abcdef01234567", false, "", ""},
		"tar@3.0.0":     {lockfile.OriginTarball, "", false, "", ""},
		"mirror@4.0.0":  {lockfile.OriginRegistry, "", false, "sha512-BBBB", ""},
		"@ws/lib@0.1.0": {lockfile.OriginLocal, "", false, "", ""},
		"real@5.0.0":    {lockfile.OriginRegistry, "", false, "sha512-CCCC", "peer"},
	}
	if len(f.Packages) != len(want) {
		t.Fatalf("got %d packages, want %d: %+v", len(f.Packages), len(want), f.Packages)
	}
	for _, p := range f.Packages {
		t.Run(p.Name, func(t *testing.T) {
			got := fact{p.Origin, p.Commit, p.InstallScript, p.Integrity, strings.Join(p.Groups, ",")}
			if got != want[p.Name+"@"+p.Version] {
				t.Errorf("got %+v, want %+v", got, want[p.Name+"@"+p.Version])
			}
		})
	}
}

func TestYarnBerryPatchAndWorkspace(t *testing.T) {
	t.Parallel()
	lock := `__metadata:
  version: 8

"resolve@npm:^1.20.0":
  version: 1.22.8
  resolution: "resolve@npm:1.22.8"
  checksum: 10c0/abc
  languageName: node
  linkType: hard

"resolve@patch:resolve@npm%3A^1.20.0#optional!builtin<compat/resolve>":
  version: 1.22.8
  resolution: "resolve@patch:resolve@npm%3A1.22.8#optional!builtin<compat/resolve>::version=1.22.8&hash=c3c19d"
  languageName: node
  linkType: hard

"lib@workspace:packages/lib":
  version: 0.0.0-use.local
  resolution: "lib@workspace:packages/lib"
  languageName: unknown
  linkType: soft

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
`
	f, err := lockfile.ParseYarn("yarn.lock", []byte(lock))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range f.Packages {
		got = append(got, p.Name+"@"+p.Version+" "+p.Origin.String())
	}
	want := []string{"resolve@1.22.8 registry", "resolve@1.22.8 registry", "lib@0.0.0-use.local local"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestGoModReplaceAndSum(t *testing.T) {
	t.Parallel()
	mod := "module x\n\ngo 1.16\n\nrequire (\n\tgolang.org/x/net v0.0.0-20210226172049-e18ecbb05110\n\tgithub.com/a/b v1.0.0\n)\n\nreplace github.com/a/b => ../b\n"
	sum := "golang.org/x/text v0.3.3 h1:abc=\ngolang.org/x/text v0.3.3/go.mod h1:def=\ngolang.org/x/net v0.0.0-20210226172049-e18ecbb05110 h1:ghi=\n"
	f, err := lockfile.ParseGoMod("go.mod", []byte(mod), []byte(sum))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range f.Packages {
		got = append(got, p.Name+"@"+p.Version+" "+p.Origin.String()+" "+p.Replaces)
	}
	want := []string{
		"golang.org/x/net@0.0.0-20210226172049-e18ecbb05110 registry ",
		"../b@ local github.com/a/b@v1.0.0",
		"golang.org/x/text@0.3.3 registry ",
		"stdlib@1.16 registry ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := []string{
		"package-lock.json", "web/yarn.lock", "web/node_modules/x/package-lock.json",
		".git/go.mod", "svc/go.mod", "svc/go.sum", "both/package-lock.json", "both/npm-shrinkwrap.json",
		"pn/pnpm-lock.yaml", "README.md",
	}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := lockfile.Find(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i], _ = filepath.Rel(dir, got[i])
	}
	want := []string{"both/npm-shrinkwrap.json", "package-lock.json", "pn/pnpm-lock.yaml", "svc/go.mod", "web/yarn.lock"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadFileByContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "fixture.v2.json")
	if err := os.WriteFile(p, []byte(`{"lockfileVersion":2,"packages":{"node_modules/a":{"version":"1.0.0"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := lockfile.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != lockfile.KindNPM || len(f.Packages) != 1 {
		t.Errorf("got %s with %d packages, want package-lock.json with 1", f.Kind, len(f.Packages))
	}
	if _, err := lockfile.ReadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("got nil error for a missing file, want one")
	}
}
