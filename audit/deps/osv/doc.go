// Package osv reads vulnerability records in the Open Source Vulnerability
// format — from a directory of JSON files or from OSV's per-ecosystem
// all.zip archives — indexes them by ecosystem and package name, and
// decides which records affect a given package version.
//
// The threat it serves is the known-vulnerable or known-malicious
// dependency. Matching follows the OSV schema's evaluation rules:
// affected[].versions lists exact versions; SEMVER and ECOSYSTEM ranges are
// walked event by event (introduced, fixed, last_affected) in the
// ecosystem's version order, a range's limit events bound it from above,
// and every range of every affected entry is evaluated — a GIT range,
// which this package cannot evaluate without the repository, never hides
// the SEMVER or ECOSYSTEM ranges after it. Withdrawn records never match.
//
// Version order is npm's (node-semver precedence, prereleases before their
// release) for npm, and Go's (semantic versions with a "v" prefix added,
// pseudo-versions and +incompatible versions as the go command orders
// them, Go release names such as "1.21rc1" mapped to "1.21.0-rc.1") for Go.
//
// # Security considerations
//
// Advisory files are downloaded data and are treated as untrusted: a record
// that is not valid JSON is an error naming the file; zip archives are read
// with per-entry and total size limits. A range whose versions cannot be
// read in the ecosystem's order cannot be decided; it is counted in
// DB.Unevaluable so that callers can warn, and does not match.
//
// # Concurrency
//
// A DB is immutable once loaded and safe for concurrent use.
//
// Specification: https://ossf.github.io/osv-schema/.
package osv
