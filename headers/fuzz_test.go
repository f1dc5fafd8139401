package headers_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampartsec/rampart/headers"
)

// FuzzParseReports feeds arbitrary bodies to the report parser: it must not
// panic, must respect the report cap, and must only return sanitised fields.
func FuzzParseReports(f *testing.F) {
	f.Add([]byte(cspReportBody))
	f.Add([]byte(reportsJSONBody))
	f.Add([]byte(`[{"type":"csp-violation","body":null}]`))
	f.Add([]byte(`{"csp-report":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		vs, err := headers.ParseReports(body, 5)
		if err != nil {
			return
		}
		if len(vs) > 5 {
			t.Fatalf("got %d reports, want at most 5", len(vs))
		}
		for _, v := range vs {
			for _, s := range []string{v.DocumentURL, v.BlockedURL, v.SourceFile, v.Sample} {
				if len(s) > 256 || !utf8.ValidString(s) || strings.ContainsAny(s, "?#\n\r\x00") && s != v.Sample {
					t.Fatalf("unsanitised field %q", s)
				}
			}
			if strings.ContainsAny(v.Directive, " '\"<>") {
				t.Fatalf("directive %q is not a safe label", v.Directive)
			}
		}
	})
}

// FuzzDirectives checks that whatever a configuration holds, a policy that
// builds cannot carry a header break or an extra directive.
func FuzzDirectives(f *testing.F) {
	f.Add("script-src", "'self'", "https://cdn.example.com")
	f.Add("img-src", "data:", "*.example.com:443/p")
	f.Add("sandbox", "allow-forms", "allow-scripts")
	f.Add("script-src", "'self';object-src", "*")
	f.Fuzz(func(t *testing.T, name, a, b string) {
		d := headers.Directives{"default-src": {"'self'"}, name: {a, b}}
		v, err := d.Build()
		if err != nil {
			return
		}
		if strings.ContainsAny(v, "\r\n,\x00") {
			t.Fatalf("policy %q contains a header-breaking character", v)
		}
		if got := strings.Count(v, ";"); got != len(d)-1 && !(strings.EqualFold(strings.TrimSpace(name), "default-src")) {
			t.Fatalf("policy %q has %d separators, want %d", v, got, len(d)-1)
		}
	})
}
