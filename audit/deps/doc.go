// Package deps audits a project's dependencies: it finds the lockfiles
// under a path, reads them (package lockfile), asks an advisory source
// which pinned versions are known to be vulnerable or malicious — OSV
// records offline (package osv) or npm's bulk advisory endpoint online
// (package npmaudit) — and reports findings, supply-chain risk signals and
// every gap that kept it from checking something.
//
// The threat is the dependency an attacker already knows how to exploit,
// and the one that slipped in outside the registry's controls: from git,
// an arbitrary tarball, a local path or another registry, without a strong
// integrity hash, or running code at install time.
//
// # Security considerations
//
// The audit fails closed. A lockfile entry that cannot be read, a version
// the source cannot order, or a package the chosen source does not cover is
// a gap, counted and reported; Report.Clean is true only when something
// was scanned and nothing was left out. Packages from the local file
// system, a link or a workspace are never matched against registry
// advisories — a same-named registry package is different code — and are
// reported as signals instead.
//
// Go's standard library appears in go.mod only as the go (or toolchain)
// directive, which is a minimum: the toolchain that builds the module may
// be newer. Matching stdlib advisories against that minimum would flag
// every module that supports an old Go, so stdlib is matched only against
// the toolchain version named in Config.GoVersion; without it, a signal
// says how many standard library advisories the declared minimum would
// carry.
//
// Ignored advisories (package ignore) must carry a reason and an expiry;
// expired ignores stop working and are reported.
//
// # Concurrency
//
// Scan may be called concurrently; a Report is not safe for concurrent
// mutation.
//
// Advisory format: https://ossf.github.io/osv-schema/. Output:
// SARIF 2.1.0, https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html.
package deps
