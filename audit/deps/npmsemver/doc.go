// Package npmsemver implements npm's semantic versioning: version
// precedence and the range grammar (caret, tilde, X-ranges, hyphen ranges,
// "||" unions) with the semantics of node-semver, including its loose
// parsing and includePrerelease options.
//
// The threat it serves is the silent miss. npm's advisories state affected
// versions as node-semver range strings, and npm audit decides with
// semver.satisfies(version, range, {includePrerelease: true, loose: true}).
// A matcher that reads those strings differently — treating a prerelease
// as outside "<4.17.11", or rejecting a loosely written version — would
// report a vulnerable package as clean. NPMAudit is that option set.
//
// # Security considerations
//
// Ranges and versions come from advisory feeds and lockfiles, both
// untrusted. Parsing uses linear-time regular expressions, never panics,
// and rejects numbers above 2^53-1 as node-semver does. Unlike
// semver.satisfies, which answers false for a range it cannot parse,
// ParseRange returns an error, so that callers can fail closed.
//
// # Concurrency
//
// Versions and Ranges are immutable after parsing and safe for concurrent
// use.
//
// Specification: https://semver.org/spec/v2.0.0.html and
// https://github.com/npm/node-semver#ranges.
package npmsemver
