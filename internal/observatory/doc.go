// Package observatory grades a site's response headers the way the MDN HTTP
// Observatory does, so tests can check that rampart's presets score at least
// as well as helmet's without a public scanner.
//
// Score reproduces the rules of npm @mdn/mdn-http-observatory 1.4.8
// (AlgorithmVersion), one function per upstream test:
//
//	content-security-policy        src/analyzer/tests/csp.js, cspParser.js
//	cookies                        src/analyzer/tests/cookies.js
//	cross-origin-resource-sharing  src/analyzer/tests/cors.js
//	redirection                    src/analyzer/tests/redirection.js
//	referrer-policy                src/analyzer/tests/referrer-policy.js
//	strict-transport-security      src/analyzer/tests/strict-transport-security.js
//	subresource-integrity          src/analyzer/tests/subresource-integrity.js
//	x-content-type-options         src/analyzer/tests/x-content-type-options.js
//	x-frame-options                src/analyzer/tests/x-frame-options.js
//	cross-origin-resource-policy   src/analyzer/tests/cross-origin-resource-policy.js
//
// and the score as src/scanner/index.js computes it: 100 plus every test's
// modifier (src/grader/charts.js, SCORE_TABLE), where bonuses count only
// when the score from penalties alone is at least 90, and letters from
// GRADE_CHART. Source: https://github.com/mdn/mdn-http-observatory; scoring
// documentation: https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring.
//
// Deviations, none of which matter for loopback test servers: the HSTS
// preload list is not consulted; CSP and other headers in <meta
// http-equiv> are not read; several CSP headers are merged rather than
// intersected; subresource integrity uses a tag scanner instead of a DOM and
// approximates the registrable domain by the last two labels; cookies are
// judged from every Set-Cookie line rather than from a cookie jar, so a
// cookie set twice counts twice (the worst result is the same), though
// prefixed cookies the jar would refuse are left out as it does.
//
// # Security considerations
//
// This is a test aid, internal to rampart. Retrieve talks only to the
// target it is given, with bounded timeouts and body sizes.
//
// # Concurrency
//
// Score and Retrieve are safe for concurrent use.
package observatory
