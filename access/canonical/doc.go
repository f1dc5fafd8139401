// Package canonical gives every request path exactly one spelling, and
// refuses the spellings that different servers read differently.
//
// A URL allow-list is only as strong as the agreement between the component
// that checks the path and the application that serves it. Path-confusion
// bypasses live in the gap: "/public/..%2fadmin" is under /public for one
// parser and is /admin for another; "/admin;x=1" is not "/admin" for a
// router but is for Tomcat; "/public/..\admin" is a directory escape on
// Windows. This package closes the gap from both sides: the allow-list (a
// router) only ever sees the canonical path, and the upstream receives
// exactly that path, byte for byte.
//
// # The rules
//
// The path is taken from the request target as the client sent it
// (r.RequestURI), decoded once, checked, and written back in one spelling.
// The query string is not part of the path and is passed on unchanged.
//
// Refused with 400 Bad Request (ambiguous; never guessed):
//
//   - a target that is not an absolute path: absolute-form
//     ("GET http://host/admin"), authority-form (CONNECT) and asterisk-form
//     ("OPTIONS *"). RFC 9112 asks origin servers to accept absolute-form,
//     but only forward proxies are sent it; in front of an application it
//     is only ever a way to make two components disagree about the host;
//   - "." and ".." segments, raw or encoded ("%2e", "%2E%2e", ".%2e");
//     browsers and curl remove them before sending, so one that arrives is
//     deliberate;
//   - empty segments ("//", "/a//b"), which some servers merge and others
//     read as a scheme-relative URL;
//   - an encoded slash "%2F", which is a separator for some servers and
//     data for others;
//   - backslashes, raw or "%5C", a separator on Windows and in WHATWG URL
//     parsing;
//   - ';' and "%3B": path parameters ("/admin;x=1", "/public/..;/admin"),
//     which Java servlet containers strip before routing ("..;" and ".;"
//     are dot segments to them, and refused as such; Inspect reports any
//     other raw ';' as a finding, for a caller that serves OpenAPI
//     matrix-style parameters on some routes);
//   - control characters after decoding, "%00" included;
//   - bytes that do not decode to valid UTF-8: overlong forms ("%C0%AF"),
//     surrogates, truncated sequences;
//   - a path that a second decoding would change: "%25" followed by two
//     hex digits, as in "%252e" or "%252F";
//   - a malformed escape ("%zz", "%2"), a raw '#';
//   - characters that Unicode compatibility normalisation or Windows
//     "best-fit" conversion turn into '.', '/' or '\' (fullwidth "．",
//     "／", "＼", one dot leader, division and fraction slash, …).
//
// Rewritten to the one canonical spelling (same resource, RFC 3986 §6.2.2):
//
//   - unreserved characters, sub-delimiters, ':' and '@' are written raw
//     ("%61dmin" becomes "admin", "%21" becomes "!");
//   - every other byte is percent-encoded with upper-case hex digits
//     ("%c3%a9" becomes "%C3%A9", a raw UTF-8 "é" becomes "%C3%A9", '"',
//     '<', '{' and '%' itself are encoded).
//
// Kept as they are, because they name different resources:
//
//   - case: "/ADMIN" is not "/admin" (RFC 3986 paths are case-sensitive);
//     a default-deny route table refuses it unless a route matches it;
//   - a trailing slash: "/admin/" is not "/admin".
//
// The canonical form is a fixed point: Path of a canonical path returns it
// unchanged. It never contains a dot segment, "//", a backslash, a control
// character, "%2F", "%5C", "%3B", or a decoded "%XX".
//
// # Security considerations
//
// Handler must be the first thing to look at the path: before routing, and
// before any middleware that rewrites r.URL. It leaves r.URL.Path,
// r.URL.RawPath and r.RequestURI in agreement, so http.ServeMux never
// redirects a canonical path (its cleaning is then a no-op) and
// httputil.ReverseProxy sends the canonical path upstream. An upstream
// whose paths are case-insensitive (Express by default, ASP.NET, IIS) must
// not rely on a route that only denies: in a default-deny table, "/ADMIN"
// matches nothing and is refused, but behind a catch-all route it would
// reach such an application as "/admin".
//
// # Concurrency
//
// Every function is safe for concurrent use; Request modifies only the
// request it is given.
//
// References: RFC 3986 §3.3, §5.2.4 and §6 (https://www.rfc-editor.org/rfc/rfc3986);
// RFC 9112 §3.2 (https://www.rfc-editor.org/rfc/rfc9112#section-3.2);
// OWASP Web Security Testing Guide, path traversal.
package canonical
