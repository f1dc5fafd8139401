package auth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Redirects decides where a user may be sent after logging in: to a path
// on this site, or to an allow-listed origin. It is immutable and safe for
// concurrent use.
//
// An open redirect turns a trusted login page into a phishing tool: the
// victim logs in on the real site and lands on the attacker's. Browsers
// are lenient about what counts as an absolute URL, so the check is
// strict: a relative target must be a plain path ("/x", never "//x",
// "/\x" or anything that percent-decodes to those), must not contain
// control characters, spaces or backslashes (browsers drop tabs and
// newlines and read "\" as "/"), and an absolute target must spell out
// "http://" or "https://" and name an allowed origin exactly.
type Redirects struct {
	origins map[string]struct{}
}

// MaxRedirectLen bounds the length of a redirect target.
const MaxRedirectLen = 2048

// NewRedirects returns a Redirects that allows paths on this site and the
// given origins ("https://app.example.com", "http://localhost:3000").
// Origins must be scheme, host and optional port, without path.
func NewRedirects(origins []string) (*Redirects, error) {
	rd := &Redirects{origins: make(map[string]struct{}, len(origins))}
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o, "*\\") {
			return nil, fmt.Errorf("auth: redirect origin %q must be scheme://host[:port]", o)
		}
		rd.origins[strings.ToLower(u.Scheme+"://"+u.Host)] = struct{}{}
	}
	return rd, nil
}

// errUnsafe is the reason Sanitize reports for any refused target.
var errUnsafe = errors.New("auth: unsafe redirect target")

// Sanitize returns target if it is safe to redirect to, and false
// otherwise; callers then use their default ("/"). A nil *Redirects allows
// relative paths only.
func (rd *Redirects) Sanitize(target string) (string, bool) {
	if err := rd.check(target); err != nil {
		return "", false
	}
	return target, true
}

func (rd *Redirects) check(target string) error {
	if target == "" || len(target) > MaxRedirectLen {
		return errUnsafe
	}
	for i := 0; i < len(target); i++ {
		// Control characters, space, backslash and anything non-ASCII:
		// browsers strip or reinterpret them. A legitimate target has
		// them percent-encoded.
		if c := target[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return errUnsafe
		}
	}
	if target[0] == '/' {
		return checkPath(target)
	}
	lower := strings.ToLower(target)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
		// "javascript:", "data:", "https:evil.com", "evil.com", "?x": no.
		return errUnsafe
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return errUnsafe
	}
	if rd == nil {
		return errUnsafe
	}
	if _, ok := rd.origins[strings.ToLower(u.Scheme+"://"+u.Host)]; !ok {
		return errUnsafe
	}
	if u.Path != "" {
		return checkPath(u.EscapedPath())
	}
	return nil
}

// checkPath accepts a path that stays on the site however many times it
// is percent-decoded: never "//host" or "/\host" in any decoding, never a
// control character. Servers and frameworks that decode once more and
// redirect again are what the repeated decoding protects.
func checkPath(p string) error {
	for range 4 {
		if len(p) >= 2 && p[0] == '/' && (p[1] == '/' || p[1] == '\\') {
			return errUnsafe
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; c < ' ' || c == 0x7f || c == '\\' {
				return errUnsafe
			}
		}
		if hasDotSegment(p) {
			// "/..//evil.com" resolves to "//evil.com" in a path.
			return errUnsafe
		}
		if !strings.Contains(p, "%") {
			return nil
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			return errUnsafe
		}
		if d == p {
			return nil
		}
		p = d
	}
	// Still encoded after four rounds: nobody needs that.
	return errUnsafe
}

// hasDotSegment reports whether the path part of p has a "." or ".."
// segment.
func hasDotSegment(p string) bool {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
