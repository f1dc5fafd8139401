package printable

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe reports whether s prints as itself: no control, format or invalid
// character.
func Safe(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		if !ok(r) {
			return false
		}
		i += size
	}
	return true
}

// Escape returns s with every character that Safe refuses written as a Go
// escape: "\x1b", "\r", "\n", "\u202e". A backslash is doubled only when the
// string needs escaping at all, so ordinary text is returned unchanged.
func Escape(s string) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case !ok(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !ok(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case !ok(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// ok reports whether r prints as itself.
func ok(r rune) bool {
	if r == ' ' {
		return true
	}
	if !unicode.IsGraphic(r) || unicode.Is(unicode.Bidi_Control, r) {
		return false
	}
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad':
		return false
	}
	return !unicode.Is(unicode.Cf, r)
}
