package origin_test

import (
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/origin"
)

// FuzzParse checks that Parse never panics and that what it accepts
// reassembles to exactly the input: no part of the value is ignored.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com", "http://[::1]:8080", "null", "https://a.com:0443",
		"https://a.example.com@evil.net", "https://example.com.", "HTTPS://A.COM",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, ok := origin.Parse(s)
		if !ok {
			return
		}
		re := o.Scheme + "://" + o.Host
		if o.Port != "" {
			re += ":" + o.Port
		}
		if re != s {
			t.Fatalf("Parse(%q) = %+v, which reassembles to %q", s, o, re)
		}
	})
}

// FuzzSetContains checks that an allow-list with a subdomain pattern only
// ever matches the exact entry or true subdomains of the pattern's domain
// with the pattern's scheme and port.
func FuzzSetContains(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com", "https://a.example.org", "https://example.org.evil.net",
		"https://evilexample.org", "https://a.example.org:443", "https://.example.org",
	} {
		f.Add(s)
	}
	set, err := origin.NewSet([]string{"https://app.example.com", "https://*.example.org"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !set.Contains(s) {
			return
		}
		if s == "https://app.example.com" {
			return
		}
		host, ok := strings.CutPrefix(s, "https://")
		if !ok || !strings.HasSuffix(host, ".example.org") || len(host) <= len(".example.org") {
			t.Fatalf("Contains(%q) = true outside the allowed origins", s)
		}
		sub := strings.TrimSuffix(host, ".example.org")
		for _, label := range strings.Split(sub, ".") {
			if label == "" || strings.ContainsAny(label, ":/@?#[]% ") || strings.ToLower(label) != label {
				t.Fatalf("Contains(%q) = true with bad label %q", s, label)
			}
		}
	})
}

// FuzzParseEntry checks that ParseEntry never panics and that every entry it
// accepts is normalised: parsing its output again gives the same entry.
func FuzzParseEntry(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com", "HTTPS://*.Example.COM:443", "http://localhost:3000/", "https://*.com", "null",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := origin.ParseEntry(s)
		if err != nil {
			return
		}
		again, err := origin.ParseEntry(e.Origin)
		if err != nil || again.Origin != e.Origin || again.Pattern != e.Pattern {
			t.Fatalf("ParseEntry(%q) = %q, which parses again to %q, %v", s, e.Origin, again.Origin, err)
		}
		if !e.Pattern {
			if _, ok := origin.Parse(e.Origin); !ok {
				t.Fatalf("normalised entry %q is not a parseable origin", e.Origin)
			}
		}
	})
}
