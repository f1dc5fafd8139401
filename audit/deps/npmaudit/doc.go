// Package npmaudit checks npm packages against the npm registry's bulk
// advisory endpoint, as npm audit does, and converts npm advisories to OSV
// records for offline use.
//
// The registry answers a POST of {"name": ["version", …]} to
// /-/npm/v1/security/advisories/bulk with the advisories of each name and
// their affected ranges as node-semver range strings. The registry does not
// decide which of the posted versions are affected: the client does, and
// npm audit does so with semver.satisfies(version, range,
// {includePrerelease: true, loose: true}). Source applies the same test
// (package npmsemver), so a prerelease of a vulnerable line is reported as
// npm reports it.
//
// # Security considerations
//
// The registry's answer is untrusted input: it is size-limited, decoded
// strictly into the fields used, and a range that cannot be parsed is not
// read as "not affected" (npm's behaviour) but reported as an unchecked
// package, so the audit fails closed. Requests carry only package names and
// versions — the same data npm audit sends — and honour the context's
// deadline. Packages from git, tarballs or the local file system are not
// sent.
//
// # Concurrency
//
// A Source is safe for concurrent use.
//
// Endpoint: https://docs.npmjs.com/cli/commands/npm-audit#audit-endpoints.
package npmaudit
