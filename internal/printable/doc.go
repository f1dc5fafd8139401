// Package printable makes untrusted text safe to print on a terminal or in
// a CI log.
//
// Package names, versions, paths and messages in audit reports come from
// files an attacker may control (a lockfile in a pull request). Printed raw,
// an ESC starts ANSI colour and cursor sequences or OSC hyperlinks and
// window titles; CR and LF forge whole report lines and, at the start of a
// line, GitHub Actions "::" workflow commands; bidirectional overrides make
// text read differently from what it is. Escape replaces every such
// character with a visible Go-style escape, so what is printed is exactly
// one line of inert text.
//
// # Security considerations
//
// The test is an allow-list: a rune passes only when it is graphic
// (unicode.IsGraphic) or an ASCII space, and is not a bidirectional
// control, a zero-width character or U+FEFF. Invalid UTF-8 is escaped byte
// by byte.
//
// # Concurrency
//
// The functions are pure and safe for concurrent use.
package printable
