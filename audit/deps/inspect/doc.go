// Package inspect looks inside the npm packages a lockfile pins: it gets
// each package's archive (from a content-addressed cache, the registry, or
// an installed node_modules tree), checks it is what the lockfile and the
// registry vouch for, reads what its code and install scripts can do, and
// reports all of it as supply-chain signals. Diff compares two lockfiles
// and says what an upgrade changes.
//
// The threat is the dependency that does more than it says (a postinstall
// that downloads and runs a script, a payload decoded and handed to eval),
// the one that is not what was published (a tampered archive or installed
// file, a forged registry signature), and the one installed by mistake (a
// typosquat). Advisories cover none of these until someone notices.
//
// # Security considerations
//
// Archives are untrusted: they are read in memory within bounds (package
// tarball), never unpacked to disk, so a hostile archive can write nothing
// anywhere; path traversal, links, special files and bombs are signals.
// Code is parsed, never run, with a size bound per file and a file-count
// bound per package.
//
// Inspection fails closed: a package whose archive cannot be had, whose
// metadata cannot be fetched, or whose archive was cut short by a bound is
// a Gap, so the audit is not reported clean. An archive that does not match
// the lockfile's integrity hash is a critical signal and is not analysed
// (it is not what would be installed from the lockfile). Archives are
// fetched only from the configured registry; a lockfile that resolves a
// package elsewhere is a gap, not a request to an unknown host.
//
// Registry signatures and attestations are verified with package registry
// against Config.TrustedRoot (the Sigstore public-good root by default):
// a provenance must have been built from the repository that the
// package.json of the pinned archive declares. An attestation that cannot
// be checked (a transparency log the root does not know) is a gap; one
// that is checked and false is a critical bad-attestation signal.
//
// A capability is not a verdict: a web framework reaches the network. Code
// that runs at install time is weighed apart (install-script-behaviour,
// high or critical); the same capability in library code is a low signal
// that --fail-on-signal can gate on and the ignores file can accept.
//
// # Concurrency
//
// Run and Diff may be called concurrently; each inspects packages with
// Config.Concurrency workers.
//
// Registry signatures: https://docs.npmjs.com/about-registry-signatures;
// provenance: https://docs.npmjs.com/generating-provenance-statements.
package inspect
