package selftest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Templates: ${name} is a variable of the target, ${name|f|g} applies the
// filters f then g to it. A filter that finds nothing to change makes the
// case not applicable to that target (reported as skipped, never as held).

var placeholderRe = regexp.MustCompile(`\$\{([a-z_0-9]+)((?:\|[a-z0-9_]+)*)\}`)

// variables every target may define; a case using one its target lacks is
// not applicable to it.
var variables = []string{
	"method", "path", "first", "rest", "last", "init", "host", "host_port", "marker", "ip",
	"inside_ip", "origin", "o_scheme", "o_host", "o_port", "o_parent", "token", "next",
	"issuer", "audience", "body", "valid_body", "content_type", "cookie", "csrf_header",
	"max_body", "identity_user", "identity_roles", "attacker_jwks_url", "i", "spoof_ip",
	"username", "password", "o_exact", "o_apex", "credentials", "o_downgrade", "deep_body", "bignum_body", "badutf8_body", "surrogate_body",
	"nan_body", "comment_body", "trailing_body", "bom_body", "single_quote_body", "dup_body", "dupesc_body", "huge_body",
}

// errNotApplicable means a case does not fit a target.
var errNotApplicable = errors.New("not applicable")

var filters = map[string]func(string) (string, bool){
	"upper": func(s string) (string, bool) { return strings.ToUpper(s), strings.ToUpper(s) != s },
	"lower": func(s string) (string, bool) { return strings.ToLower(s), strings.ToLower(s) != s },
	"title": func(s string) (string, bool) {
		if s == "" || s[0] < 'a' || s[0] > 'z' {
			return s, false
		}
		return string(s[0]-32) + s[1:], true
	},
	// enc1 percent-encodes the first byte, enclast the last, encall every
	// byte; lowerhex1 uses lower-case hex digits.
	"enc1":      func(s string) (string, bool) { return encodeAt(s, 0, "%%%02X") },
	"enclast":   func(s string) (string, bool) { return encodeAt(s, len(s)-1, "%%%02X") },
	"lowerhex1": func(s string) (string, bool) { return encodeAt(s, 0, "%%%02x") },
	"dblenc1":   func(s string) (string, bool) { return encodeAt(s, 0, "%%25%02X") },
	"encall": func(s string) (string, bool) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
		return b.String(), s != ""
	},
	// overlong1 writes the first byte as an overlong two-byte UTF-8
	// sequence (%C1%A1 for "a"), which lenient decoders read as the byte.
	"overlong1": func(s string) (string, bool) {
		if s == "" || s[0] >= 0x80 {
			return s, false
		}
		c := s[0]
		return fmt.Sprintf("%%%02X%%%02X", 0xC0|c>>6, 0x80|c&0x3F) + s[1:], true
	},
	// fullwidth1 replaces the first letter by its full-width form, which
	// NFKC folds back.
	"fullwidth1": func(s string) (string, bool) {
		return replaceFirst(s, func(r rune) (rune, bool) {
			if r > 0x20 && r < 0x7f {
				return r - 0x21 + 0xFF01, true
			}
			return r, false
		})
	},
	// cyr1 replaces the first letter that has one by a Cyrillic look-alike.
	"cyr1": func(s string) (string, bool) {
		return replaceFirst(s, func(r rune) (rune, bool) { c, ok := cyrillic[r]; return c, ok })
	},
	// dotless replaces an "i" by U+0131, whose upper case is "I"; kelvin a
	// "k" by U+212A, whose lower case is "k"; longs an "s" by U+017F,
	// whose upper case is "S".
	"dotless": func(s string) (string, bool) { return replaceRune(s, 'i', 'ı') },
	"kelvin":  func(s string) (string, bool) { return replaceRune(s, 'k', 'K') },
	"longs":   func(s string) (string, bool) { return replaceRune(s, 's', 'ſ') },
	// pct writes non-ASCII bytes percent-encoded (the form a client
	// sends); raw non-ASCII passes unchanged otherwise.
	"pct": func(s string) (string, bool) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				fmt.Fprintf(&b, "%%%02X", s[i])
			} else {
				b.WriteByte(s[i])
			}
		}
		return b.String(), true
	},
	"query": func(s string) (string, bool) { return url.QueryEscape(s), true },
	"json": func(s string) (string, bool) {
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1]), true
	},
	// nonempty makes the case not applicable when the value is empty.
	"nonempty":   func(s string) (string, bool) { return s, s != "" },
	"underscore": func(s string) (string, bool) { return strings.ReplaceAll(s, "-", "_"), strings.Contains(s, "-") },
	"dots":       func(s string) (string, bool) { return strings.ReplaceAll(s, "-", "."), strings.Contains(s, "-") },
	"len":        func(s string) (string, bool) { return fmt.Sprint(len(s)), true },
	"hex":        func(s string) (string, bool) { return fmt.Sprintf("%x", len(s)), true },
}

