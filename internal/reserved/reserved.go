// Package reserved removes the request headers that only Rampart may send
// to the upstream — identity, CSP nonce, CSRF token, forwarding and
// client-address headers — in every spelling an application could read them
// in.
//
// Go canonicalises header names, but many application servers (PHP, Rack,
// WSGI, CGI, Perl) also read "_" and "." as "-": to them X_Rampart_User and
// X.Rampart.User are X-Rampart-User. Deleting only the canonical name would
// let a client smuggle its own value past the gateway under another
// spelling, so matching ignores case and reads "_" and "." as "-".
package reserved

import (
	"net/http"
	"strings"
)

// Names is a set of reserved header names. Its zero value reserves nothing.
// It is immutable and safe for concurrent use.
type Names struct {
	folded []string
}

// New returns the set of names (duplicates and empty names ignored).
func New(names ...string) Names {
	var n Names
	for _, name := range names {
		if name == "" {
			continue
		}
		f := Fold(name)
		if !n.has(f) {
			n.folded = append(n.folded, f)
		}
	}
	return n
}

// With returns n plus names.
func (n Names) With(names ...string) Names {
	out := Names{folded: append([]string(nil), n.folded...)}
	for _, name := range names {
		if f := Fold(name); name != "" && !out.has(f) {
			out.folded = append(out.folded, f)
		}
	}
	return out
}

func (n Names) has(f string) bool {
	for _, x := range n.folded {
		if x == f {
			return true
		}
	}
	return false
}

// Strip deletes from h every header whose name is one of n, in any case,
// with "_" and "." read as "-". It does not allocate.
func (n Names) Strip(h http.Header) {
	if len(n.folded) == 0 {
		return
	}
	for k := range h {
		for _, f := range n.folded {
			if equal(k, f) {
				delete(h, k)
				break
			}
		}
	}
}

// Fold returns the form in which header names are compared: lower case,
// with "_" and "." read as "-".
func Fold(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if c == '_' || c == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

// foldByte is Fold for one byte.
func foldByte(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c + 'a' - 'A'
	case c == '_' || c == '.':
		return '-'
	}
	return c
}

// equal reports whether header name k equals the folded name f, ignoring
// case and reading "_" and "." as "-", without allocating.
func equal(k, f string) bool {
	if len(k) != len(f) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if foldByte(k[i]) != f[i] {
			return false
		}
	}
	return true
}
