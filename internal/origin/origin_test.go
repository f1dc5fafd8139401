package origin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/origin"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in           string
		ok                 bool
		scheme, host, port string
	}{
		{"https", "https://app.example.com", true, "https", "app.example.com", ""},
		{"port", "http://localhost:3000", true, "http", "localhost", "3000"},
		{"ipv4", "http://127.0.0.1:8080", true, "http", "127.0.0.1", "8080"},
		{"ipv6", "http://[::1]:8080", true, "http", "[::1]", "8080"},
		{"ipv6 no port", "https://[2001:db8::1]", true, "https", "[2001:db8::1]", ""},
		{"extension scheme", "chrome-extension://abcdef", true, "chrome-extension", "abcdef", ""},
		{"uppercase kept as sent", "HTTPS://App.Example.COM", true, "HTTPS", "App.Example.COM", ""},
		{"null", "null", false, "", "", ""},
		{"empty", "", false, "", "", ""},
		{"trailing slash", "https://app.example.com/", false, "", "", ""},
		{"path", "https://app.example.com/x", false, "", "", ""},
		{"userinfo", "https://app.example.com@evil.net", false, "", "", ""},
		{"empty port", "https://app.example.com:", false, "", "", ""},
		{"port zero", "https://app.example.com:0", false, "", "", ""},
		{"leading zero port", "https://app.example.com:0443", false, "", "", ""},
		{"port too big", "https://app.example.com:65536", false, "", "", ""},
		{"no host", "https://", false, "", "", ""},
		{"double dot", "https://app..example.com", false, "", "", ""},
		{"trailing dot", "https://example.com.", false, "", "", ""},
		{"space", "https://exa mple.com", false, "", "", ""},
		{"two origins", "https://a.com https://b.com", false, "", "", ""},
		{"comma list", "https://a.com,https://b.com", false, "", "", ""},
		{"no scheme", "//app.example.com", false, "", "", ""},
		{"bad scheme", "1http://a.com", false, "", "", ""},
		{"unclosed ipv6", "http://[::1", false, "", "", ""},
		{"ipv6 zone", "http://[fe80::1%25eth0]", false, "", "", ""},
		{"ipv6 junk after", "http://[::1]x", false, "", "", ""},
		{"backslash", `https://evil.net\@app.example.com`, false, "", "", ""},
		{"non-ascii", "https://exämple.com", false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, ok := origin.Parse(tt.in)
			if ok != tt.ok {
				t.Fatalf("Parse(%q) ok: got %v, want %v", tt.in, ok, tt.ok)
			}
			if ok && (o.Scheme != tt.scheme || o.Host != tt.host || o.Port != tt.port) {
				t.Errorf("Parse(%q): got %+v, want %s %s %s", tt.in, o, tt.scheme, tt.host, tt.port)
			}
		})
	}
}

func TestFromURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"path", "https://app.example.com/form?x=1", "https://app.example.com", true},
		{"query", "https://app.example.com?x", "https://app.example.com", true},
		{"fragment", "http://localhost:3000#top", "http://localhost:3000", true},
		{"bare", "https://app.example.com", "https://app.example.com", true},
		{"userinfo", "https://app.example.com@evil.net/", "", false},
		{"userinfo before path", "https://user:pw@app.example.com/", "", false},
		{"relative", "/form", "", false},
		{"garbage", "not a url", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, got, ok := origin.FromURL(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("FromURL(%q): got %q %v, want %q %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		pattern        bool
		errPart        string
	}{
		{"exact", "https://app.example.com", "https://app.example.com", false, ""},
		{"lowercased", "HTTPS://App.Example.COM", "https://app.example.com", false, ""},
		{"default https port dropped", "https://app.example.com:443", "https://app.example.com", false, ""},
		{"default http port dropped", "http://app.example.com:80", "http://app.example.com", false, ""},
		{"other port kept", "https://app.example.com:8443", "https://app.example.com:8443", false, ""},
		{"443 kept for http", "http://app.example.com:443", "http://app.example.com:443", false, ""},
		{"spaces trimmed", "  http://localhost:3000 ", "http://localhost:3000", false, ""},
		{"pattern", "https://*.example.com", "https://*.example.com", true, ""},
		{"pattern with port", "https://*.Example.com:8443", "https://*.example.com:8443", true, ""},
		{"trailing slash", "https://app.example.com/", "", false, "trailing slash"},
		{"path", "https://app.example.com/app", "", false, "no path"},
		{"userinfo", "https://u@app.example.com", "", false, "user information"},
		{"no scheme", "app.example.com", "", false, "scheme://host"},
		{"null", "null", "", false, "not an origin"},
		{"star", "*", "", false, "not an origin"},
		{"mid wildcard", "https://app-*.example.com", "", false, "wildcard"},
		{"suffix wildcard", "https://*example.com", "", false, "wildcard"},
		{"deep wildcard", "https://a.*.example.com", "", false, "wildcard"},
		{"tld pattern", "https://*.com", "", false, "registrable domain"},
		{"public suffix co.uk", "https://*.co.uk", "", false, "public suffix"},
		{"public suffix com.au", "https://*.com.au", "", false, "public suffix"},
		{"public suffix mixed case", "https://*.CO.JP", "", false, "public suffix"},
		{"public suffix with port", "https://*.co.uk:8443", "", false, "public suffix"},
		{"own domain under co.uk", "https://*.example.co.uk", "https://*.example.co.uk", true, ""},
		{"shared hosting is not refused here", "https://*.github.io", "https://*.github.io", true, ""},
		{"unlisted top-level domain", "https://*.corp.internal", "https://*.corp.internal", true, ""},
		{"ip pattern", "https://*.127.0.0.1", "", false, "IP address"},
		{"non-http pattern", "chrome-extension://*.abc.def", "", false, "http and https"},
		{"non-ascii", "https://bücher.example", "", false, "punycode"},
		{"empty", "", "", false, "empty"},
		{"bad port", "https://a.com:99999", "", false, "host or port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := origin.ParseEntry(tt.in)
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) || !errors.Is(err, origin.ErrInvalid) {
					t.Fatalf("ParseEntry(%q): got error %v, want one containing %q", tt.in, err, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEntry(%q): %v", tt.in, err)
			}
			if e.Origin != tt.want || e.Pattern != tt.pattern {
				t.Errorf("ParseEntry(%q): got %q pattern=%v, want %q pattern=%v", tt.in, e.Origin, e.Pattern, tt.want, tt.pattern)
			}
		})
	}
}

