// Package names tells whether a package name imitates a popular one: a
// typosquat (one edit away: a letter dropped, added, changed or two
// swapped) or a confusable name (the same name once separators, case,
// look-alike Unicode letters or look-alike digits are folded).
//
// The threat is the package installed by mistake: "crossenv" for
// "cross-env", "lodahs" for "lodash", a Cyrillic "а" in "expresѕ". Such
// packages exist to run their install scripts on the machines of people who
// typed the name wrong.
//
// # Security considerations
//
// Popularity comes from a list shipped with rampart (top-npm-packages.txt,
// dated by its "list-date" line) because the audit runs offline; a name
// popular only after that date is not protected, and ListDate says how old
// the list is. A popular package is never reported as imitating another
// popular package: those pairs are known to the ecosystem. Names of three
// or four characters are compared only by confusable folding, since one
// edit separates most short names from several real packages.
//
// # Concurrency
//
// A Checker is immutable after New and safe for concurrent use.
//
// Confusables: Unicode Technical Standard #39, section 4 (a small subset of
// its table, the Latin look-alikes from Cyrillic and Greek).
package names
