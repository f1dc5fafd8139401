// Package cookies hardens the cookies an application sets: it adds the
// Secure, HttpOnly and SameSite attributes the application forgot to the
// Set-Cookie headers of its responses, per cookie name or for all of them,
// as nginx's proxy_cookie_flags does.
//
// A session cookie without Secure travels in clear text the first time a
// user types the site's name without https://; without HttpOnly any
// injected script reads it; without SameSite older browsers attach it to
// cross-site requests (CSRF). Applications behind a gateway often cannot be
// changed quickly, and `rampart scan` reports exactly these omissions.
//
// # Defaults
//
// With the zero Config, Secure is added when the request reached the site
// over HTTPS (never over plain HTTP, where a browser would drop the
// cookie), and SameSite=Lax where the cookie says nothing. HttpOnly is
// opt-in per cookie: applications read some of their cookies from script
// (a CSRF token for their framework, a UI preference), and HttpOnly on
// those would break them.
//
// # Security considerations
//
// Attributes are only ever added or tightened, except where a rule for a
// named cookie sets same_site explicitly, which replaces the application's
// value (to loosen one cookie to None deliberately, for example). Set-Cookie
// values are parsed only as far as the cookie name and the attribute names;
// the value is never decoded and never changed.
//
// # Concurrency
//
// A Hardener is immutable after New and safe for concurrent use.
//
// Specification: RFC 6265bis (Secure, HttpOnly, SameSite),
// https://datatracker.ietf.org/doc/draft-ietf-httpbis-rfc6265bis/
package cookies
