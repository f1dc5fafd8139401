// Package capability finds what a piece of JavaScript can do — reach the
// network, spawn processes, touch the file system, read the environment,
// load native code, run code made at run time — and whether it hides what
// it does, by parsing it with a real JavaScript parser and walking the
// syntax tree.
//
// The threat is the dependency that does more than its description says:
// a postinstall that downloads and runs a script, a utility that reads
// ~/.npmrc and posts it somewhere, a base64 blob handed to eval. Regular
// expressions over source text miss what a parser sees (a require hidden in
// a comma expression, a string built from parts) and flag what it does not
// (the word "eval" in a comment); this package reads the syntax tree.
//
// A Finding is a capability, not a verdict: a web framework imports http
// and fs. The caller weighs them (where the code runs, whether it is
// install-time code) and turns them into signals.
//
// # Security considerations
//
// The source is untrusted. Analyze never executes it, bounds the size it
// parses (Limits.MaxSize) and the parser's nesting depth, and never panics
// on any input (fuzzed). Code that does not parse is reported as such
// (Result.ParseError), never silently counted as clean.
//
// What static analysis cannot see it does not claim to: a module name built
// at run time (require(x)) is itself reported as dynamic code, because that
// is how loaders hide the module they fetch.
//
// # Concurrency
//
// Analyze keeps no state between calls and may be called concurrently.
//
// Parser: github.com/tdewolff/parse/v2/js (ECMAScript 2020 and later,
// scripts and modules).
package capability
