// Package osvdb keeps a local copy of OSV's per-ecosystem advisory
// archives (all.zip) for offline audits: it downloads them, replaces the
// copy atomically, and tells how old the copy is.
//
// The threat is a stale or corrupted database: an audit against last
// year's advisories reports "clean" for what was disclosed since, and a
// half-written archive would silently drop records. Update therefore
// writes each download to a temporary file beside the archive, checks that
// every record in it parses, flushes it to disk and only then renames it
// over the old archive, so an interrupted or failed update leaves the
// previous copy untouched. Open reports the time of the last successful
// download so that callers can warn when it is old.
//
// Layout of a database directory:
//
//	<dir>/<ecosystem>/all.zip       the archive, as OSV publishes it
//	<dir>/<ecosystem>/all.zip.meta  when and from where it was fetched
//
// # Security considerations
//
// Downloads use the URL given (OSV's public bucket by default) over the
// caller's HTTP client; archives are size-limited and fully validated
// before use. The archive's SHA-256 is recorded in the meta file.
//
// # Concurrency
//
// Concurrent updates of one directory are safe: each renames a complete
// archive into place, and the last one wins.
//
// Data source: https://google.github.io/osv.dev/data/#data-dumps.
package osvdb
