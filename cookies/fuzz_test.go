package cookies_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/cookies"
)

// FuzzHarden: any Set-Cookie line from an upstream is hardened without
// panicking, keeps its name and value, and never loses an attribute.
func FuzzHarden(f *testing.F) {
	for _, s := range []string{"sid=abc; Path=/", "a=b", "x", "=;;", "sid=1; SameSite=None; Secure", `t="a;b"; HttpOnly`, "sid=abc; samesite=lax; SAMESITE=strict"} {
		f.Add(s)
	}
	h, err := cookies.New(cookies.Config{HTTPOnly: []string{"sid"}, Rules: []cookies.Rule{{Name: "t", SameSite: "strict"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		hdr := http.Header{"Set-Cookie": {line}}
		h.Harden(hdr, true)
		out := hdr.Get("Set-Cookie")
		head, _, _ := strings.Cut(line, ";")
		if !strings.HasPrefix(out, head) {
			t.Fatalf("name and value changed: %q -> %q", line, out)
		}
		if strings.Contains(line, "=") && !strings.Contains(strings.ToLower(out), "secure") {
			t.Fatalf("no Secure over HTTPS: %q -> %q", line, out)
		}
	})
}
