// Package users stores Rampart's built-in user accounts: a name, roles, an
// argon2id password hash and a locked flag, behind a small Store interface
// with one SQL implementation for SQLite (the embedded default) and
// PostgreSQL (for many gateway replicas).
//
// The threat is twofold: an attacker who reads the database should learn
// nothing that logs anyone in (only argon2id hashes are stored, see package
// password), and an attacker who controls a user name should not be able to
// smuggle anything into a header, a log line or a query. Names are
// therefore restricted to a small alphabet and folded to lower case, and
// every query is parameterised.
//
// # User names
//
// A name is 1 to 64 characters from a–z, 0–9 and . _ @ + -, starting with a
// letter or digit; upper-case letters are folded to lower case, so "Alice"
// and "alice" are one account. E-mail addresses are valid names.
//
// # Error semantics
//
// Lookup returns ErrNotFound for a name that is not stored (including a
// name that is not even valid: nothing distinguishes the two to a caller).
// Create returns ErrExists for a taken name. Every other error is a system
// failure (database down, disk full) and callers must fail closed on it.
//
// # Security considerations
//
// The schema is migrated at construction, inside one transaction guarded
// by a lock, so replicas starting together cannot race (see
// internal/sqldb). Password hashes are opaque strings to this package: it
// neither produces nor checks them.
//
// # Concurrency
//
// SQLStore is safe for concurrent use; so must be every Store.
//
// References: OWASP Authentication Cheat Sheet (user IDs, case
// insensitivity); OWASP Password Storage Cheat Sheet.
package users
