package lockfile_test

import (
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
		return
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
