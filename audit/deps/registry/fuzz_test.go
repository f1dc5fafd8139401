package registry_test

import (
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/registry"
)

// FuzzNormalizeRepository: a package's repository field is untrusted; its
// normal form is none or an https URL without whitespace or a fragment,
// and normalising is idempotent.
func FuzzNormalizeRepository(f *testing.F) {
	for _, s := range []string{"git+https://github.com/o/r.git", "git@github.com:o/r.git", "github:o/r", "o/r", "gitlab:g/p",
		"git+ssh://git@github.com/o/r.git#semver:^1", "https://github.com/o/r/tree/main/packages/x", "@", "a@b:c", "git+", "://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := registry.NormalizeRepository(s)
		if got == "" {
			return
		}
		if !strings.HasPrefix(got, "https://") || strings.ContainsAny(got, "# \t\n") {
			t.Fatalf("NormalizeRepository(%q) = %q", s, got)
		}
		if again := registry.NormalizeRepository(got); again != got {
			t.Fatalf("NormalizeRepository(%q) = %q, then %q", s, got, again)
		}
	})
}

// FuzzParseTrustedRoot: a trusted root given with --provenance-roots is
// read without panicking, and one that parses names logs and authorities.
func FuzzParseTrustedRoot(f *testing.F) {
	if data, err := os.ReadFile("sigstore-public-good-root.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{"publicKey":{"rawBytes":"AA=="},"logId":{"keyId":"AA=="}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := registry.ParseTrustedRoot(b)
		if err == nil && (len(r.Logs) == 0 || len(r.Authorities) == 0) {
			t.Fatalf("got a root of %d logs and %d authorities", len(r.Logs), len(r.Authorities))
		}
	})
}
