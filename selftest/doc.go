// Package selftest proves that a Rampart configuration's protections hold,
// by attacking the gateway built from it with cases taken from public
// advisories.
//
// Gateways in front of applications have shipped the same bypasses again
// and again: spellings of a protected path the gateway did not recognise
// but the application did, forwarding headers believed from anyone,
// origins that merely looked like allowed ones, tokens signed with the
// public key as an HMAC secret or with no signature at all, redirects
// that left the site, identity headers a client could set in another
// spelling, request framing two servers read differently. Their users
// learned of each from an advisory. Run builds the gateway a
// configuration describes exactly as `rampart serve` does, generates the
// attacks of the corpus against what that configuration protects (each
// protected route, allow-listed route, origin, issuer, rate limit and
// validated body), sends each as raw bytes, and judges it by what the
// client got and what reached a recording upstream standing in for the
// application. The corpus is data (corpus/*.yaml, embedded): each case
// names its source, and new ones need no code.
//
// # Security considerations
//
// A run touches nothing outside the process: the upstream is a recorder on
// loopback, stores are embedded ones in a temporary directory, unreadable
// secrets and each issuer's keys are replaced by throw-away ones, and the
// admin listener is not started; Report.StandIns lists every replacement.
// Attacker addresses are simulated on loopback connections (a one-line
// preamble the selftest's own listener reads), never spoofed on a network.
//
// Judging fails closed: a control case (a legitimate request that must get
// through) guards each target, so a target the harness cannot reach is
// reported as not judged rather than as held; a case that does not fit a
// target is skipped, never counted as held; and a request that reaches the
// application without a case to own it fails the run.
//
// RunTarget attacks a running deployment with the cases that need only the
// response, within a request budget and rate, with safe methods unless told
// otherwise, and only on loopback unless the caller owns the target.
//
// # Concurrency
//
// Run and RunTarget may be called concurrently; each run owns its gateway,
// listeners and recorder. Within a run, classes execute side by side and
// each request carries a header naming its case so that what reaches the
// application is told apart; request smuggling runs alone.
//
// References: RFC 9110 and RFC 9112 (HTTP semantics and framing), RFC 6454
// (origins), RFC 7239 (Forwarded), RFC 8725 (JWT best current practices),
// the Fetch standard (CORS, Fetch Metadata).
package selftest
