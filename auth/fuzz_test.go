package auth_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/auth"
)

// FuzzRedirectsSanitize checks that any accepted target, resolved the way
// a browser resolves a Location header against this site, stays on this
// site or lands on the allowed origin.
func FuzzRedirectsSanitize(f *testing.F) {
	for _, s := range []string{
		"/notes", "//evil.com", "/\\evil.com", "https:evil.com", "/%2F%2Fevil.com", "/%5Cevil.com",
		"/\t/evil.com", "javascript:alert(1)", "https://app.example.com/x", "https://app.example.com@evil.com",
		"/%252F%252Fevil.com", "/..//evil.com", "HTTPS://APP.EXAMPLE.COM",
	} {
		f.Add(s)
	}
	rd, err := auth.NewRedirects([]string{"https://app.example.com"})
	if err != nil {
		f.Fatal(err)
	}
	base, _ := url.Parse("https://site.test/login")
	f.Fuzz(func(t *testing.T, target string) {
		got, ok := rd.Sanitize(target)
		if !ok {
			return
		}
		if got != target {
			t.Fatalf("Sanitize changed %q to %q", target, got)
		}
		// Browsers drop tabs and newlines and read backslashes as
		// slashes; Sanitize must have refused any of them.
		if strings.ContainsAny(target, "\t\r\n\\ ") {
			t.Fatalf("accepted %q with characters browsers rewrite", target)
		}
		ref, err := url.Parse(target)
		if err != nil {
			t.Fatalf("accepted unparseable %q: %v", target, err)
		}
		u := base.ResolveReference(ref)
		host := strings.ToLower(u.Host)
		if host != "site.test" && host != "app.example.com" {
			t.Fatalf("%q leads to host %q", target, u.Host)
		}
		// Decoding once more (as a framework might) must not leave the site.
		if dec, err := url.PathUnescape(target); err == nil && strings.HasPrefix(dec, "//") {
			t.Fatalf("%q decodes to protocol-relative %q", target, dec)
		}
	})
}
