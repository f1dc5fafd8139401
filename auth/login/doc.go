// Package login is Rampart's password login: the /.rampart/login page and
// JSON API, /.rampart/logout and /.rampart/me, and VerifyPassword for
// other flows (the token endpoint's password grant) that need the same
// checks.
//
// The threats are credential guessing, user enumeration, login CSRF and
// open redirects. Every attempt passes through a brute-force Protection
// hook (per account and per client IP, provided by the gateway) before any
// password is checked. A failed login gives the same answer — same status,
// same words, same time — whether the user exists, is locked, or typed
// the wrong password: unknown users are checked against a dummy argon2id
// hash made with the same parameters, so the work done is the same. Cross-
// site form posts to login and logout are refused (Sec-Fetch-Site, else
// Origin), and the page a browser returns to after login passes
// auth.Redirects.
//
// # Security considerations
//
// Each argon2id check takes Params.Memory (19 MiB by default) for tens of
// milliseconds; MaxConcurrentHashes bounds how many run at once so a flood
// of logins cannot exhaust memory, and requests wait their turn (bounded
// by the request's context). A successful login always starts a fresh
// session (see package session: no fixation) and transparently rehashes
// a password whose hash used other parameters. Passwords and hashes are
// never logged. Failures of the user store or of the protection hook fail
// closed: 503, no login.
//
// A user whose hash was made with other parameters takes a different time
// to check than the dummy hash until the first successful login rehashes
// it; after a parameter change, that difference is the only timing signal,
// and it reveals only that the account predates the change.
//
// # Concurrency
//
// Service is safe for concurrent use.
//
// References: OWASP Authentication Cheat Sheet (authentication responses,
// login throttling); OWASP Cross-Site Request Forgery Prevention Cheat
// Sheet (login CSRF); W3C Fetch Metadata Request Headers.
package login
