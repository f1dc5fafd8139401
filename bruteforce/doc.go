// Package bruteforce protects a login against password guessing: it counts
// failed attempts per account, per client address, and per account from one
// address, slows a guesser down progressively, then locks it out for a
// bounded time.
//
// The threats are online guessing against one account, password spraying
// (one password against many accounts from one address) and credential
// stuffing, and, in the other direction, an attacker who locks a real user
// out on purpose.
//
// # Use
//
// The authentication code calls Check before verifying a password —
// whether or not the account exists — and refuses the attempt, without
// verifying anything, on any error (WriteError answers it). After
// verifying, it calls Succeed or Fail.
//
//	if err := guard.Check(ctx, username, clientIP); err != nil {
//		bruteforce.WriteError(w, r, err)
//		return
//	}
//	if !users.Verify(username, password) {
//		guard.Fail(ctx, username, clientIP)
//		…
//	}
//	guard.Succeed(ctx, username, clientIP)
//
// # The counters
//
// Account from address (max_failures_per_account_ip, default 3): after each
// failure the next attempt waits Delay, doubling (1s, 2s, 4s, …), and at
// the limit that address is locked out of that account for Lockout. This
// is what stops one attacker, and it stops them first.
//
// Account (max_failures_per_account, default 5): failures from addresses
// the account does not know — addresses that have not logged in to it
// within RememberClients — lock the account for such addresses for Lockout.
// This bounds a distributed attack; the account's owner, at a known
// address, is not locked out, and anyone else is locked out for Lockout at
// most.
//
// Address (max_failures_per_ip, default 50): attempts from one address at
// any accounts lock that address out for Lockout.
//
// Every lockout ends after Lockout; failures are forgotten a Window after
// the last attempt, delay or lockout. While the failures are remembered,
// each further failure locks again at once. Refused attempts are not
// counted, so hammering cannot extend a lock.
//
// # Security considerations
//
// Check counts an allowed attempt before the password is verified, and
// Succeed undoes it: concurrent guesses therefore cannot all pass one check
// (a race that limiters counting only failures have shipped), and an
// attempt whose outcome is never reported counts as a failure. A success
// clears the counters of that account from that address, and the account's
// if the attempt counted on it, but never the address's count of failures
// at other accounts — otherwise logging in to an account of one's own
// between guesses would reset it, another bypass seen in the wild.
//
// A refusal looks the same whether or not the account exists, and Check
// never looks the account up. Account names are normalised (trimmed and
// lowercased by default) so that case variations are not counted apart,
// and hashed (SHA-256) before they reach any store.
//
// When the store is unreachable the default policy is fail_closed: every
// attempt is refused with ErrUnavailable, because guesses spread over
// replicas would otherwise go uncounted. fail_open counts in a local
// in-memory store instead.
//
// # Concurrency
//
// A Protector and a MemoryStore are safe for concurrent use.
//
// References: OWASP Authentication Cheat Sheet, "Protect Against Automated
// Attacks", https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html;
// NIST SP 800-63B section 5.2.2 (rate limiting).
package bruteforce
