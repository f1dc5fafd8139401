package scan

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rampartsec/rampart/internal/observatory"
)

var fuzzNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// FuzzParseCookie: any Set-Cookie line a site sends parses without panic
// into a cookie with a name and a lifetime that is never negative.
func FuzzParseCookie(f *testing.F) {
	for _, s := range []string{
		"connect.sid=s%3Aabc; Path=/; HttpOnly",
		"__Host-sid=1; Path=/; Secure; HttpOnly; SameSite=Lax",
		"remember_me=1; Max-Age=315360000; Path=/; Expires=Sun, 23 Nov 2036 01:58:38 GMT",
		"a=b; Max-Age=99999999999999999999999999",
		"a=b; Max-Age=-99999999999999999999999999",
		"a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
		"=novalue", ";;;", "x=y; SameSite", "__Secure-x=1; domain=.example.com; path=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, ok := parseCookie(line, fuzzNow)
		if !ok {
			return
		}
		if c.name == "" || strings.Contains(c.name, ";") {
			t.Errorf("name %q from %q", c.name, line)
		}
		if c.lifetime < 0 {
			t.Errorf("negative lifetime %s from %q", c.lifetime, line)
		}
		_ = c.prefixProblem()
	})
}

// FuzzEvaluate: whatever headers and body a site answers with, grading
// and verdicts run without panic, every check gets a known status, and no
// detail carries a control character.
func FuzzEvaluate(f *testing.F) {
	f.Add("default-src 'self'", "max-age=31536000; includeSubDomains", "sessionid=1; Secure", "nginx/1.18.0", "https://evil.example", "true",
		"<script src=http://cdn.example/x.js></script>", "at f (/app/x.js:1:2)")
	f.Add("script-src 'nonce-abc' 'strict-dynamic'; default-src 'none'", "max-age=abc,", "__Host-a=1; SameSite=None", "", "null", "TRUE", "", "")
	f.Add(";;;", "", "x=\x00", "\u009b", "*", "", "<script integrity=sha384-x src=//a>", "Traceback (most recent call last)")
	f.Fuzz(func(t *testing.T, csp, hsts, cookie, server, acao, acac, body, errBody string) {
		h := http.Header{}
		for k, v := range map[string]string{
			"Content-Security-Policy": csp, "Strict-Transport-Security": hsts, "Set-Cookie": cookie, "Server": server,
			"Access-Control-Allow-Origin": acao, "Access-Control-Allow-Credentials": acac, "Content-Type": "text/html",
			"Referrer-Policy": csp, "X-Frame-Options": server, "Cross-Origin-Opener-Policy": acac,
		} {
			if v != "" {
				h.Set(k, v)
			}
		}
		u, _ := url.Parse("https://example.com/")
		final := &response{url: u, status: 200, header: h, body: []byte(body)}
		bad := &response{url: u, status: 400, header: h, body: []byte(errBody)}
		ev := &evidence{
			cfg: Config{HTTPPort: 80}, start: u, chain: []*response{final}, final: final, https: final,
			preflight: probe{resp: final},
			cors:      []corsProbe{{kind: "arbitrary", origin: arbitraryOrigin, probe: probe{resp: final}}, {kind: "null", origin: nullOrigin, probe: probe{resp: bad}}},
			notFound:  probe{resp: bad}, malformed: probe{resp: bad},
			login: &login{path: "/login", attempts: 3, planned: 20, statuses: map[int]int{401: 3}},
		}
		checks := evaluate(ev, observatory.Score(ev.site()), fuzzNow)
		if len(checks) != len(definitions) {
			t.Fatalf("got %d checks, want %d", len(checks), len(definitions))
		}
		for _, c := range checks {
			switch c.Status {
			case Pass, Warn, Fail, Skip, Errored:
			default:
				t.Errorf("%s: status %q", c.ID, c.Status)
			}
			if strings.ContainsFunc(c.Detail, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }) {
				t.Errorf("%s: control character in %q", c.ID, c.Detail)
			}
			if !utf8.ValidString(c.Detail) && utf8.ValidString(body+errBody+csp+hsts+cookie+server) {
				t.Errorf("%s: invalid UTF-8 from valid input: %q", c.ID, c.Detail)
			}
		}
	})
}
