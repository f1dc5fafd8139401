// Package tarball reads an npm package archive (a gzip-compressed tar, the
// ".tgz" a registry serves) into memory, within fixed bounds, and reports
// every hostile entry instead of acting on it.
//
// The threat is an archive made to hurt the tool that opens it: entries
// named "../../.bashrc" or "/etc/passwd", symbolic and hard links that
// point outside the package, device files, a gzip bomb that expands a few
// kilobytes into gigabytes, or millions of tiny files.
//
// # Security considerations
//
// Read never writes to the file system: file contents are returned as byte
// slices, so no entry can land outside a cache directory whatever its name.
// Every bound (compressed size, expanded size, expansion ratio, file count,
// size of one file) is checked while reading, so a bomb stops at the bound,
// not after it. A bound that is reached ends the read with the files read so
// far, Truncated set and a Problem saying which bound: the caller reports it
// and never treats the partial content as the whole package. Names that
// escape the package (absolute, "..", a backslash or NUL), links and special
// files are Problems; their content is skipped.
//
// # Concurrency
//
// Read has no shared state and may be called concurrently.
//
// Format: POSIX ustar and PAX (archive/tar), RFC 1952 gzip.
package tarball
