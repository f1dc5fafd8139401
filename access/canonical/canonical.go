package canonical

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/rampartsec/rampart/problem"
)

// Reasons a path is refused. Each is a package-level value so that a
// rejection does not allocate; callers compare with errors.Is.
var (
	// ErrNotOriginForm: the request target is not an absolute path
	// ("/…"): absolute-form ("http://host/…"), authority-form (CONNECT) or
	// asterisk-form ("*").
	ErrNotOriginForm = errors.New("canonical: request target is not an absolute path")
	// ErrDelimiter: the path carries a raw '#' (a fragment, which clients
	// never send) or, when given to Path, a raw '?'.
	ErrDelimiter = errors.New("canonical: path contains a raw '#' or '?'")
	// ErrBadEscape: a '%' is not followed by two hexadecimal digits.
	ErrBadEscape = errors.New("canonical: path contains an invalid percent escape")
	// ErrEncodedSlash: the path contains %2F.
	ErrEncodedSlash = errors.New("canonical: path contains an encoded slash")
	// ErrBackslash: the path contains '\' or %5C.
	ErrBackslash = errors.New("canonical: path contains a backslash")
	// ErrDotSegment: a segment is "." or "..", spelled raw or encoded.
	ErrDotSegment = errors.New("canonical: path contains a dot segment")
	// ErrEmptySegment: the path contains "//".
	ErrEmptySegment = errors.New("canonical: path contains an empty segment")
	// ErrPathParameter: the path contains ';' or %3B.
	ErrPathParameter = errors.New("canonical: path contains a path parameter")
	// ErrControl: the path contains a control character, such as %00.
	ErrControl = errors.New("canonical: path contains a control character")
	// ErrInvalidUTF8: the decoded path is not valid UTF-8 (overlong forms,
	// surrogates, truncated sequences).
	ErrInvalidUTF8 = errors.New("canonical: path is not valid UTF-8")
	// ErrDoubleEncoding: the decoded path still contains a percent escape,
	// such as %252e, so a second decoding would change it.
	ErrDoubleEncoding = errors.New("canonical: path is encoded twice")
	// ErrLookalike: the path contains a character that some servers
	// normalise to a character that shapes a path ('.', '/', '\', '?',
	// '#', ';', '%'): every non-ASCII character whose Unicode
	// compatibility form (NFKC) contains one, and the Windows "best-fit"
	// mappings NFKC does not cover.
	ErrLookalike = errors.New("canonical: path contains a look-alike of '.', '/' or '\\'")
	// ErrEncodedDelimiter: the path contains an encoded '?' (%3F) or '#'
	// (%23). An application that decodes the path before splitting off
	// the query or fragment sees another path than the one routed. Path
	// and Request still return the canonical form with this error, so a
	// caller may choose to allow it (Handler never does).
	ErrEncodedDelimiter = errors.New("canonical: path contains an encoded '?' or '#'")
)

// rawOK lists the bytes written unencoded in a canonical path: RFC 3986's
// pchar (unreserved, sub-delims, ':' and '@') without ';', plus '/'. Every
// other byte is percent-encoded with upper-case hex digits. Go's url package
// accepts all of these in URL.RawPath, so the canonical form is exactly what
// URL.EscapedPath and httputil.ReverseProxy send on.
var rawOK = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~!$&'()*+,=:@/" {
		t[c] = true
	}
	return t
}()

// plain lists the bytes of rawOK that need no further checks: all but '.'
// and '/', which shape segments.
var plain = func() (t [256]bool) {
	t = rawOK
	t['.'], t['/'] = false, false
	return t
}()

//go:generate go run gen_lookalike.go

