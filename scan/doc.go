// Package scan probes a running site over HTTP(S) against Rampart's security
// checklist and reports pass, warn or fail for each check, grouped by
// checklist item, with the site's grade on the MDN HTTP Observatory's
// scoring. It is what `rampart scan URL` runs.
//
// The threat is the gap between a configuration and what a site really
// answers: a header the framework drops on error pages, a session cookie
// without Secure, a CORS handler that echoes any Origin, a stack trace on a
// malformed body, a login that takes a thousand guesses. The scan looks at
// the answers, so it judges any site, whatever serves it.
//
// Run sends, one after another:
//
//   - GET of the URL, following at most MaxRedirects redirects: the
//     security headers, cookies and page graded;
//   - for an https URL, GET of the same path over plain HTTP (port 80, or
//     Config.HTTPPort), to check the redirect to HTTPS, and one TLS
//     handshake capped at TLS 1.1, which should be refused;
//   - a CORS preflight and three kinds of GET with a foreign Origin: an
//     arbitrary origin, "null", and two look-alikes of the site's host
//     (https://<host>.evil.example and https://evil<host>), the latter only
//     when arbitrary origins are not allowed anyway;
//   - GET of a random missing path, and a POST of malformed JSON to the URL,
//     whose answers are searched for stack traces, SQL errors, debug pages
//     and source paths (shield.Leak) and for versioned server banners;
//   - only with Config.LoginPath: a burst of at most LoginAttempts POSTs of
//     a wrong password, stopping at the first 429.
//
// Headers are graded by the MDN HTTP Observatory's rules
// (internal/observatory reproduces them); each test's score modifier maps to
// a verdict: 0 or more passes, -5 is a low warning, -10 a moderate one,
// -20 and -25 fail as high, worse fails as critical. docs/scan.md lists every
// check.
//
// # Security considerations
//
// The scan is polite and bounded: requests are sequential, at most
// Config.MaxRequests (default 31, never more than MaxRequestsLimit), each
// within Config.RequestTimeout, all within Config.Timeout; at most
// Config.MaxBodyBytes of each body and MaxHeaderBytes of each header block
// are read, so a hostile or broken site cannot exhaust memory or time. It
// connects directly (proxy variables are ignored), sends no credentials
// but the cookies the site itself sets, and names itself in User-Agent.
// The login burst uses the user name "rampart-scan": a site with per-account
// lockout locks that name, no real account.
//
// It fails closed: a probe that gets no answer is an errored check, which
// every --fail-on threshold counts as failing; only checks that a budget
// left unsent are skipped. An untrusted certificate stops the scan unless
// Config.InsecureSkipVerify; with it, the certificate is still verified and
// a failure is the critical tls-certificate finding. Text quoted from the
// site in a report is cut short, stripped of control characters and, for
// error bodies, redacted (shield.RedactText).
//
// # Concurrency
//
// Run is safe for concurrent use; each call has its own connections and
// cookies. A Report is a plain value.
//
// References: MDN HTTP Observatory tests and scoring,
// https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring;
// Fetch standard, CORS protocol, https://fetch.spec.whatwg.org/#http-cors-protocol;
// cookies, RFC 6265bis, https://datatracker.ietf.org/doc/draft-ietf-httpbis-rfc6265bis/;
// HSTS, RFC 6797; 429 Too Many Requests, RFC 6585; OWASP Web Security
// Testing Guide, https://owasp.org/www-project-web-security-testing-guide/.
package scan