var cyrillic = map[rune]rune{'a': 'а', 'c': 'с', 'e': 'е', 'i': 'і', 'j': 'ј', 'o': 'о', 'p': 'р', 's': 'ѕ', 'x': 'х', 'y': 'у'}

func encodeAt(s string, i int, format string) (string, bool) {
	if i < 0 || i >= len(s) {
		return s, false
	}
	return s[:i] + fmt.Sprintf(format, s[i]) + s[i+1:], true
}

func replaceFirst(s string, f func(rune) (rune, bool)) (string, bool) {
	for i, r := range s {
		if n, ok := f(r); ok {
			return s[:i] + string(n) + s[i+utf8.RuneLen(r):], true
		}
	}
	return s, false
}

func replaceRune(s string, from, to rune) (string, bool) {
	i := strings.IndexRune(s, from)
	if i < 0 {
		return s, false
	}
	return s[:i] + string(to) + s[i+1:], true
}

// expand fills the template t from vars.
func expand(t string, vars map[string]string) (string, error) {
	var err error
	out := placeholderRe.ReplaceAllStringFunc(t, func(m string) string {
		if err != nil {
			return ""
		}
		sub := placeholderRe.FindStringSubmatch(m)
		v, ok := vars[sub[1]]
		if !ok {
			err = errNotApplicable
			return ""
		}
		for _, f := range strings.Split(sub[2], "|")[1:] {
			var changed bool
			v, changed = filters[f](v)
			if !changed {
				err = errNotApplicable
				return ""
			}
		}
		return v
	})
	return out, err
}

// checkTemplates reports unknown variables and filters in a case.
func checkTemplates(cs *Case) error {
	texts := []string{cs.Raw, cs.Method, cs.Target, cs.Body, cs.Origin, cs.Next}
	if cs.Host != nil {
		texts = append(texts, *cs.Host)
	}
	texts = append(texts, cs.Headers...)
	if cs.Token != nil {
		for _, v := range cs.Token.Header {
			texts = append(texts, v)
		}
		for _, v := range cs.Token.Claims {
			texts = append(texts, v)
		}
	}
	var errs []error
	for _, t := range texts {
		for _, m := range placeholderRe.FindAllStringSubmatch(t, -1) {
			if !slices.Contains(variables, m[1]) {
				errs = append(errs, fmt.Errorf("unknown variable ${%s}", m[1]))
			}
			for _, f := range strings.Split(m[2], "|")[1:] {
				if _, ok := filters[f]; !ok {
					errs = append(errs, fmt.Errorf("unknown filter %q in ${%s%s}", f, m[1], m[2]))
				}
			}
		}
		if strings.Contains(placeholderRe.ReplaceAllString(t, ""), "${") {
			errs = append(errs, fmt.Errorf("malformed placeholder in %q", t))
		}
	}
	return errors.Join(errs...)
}