func TestSetContains(t *testing.T) {
	t.Parallel()
	set, err := origin.NewSet([]string{"https://app.example.com", "http://localhost:3000", "https://*.example.org", "https://*.example.net:8443"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		want     bool
	}{
		{"exact", "https://app.example.com", true},
		{"exact with port", "http://localhost:3000", true},
		{"other port", "http://localhost:3001", false},
		{"no port", "http://localhost", false},
		{"other scheme", "http://app.example.com", false},
		{"explicit default port is not the serialisation", "https://app.example.com:443", false},
		{"uppercase host", "https://APP.example.com", false},
		{"trailing slash", "https://app.example.com/", false},
		{"suffix look-alike", "https://app.example.com.evil.net", false},
		{"prefix look-alike", "https://evilapp.example.com", false},
		{"subdomain of exact is not exact", "https://x.app.example.com", false},
		{"null", "null", false},
		{"empty", "", false},
		{"pattern subdomain", "https://a.example.org", true},
		{"pattern deep subdomain", "https://a.b.example.org", true},
		{"pattern apex is not a subdomain", "https://example.org", false},
		{"pattern look-alike", "https://evilexample.org", false},
		{"pattern suffix attack", "https://example.org.evil.net", false},
		{"pattern nested suffix attack", "https://a.example.org.evil.net", false},
		{"pattern scheme", "http://a.example.org", false},
		{"pattern port", "https://a.example.org:8443", false},
		{"pattern with port", "https://a.example.net:8443", true},
		{"pattern with port, no port", "https://a.example.net", false},
		{"pattern empty label", "https://.example.org", false},
		{"pattern uppercase", "https://A.example.org", false},
		{"pattern userinfo", "https://a.example.org@evil.net", false},
		{"pattern path", "https://a.example.org/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := set.Contains(tt.in); got != tt.want {
				t.Errorf("Contains(%q): got %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNewSetReportsEveryBadEntry(t *testing.T) {
	t.Parallel()
	_, err := origin.NewSet([]string{"https://ok.example.com", "https://bad.example.com/", "*.example.com"})
	if err == nil {
		t.Fatal("got nil error, want two")
	}
	for _, want := range []string{"[1]:", "[2]:", "trailing slash", "scheme://host"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q: want it to contain %q", err, want)
		}
	}
}

func TestNilSet(t *testing.T) {
	t.Parallel()
	var s *origin.Set
	if s.Contains("https://a.com") || s.Len() != 0 || s.Entries() != nil {
		t.Error("nil set matched or had entries")
	}
}

func TestSuffixes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		domain         string
		public, shared bool
	}{
		{"co.uk", true, false},
		{"com", true, false},
		{"com.au", true, false},
		{"example.co.uk", false, false},
		{"github.io", false, true},
		{"vercel.app", false, true},
		{"herokuapp.com", false, true},
		{"me.github.io", false, false},
		{"internal", false, false},
		{"corp.internal", false, false},
	} {
		if got := origin.PublicSuffix(tc.domain); got != tc.public {
			t.Errorf("PublicSuffix(%q): got %v, want %v", tc.domain, got, tc.public)
		}
		if got := origin.SharedHosting(tc.domain); got != tc.shared {
			t.Errorf("SharedHosting(%q): got %v, want %v", tc.domain, got, tc.shared)
		}
	}
}
