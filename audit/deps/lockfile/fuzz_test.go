package lockfile_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/lockfile"
)

// checkParse is what every fuzz target asserts: parsing never panics, and
// a successful parse yields named packages and located problems.
func checkParse(t *testing.T, kind lockfile.Kind, data []byte) {
	f, err := lockfile.ParseKind(kind, "fuzz", data, nil)
	if err != nil {
		if f != nil {
			t.Fatalf("got a file and error %v, want only the error", err)
		}
		checkNoRawLine(t, data, err.Error(), "")
		return
	}
	for _, p := range f.Problems {
		checkNoRawLine(t, data, p.Error(), p.Entry)
	}
	for _, p := range f.Packages {
		if p.Name == "" {
			t.Fatalf("got a package without a name: %+v", p)
		}
		if p.Ecosystem == "" {
			t.Fatalf("got a package without an ecosystem: %+v", p)
		}
	}
	for _, p := range f.Problems {
		if p.Path == "" || p.Reason == "" {
			t.Fatalf("got a problem without path or reason: %+v", p)
		}
	}
}

func FuzzParseNPM(f *testing.F) {
	f.Add([]byte(`{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1.0.0"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, lockfile.KindNPM, data) })
}

func FuzzParseYarn(f *testing.F) {
	f.Add([]byte("a@^1:\n  version \"1.0.0\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, lockfile.KindYarn, data) })
}

func FuzzParsePnpm(f *testing.F) {
	f.Add([]byte("lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha512-x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, lockfile.KindPnpm, data) })
}

func FuzzParseGoMod(f *testing.F) {
	f.Add([]byte("module x\n\ngo 1.22\n\nrequire golang.org/x/net v0.1.0\n"), []byte("golang.org/x/net v0.1.0 h1:x=\n"))
	f.Fuzz(func(t *testing.T, mod, sum []byte) {
		file, err := lockfile.ParseGoMod("go.mod", mod, sum)
		if err != nil {
			checkNoRawLine(t, mod, err.Error(), "")
		}
		if err == nil {
			for _, p := range file.Packages {
				if p.Name == "" {
					t.Fatalf("got a package without a name: %+v", p)
				}
			}
		}
	})
}

func FuzzDetectAndParse(f *testing.F) {
	f.Add("package-lock.json", []byte(`{}`))
	f.Add("x", []byte("lockfileVersion: 5.4\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		kind, ok := lockfile.Detect(name, data)
		if !ok {
			return
		}
		checkParse(t, kind, data)
	})
}

// checkNoRawLine fails when out repeats a whole line of the input: a file
// that is not a lockfile (a link to credentials) must not be published
// through error messages. Lines of fewer than 12 bytes are too short to
// tell apart from the messages' own words; a line that is exactly the
// problem's entry (a parsed package or module name) is structure, not a
// leak.
func checkNoRawLine(t *testing.T, data []byte, out, entry string) {
	t.Helper()
	for raw := range bytes.Lines(data) {
		line := strings.TrimSpace(string(raw))
		key := strings.Trim(strings.TrimRight(line, ":{ ,"), `"'`)
		if len(line) < 12 || entry != "" && (strings.Contains(entry, line) || strings.Contains(entry, key) || strings.Contains(key, entry)) {
			continue
		}
		if strings.Contains(out, line) {
			t.Fatalf("input line %q repeated in %q", line, out)
		}
	}
}

// FuzzParseGoSum feeds go.sum files that are not go.sum files — the
// content of a link's target — and asserts no line comes back.
func FuzzParseGoSum(f *testing.F) {
	mod := []byte("module x\n\ngo 1.16\n\nrequire golang.org/x/net v0.1.0\n")
	f.Add([]byte("golang.org/x/net v0.1.0 h1:x=\n//registry.npmjs.org/:_authToken=npm_SECRETSECRET\n"))
	f.Add([]byte("AWS_SECRET_ACCESS_KEY=abcdefghijklmnop\nPATH=/usr/bin\n"))
	f.Fuzz(func(t *testing.T, sum []byte) {
		file, err := lockfile.ParseGoMod("go.mod", mod, sum)
		if err != nil {
			t.Fatalf("go.mod is fixed and valid: %v", err)
		}
		for _, p := range file.Problems {
			checkNoRawLine(t, sum, p.Error(), p.Entry)
		}
	})
}
