// Package ignore reads the list of advisories a project has chosen to
// accept for a while — rampart-audit.yaml — and decides which findings it
// silences.
//
// The threat it addresses is the permanent exception: an advisory waved
// through once and never looked at again. Every entry must say why it is
// accepted and until when; an entry without an expiry is refused, as is
// one that runs for more than a year, in the spirit of the checklist's rule
// that nothing in production lives forever. An expired entry stops
// silencing its finding and is reported, so the decision comes back to a
// person.
//
// The file looks like this:
//
//	ignore:
//	  - id: GHSA-p6mc-m468-83gw   # an advisory id or any of its aliases
//	    package: lodash           # optional: only for this package
//	    reason: only used at build time on trusted input
//	    until: 2027-03-31         # required, at most a year ahead
//
// # Security considerations
//
// The file is decoded strictly: an unknown key, a missing field or a bad
// date is an error naming the file, line and key, never a silently dropped
// entry.
//
// # Concurrency
//
// A List is immutable after Parse and safe for concurrent use.
package ignore
