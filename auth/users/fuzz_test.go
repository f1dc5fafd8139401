package users_test

import (
	"strings"
	"testing"

	"github.com/rampartsec/rampart/auth/users"
)

// FuzzCanonicalName checks that whatever a client types as a user name,
// an accepted name is safe to put in a header and a log line, and is a
// fixed point of canonicalisation.
func FuzzCanonicalName(f *testing.F) {
	for _, s := range []string{"alice", "Bob@Example.com", "eve\r\nX-Rampart-User: admin", "a,b", "ǅ", ".x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := users.CanonicalName(name)
		if err != nil {
			return
		}
		if got != strings.ToLower(name) {
			t.Fatalf("got %q, want %q", got, strings.ToLower(name))
		}
		if strings.ContainsAny(got, " ,;:\r\n\t\"\\") || strings.ToLower(got) != got {
			t.Fatalf("accepted unsafe name %q", got)
		}
		if again, err := users.CanonicalName(got); err != nil || again != got {
			t.Fatalf("not a fixed point: %q -> %q, %v", got, again, err)
		}
	})
}