// lookalike reports whether r is turned into a character that shapes a
// path ('.', '/', '\\', '?', '#', ';', '%') by Unicode compatibility
// normalisation (NFKC), by Windows "best-fit" code page conversion or by
// IDNA's dot mapping. Servers that apply one after routing would turn
// "/public/．．／admin" into "/public/../admin". The table is generated
// from the normalisation data and checked against it, rune by rune, by
// TestLookalikeIsEveryNFKCForm. It does not allocate.
func lookalike(r rune) bool {
	lo, hi := 0, len(lookalikes)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch v := lookalikes[m]; {
		case v == r:
			return true
		case v < r:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

// Findings are conditions of a path that Inspect accepts and reports, for a
// caller to allow where it chooses: Path and Request refuse both.
type Findings struct {
	// EncodedDelimiter: the path holds an encoded '?' (%3F) or '#' (%23).
	EncodedDelimiter bool
	// PathParameter: the path holds a raw ';', as matrix-style parameters
	// do ("/items/;id=5"). A ';' spelled %3B, or one that follows a
	// segment of only dots ("/..;/admin"), is refused whatever the caller
	// allows: servers that strip path parameters would turn it into a dot
	// segment.
	PathParameter bool
}

// Path returns the canonical form of the escaped absolute path p (the part
// of a request target before any '?'), or one of the package's errors if p
// is ambiguous. The rules are in the package documentation. When p is
// already canonical, Path returns p itself and does not allocate. For
// ErrPathParameter on a raw ';' and for ErrEncodedDelimiter, Path returns
// the canonical form too.
func Path(p string) (string, error) {
	changed, f, err := scan(p)
	if err != nil {
		return "", err
	}
	if changed {
		p = rewrite(p)
	}
	return p, f.err()
}

// err is the error Path and Request return for f.
func (f Findings) err() error {
	switch {
	case f.PathParameter:
		return ErrPathParameter
	case f.EncodedDelimiter:
		return ErrEncodedDelimiter
	}
	return nil
}

// scan validates p and reports whether its spelling differs from the
// canonical one, and whether it holds an encoded '?' or '#'. It works on
// the decoded byte stream, so every check applies equally to a character
// and to its percent-encoded form.
func scan(p string) (changed bool, f Findings, err error) {
	if p == "" || p[0] != '/' {
		return false, f, ErrNotOriginForm
	}
	var (
		segLen   int  // decoded bytes in the current segment
		dotsOnly bool // the current segment is only '.' so far
		pct      int  // 1 after a decoded '%', 2 after a decoded '%' and a hex digit
		runeBuf  [utf8.UTFMax]byte
		runeLen  int // bytes collected of a multi-byte rune
		runeNeed int // bytes the rune needs in all
	)
	for i := 0; i < len(p); {
		c := p[i]
		if plain[c] && pct == 0 && runeNeed == 0 {
			// Fast path for the common bytes: nothing to check but
			// the segment's shape.
			i++
			segLen++
			dotsOnly = false
			continue
		}
		encoded := false
		switch {
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return false, f, ErrBadEscape
			}
			encoded = true
			if isLowerHex(p[i+1]) || isLowerHex(p[i+2]) {
				changed = true
			}
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 3
		case c == '#' || c == '?':
			return false, f, ErrDelimiter
		default:
			i++
		}

		// Multi-byte UTF-8: collect, then validate the whole rune. utf8
		// rejects overlong forms, surrogates and values past U+10FFFF.
		if runeNeed > 0 {
			if c&0xC0 != 0x80 {
				return false, f, ErrInvalidUTF8
			}
			runeBuf[runeLen] = c
			runeLen++
			if runeLen < runeNeed {
				segLen++
				dotsOnly = false
				if !encoded {
					changed = true
				}
				continue
			}
			r, size := utf8.DecodeRune(runeBuf[:runeLen])
			if r == utf8.RuneError && size <= 1 {
				return false, f, ErrInvalidUTF8
			}
			if lookalike(r) {
				return false, f, ErrLookalike
			}
			runeNeed, runeLen = 0, 0
			segLen++
			if !encoded {
				changed = true
			}
			continue
		}
		if c >= 0x80 {
			switch {
			case c&0xE0 == 0xC0:
				runeNeed = 2
			case c&0xF0 == 0xE0:
				runeNeed = 3
			case c&0xF8 == 0xF0:
				runeNeed = 4
			default:
				return false, f, ErrInvalidUTF8
			}
			runeBuf[0] = c
			runeLen = 1
			segLen++
			dotsOnly = false
			pct = 0
			if !encoded {
				changed = true // raw non-ASCII is written percent-encoded
			}
			continue
		}

		switch {
		case c < 0x20 || c == 0x7F:
			return false, f, ErrControl
		case c == '\\':
			return false, f, ErrBackslash
		case c == ';' && encoded:
			return false, f, ErrPathParameter
		case c == ';':
			if dotsOnly && segLen > 0 && segLen <= 2 {
				// "..;" is ".." to a server that strips parameters.
				return false, f, ErrDotSegment
			}
			f.PathParameter = true
		case c == '/' && encoded:
			return false, f, ErrEncodedSlash
		case (c == '?' || c == '#') && encoded:
			f.EncodedDelimiter = true
		}

		// A decoded "%XX" would decode again: %252e → %2e → '.'.
		switch {
		case c == '%' && encoded:
			pct = 1
		case pct > 0 && isHex(c):
			if pct == 2 {
				return false, f, ErrDoubleEncoding
			}
			pct = 2
		default:
			pct = 0
		}

		if c == '/' {
			if segLen == 0 && i > 1 {
				return false, f, ErrEmptySegment
			}
			if dotsOnly && segLen <= 2 && segLen > 0 {
				return false, f, ErrDotSegment
			}
			segLen, dotsOnly = 0, true
			continue
		}
		if segLen == 0 {
			dotsOnly = true
		}
		dotsOnly = dotsOnly && c == '.'
		segLen++
		if encoded == rawOK[c] && (encoded || c != ';') {
			// An unreserved or sub-delim character spelled with an
			// escape, or a character that must be escaped spelled raw.
			changed = true
		}
	}
	if runeNeed > 0 {
		return false, f, ErrInvalidUTF8
	}
	if dotsOnly && segLen > 0 && segLen <= 2 {
		return false, f, ErrDotSegment
	}
	return changed, f, nil
}

// rewrite returns the canonical spelling of p, which scan has accepted.
func rewrite(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + len(p)/2)
	for i := 0; i < len(p); {
		c := p[i]
		escaped := c == '%'
		if escaped {
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 3
		} else {
			i++
		}
		if rawOK[c] || c == ';' && !escaped {
			// A raw ';' stays raw: scan refused an encoded one.
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
	return b.String()
}

// Decode returns the decoded form of a canonical path: what URL.Path holds.
// It must only be given the output of Path.
func decode(p string) string {
	if strings.IndexByte(p, '%') < 0 {
		return p
	}
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		if p[i] == '%' {
			b = append(b, unhex(p[i+1])<<4|unhex(p[i+2]))
			i += 3
			continue
		}
		b = append(b, p[i])
		i++
	}
	return string(b)
}

// decodesTo reports whether the canonical path p decodes to s, without
// allocating.
func decodesTo(p, s string) bool {
	j := 0
	for i := 0; i < len(p); j++ {
		c := p[i]
		if c == '%' {
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 3
		} else {
			i++
		}
		if j >= len(s) || s[j] != c {
			return false
		}
	}
	return j == len(s)
}

// Request canonicalises r's path in place, or returns one of the package's
// errors and leaves r unchanged (except for ErrPathParameter on a raw ';' and
// ErrEncodedDelimiter, returned after r was canonicalised). The path is
// taken from r.RequestURI — the bytes the client sent — or, when RequestURI
// is empty (a request built in the same process), from r.URL.EscapedPath().
// On success r.URL.Path, r.URL.RawPath and r.RequestURI all hold the
// canonical path, so a router and a reverse proxy after it see the same
// path. The query string is kept verbatim. When the path is already
// canonical, Request does not allocate.
func Request(r *http.Request) error {
	f, err := Inspect(r)
	if err != nil {
		return err
	}
	return f.err()
}

// Inspect is Request for a caller that allows some Findings where it
// chooses (a route that declares matrix parameters, say): it canonicalises
// r's path in place and reports them, or returns one of the package's other
// errors and leaves r unchanged.
func Inspect(r *http.Request) (Findings, error) {
	raw, rest := r.RequestURI, ""
	if raw == "" {
		if r.URL == nil {
			return Findings{}, ErrNotOriginForm
		}
		raw = r.URL.EscapedPath()
	} else if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw, rest = raw[:i], raw[i:]
	}
	if r.Method == http.MethodConnect || r.URL == nil {
		// CONNECT names an authority, not a path; nothing behind a
		// gateway is addressed that way.
		return Findings{}, ErrNotOriginForm
	}
	changed, f, err := scan(raw)
	if err != nil {
		return f, err
	}
	canon := raw
	if changed {
		canon = rewrite(raw)
	}
	if canon == raw && decodesTo(canon, r.URL.Path) && (r.URL.RawPath == "" || r.URL.RawPath == canon) {
		// Already canonical and r.URL agrees with what was checked.
		return f, nil
	}
	r.URL.Path = decode(canon)
	r.URL.RawPath = canon
	if r.RequestURI != "" {
		r.RequestURI = canon + rest
	}
	return f, nil
}

// Handler returns a handler that canonicalises each request's path with
// Request before calling h. A request whose path is ambiguous is answered
// with a neutral 400 through problem.Write (policy "canonical") and never
// reaches h.
func Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := Request(r); err != nil {
			// Fail closed: an ambiguous path is refused, never guessed,
			// and so is an encoded '?' or '#'.
			reason := "path"
			if err == ErrEncodedDelimiter {
				reason = "encoded_delimiter"
			}
			problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "canonical", Reason: reason})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isLowerHex(c byte) bool { return 'a' <= c && c <= 'f' }

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
