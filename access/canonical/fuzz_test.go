package canonical_test

import (
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampartsec/rampart/access/canonical"
)

// FuzzPath checks the invariants of canonicalisation for arbitrary input:
// no panic; an accepted path's canonical form is accepted unchanged
// (idempotence), means the same once decoded, contains none of the refused
// constructs, is what net/url and http.ServeMux keep as is, and does not
// decode differently a second time.
func FuzzPath(f *testing.F) {
	for _, s := range []string{
		"/", "/public/index.html", "/public/..%2fadmin", "/%2e%2e/", "/%252e", "//admin",
		"/ADMIN", "/admin/", "/admin;/", "/admin%00", "/public/../admin", `\admin`,
		"http://host/admin", "/caf%c3%a9", "/café", "/%c0%ae", "/a%20b", "/x%25zz",
		"/%EF%BC%8F", "/a!$&'()*+,=:@~", `/a"<>{}|^` + "`",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := canonical.Path(in)
		// Path parameters (a raw ';') and encoded delimiters come with
		// the canonical form, for a caller that allows them on a route.
		flagged := err == canonical.ErrPathParameter || err == canonical.ErrEncodedDelimiter
		if err != nil && (out == "" || !flagged) {
			if out != "" {
				t.Fatalf("Path(%q) returned %q with error %v", in, out, err)
			}
			return
		}
		again, err2 := canonical.Path(out)
		if err2 != err || again != out {
			t.Fatalf("not idempotent: Path(%q) = %q, %v; Path(%q) = %q, %v", in, out, err, out, again, err2)
		}
		decodedIn, err1 := url.PathUnescape(in)
		decodedOut, err2 := url.PathUnescape(out)
		if err1 != nil || err2 != nil || decodedIn != decodedOut {
			t.Fatalf("meaning changed: %q decodes to %q (%v), %q decodes to %q (%v)", in, decodedIn, err1, out, decodedOut, err2)
		}
		if !utf8.ValidString(decodedOut) {
			t.Fatalf("accepted invalid UTF-8: %q", in)
		}
		if twice, err := url.PathUnescape(decodedOut); err == nil && twice != decodedOut {
			t.Fatalf("%q decodes differently a second time: %q then %q", in, decodedOut, twice)
		}
		if !strings.HasPrefix(out, "/") || strings.Contains(out, "//") {
			t.Fatalf("bad shape: %q", out)
		}
		for _, seg := range strings.Split(decodedOut, "/") {
			// A server that strips path parameters sees the segment
			// up to its first ';'.
			if i := strings.IndexByte(seg, ';'); i >= 0 {
				seg = seg[:i]
			}
			if seg == "." || seg == ".." {
				t.Fatalf("dot segment in %q (from %q)", out, in)
			}
		}
		if strings.Contains(out, ";") != (err == canonical.ErrPathParameter) {
			t.Fatalf("Path(%q) = %q with error %v: a ';' must be reported, and only then", in, out, err)
		}
		up := strings.ToUpper(out)
		for _, bad := range []string{`\`, "%2F", "%5C", "%3B", "%2E", "#", "?"} {
			if strings.Contains(up, bad) {
				t.Fatalf("output %q (from %q) contains %q", out, in, bad)
			}
		}
		for i := 0; i < len(decodedOut); i++ {
			if c := decodedOut[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("control character in %q", decodedOut)
			}
		}
		// What the router cleans and what the proxy sends.
		cleaned := path.Clean(out)
		if strings.HasSuffix(out, "/") && cleaned != "/" {
			cleaned += "/"
		}
		if cleaned != out {
			t.Fatalf("ServeMux would redirect %q to %q", out, cleaned)
		}
		u, err := url.ParseRequestURI(out)
		if err != nil || u.EscapedPath() != out || u.Path != decodedOut {
			t.Fatalf("net/url does not keep %q: %v %q %q", out, err, u.EscapedPath(), u.Path)
		}
	})
}
