// Package lockfile reads the lockfiles that pin a project's dependencies —
// npm's package-lock.json and npm-shrinkwrap.json (lockfile versions 1, 2
// and 3), yarn.lock (classic v1 and Berry v2+), pnpm-lock.yaml (lockfile
// versions 5, 6 and 9) and Go's go.mod (with go.sum when present) — into one
// flat list of packages with the facts an audit needs: name, exact version,
// dependency groups, where the package was resolved from and how it is
// pinned.
//
// The threat it serves is the vulnerable or hostile dependency: a lockfile
// says exactly which code ships, so it is the input that advisory matching
// and supply-chain checks work from. A parser that silently drops entries
// would let a vulnerable package through unseen, so every entry that cannot
// be read is reported as a [Problem] with the file and line, and a file that
// cannot be read at all is an error.
//
// # Security considerations
//
// Lockfiles are untrusted input: they come from the repository being
// audited, which may be hostile. The parsers never panic, never execute or
// fetch anything, and bound their work by the size of the input. Names and
// versions are returned as written; callers must not use them as file paths.
//
// Packages that come from the local file system, a workspace or a link are
// marked [OriginLocal]; they are not published packages, so matching them
// against a registry's advisories would be wrong both ways (false alarms for
// a same-named package, false comfort for code no advisory can cover).
//
// # Concurrency
//
// Every function is safe for concurrent use; parsers keep no state between
// calls.
//
// Formats: https://docs.npmjs.com/cli/configuring-npm/package-lock-json,
// https://classic.yarnpkg.com/lang/en/docs/yarn-lock/,
// https://yarnpkg.com/configuration/yarnrc (Berry lockfile),
// https://github.com/pnpm/spec/tree/master/lockfile,
// https://go.dev/ref/mod#go-mod-file and https://go.dev/ref/mod#go-sum-files.
package lockfile
