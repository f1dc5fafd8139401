package bruteforce

import "time"

// Counter is the state of one counter (one IP, one account, or one account
// from one IP). Times are Unix milliseconds; zero means unset. Store
// implementations keep it opaque and apply the functions below, or mirror
// them exactly.
type Counter struct {
	// Failures counts attempts not undone by a success, within the window.
	Failures int64
	// LockedUntil is the end of the current lockout.
	LockedUntil int64
	// NotBefore is the end of the current progressive delay.
	NotBefore int64
	// FailuresExpire is when Failures, LockedUntil and NotBefore lapse:
	// one window after the last attempt, its delay or its lockout.
	FailuresExpire int64
	// LastSuccess is the last successful login (account-from-IP counters
	// only): that client is known to the account.
	LastSuccess int64
}

// Params are a Protector's settings in the form stores use: counts and
// Unix-millisecond durations.
type Params struct {
	MaxPerAccount, MaxPerIP, MaxPerAccountIP int64
	Window, Lockout, Delay, Remember         int64
}

// Level says which counter refused an attempt.
type Level uint8

// The levels.
const (
	// ByIP: the client IP made too many attempts, across accounts.
	ByIP Level = iota + 1
	// ByAccountIP: this client made too many attempts at this account.
	ByAccountIP
	// ByAccount: the account had too many failed attempts from clients it
	// does not know.
	ByAccount
)

var levelNames = [...]string{"", "ip", "account_ip", "account"}

// String returns the level's metric label.
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "unknown"
}

// Verdict is a store's answer to an attempt.
type Verdict struct {
	// Allowed reports whether the attempt may proceed to the password
	// check; it has been counted.
	Allowed bool
	// By says which counter refused.
	By Level
	// RetryAfter is how long until that counter would allow an attempt.
	RetryAfter time.Duration
}

// Live returns c as seen at now: its failures forgotten once they expired.
func Live(c Counter, now int64) Counter {
	if c.FailuresExpire <= now {
		c.Failures, c.LockedUntil, c.NotBefore, c.FailuresExpire = 0, 0, 0, 0
	}
	return c
}

// Expires returns when c can be deleted: nothing in it matters any more.
func Expires(c Counter, p *Params) int64 {
	exp := c.FailuresExpire
	if c.LastSuccess > 0 {
		exp = max(exp, c.LastSuccess+p.Remember)
	}
	return exp
}

// count records one attempt on c at now against limit; delayed adds the
// progressive delay (doubling from p.Delay, capped at p.Lockout).
func count(c Counter, limit, now int64, p *Params, delayed bool) Counter {
	c.Failures++
	if delayed && p.Delay > 0 {
		c.NotBefore = now + min(p.Delay<<min(c.Failures-1, 30), p.Lockout)
	}
	if c.Failures >= limit {
		c.LockedUntil = now + p.Lockout
	}
	c.FailuresExpire = max(now, c.LockedUntil, c.NotBefore) + p.Window
	return c
}

// blockedUntil returns when c allows an attempt again (0 if it does now).
func blockedUntil(c Counter, now int64, delays bool) int64 {
	until := c.LockedUntil
	if delays {
		until = max(until, c.NotBefore)
	}
	if until > now {
		return until
	}
	return 0
}

// AttemptIP applies one attempt to a live IP counter. It returns the
// counter to store (when write) and the verdict. A refused attempt is not
// counted, so hammering cannot extend a lockout without bound.
func AttemptIP(ip Counter, now int64, p *Params) (next Counter, write bool, v Verdict) {
	if until := blockedUntil(ip, now, false); until > 0 {
		return ip, false, Verdict{By: ByIP, RetryAfter: ms(until - now)}
	}
	return count(ip, p.MaxPerIP, now, p, false), true, Verdict{Allowed: true}
}

// AttemptAccount applies one attempt to the live account-from-IP (pair) and
// account counters. The account counter neither refuses nor counts a
// client that logged in to the account within p.Remember: an attacker
// elsewhere cannot lock its owner out of a known client.
func AttemptAccount(pair, acct Counter, now int64, p *Params) (nextPair, nextAcct Counter, writeAcct bool, v Verdict) {
	known := pair.LastSuccess > 0 && now-pair.LastSuccess < p.Remember
	if until := blockedUntil(pair, now, true); until > 0 {
		return pair, acct, false, Verdict{By: ByAccountIP, RetryAfter: ms(until - now)}
	}
	if !known {
		if until := blockedUntil(acct, now, true); until > 0 {
			return pair, acct, false, Verdict{By: ByAccount, RetryAfter: ms(until - now)}
		}
	}
	// A client the account remembers gets no progressive delay: its
	// owner mistyping once must be able to retry at once. Its failures
	// still count and lock it after MaxPerAccountIP, so guessing from a
	// remembered address stays bounded.
	pair = count(pair, p.MaxPerAccountIP, now, p, !known)
	if known {
		return pair, acct, false, Verdict{Allowed: true}
	}
	// No delay at the account level: any client's failure would slow its
	// owner down everywhere. The lock alone bounds a distributed attack.
	return pair, count(acct, p.MaxPerAccount, now, p, false), true, Verdict{Allowed: true}
}

// SucceedAccount returns the pair and account counters after a successful
// login. The pair's failures are cleared and the client remembered. The
// account's failures are cleared only if this attempt was counted on it (the
// client was not yet known) and did not find it locked already: a known
// client logging in, or a success during a lockout that failures before it
// caused, must not hand an attacker a fresh set of guesses. A lock that this
// very attempt set (it reached the limit) is lifted.
func SucceedAccount(pair, acct Counter, now int64, p *Params) (nextPair, nextAcct Counter, writeAcct bool) {
	known := pair.LastSuccess > 0 && now-pair.LastSuccess < p.Remember
	pair = Counter{LastSuccess: now}
	if known {
		return pair, acct, false
	}
	if acct.LockedUntil <= now || acct.Failures <= p.MaxPerAccount {
		acct = Counter{}
	}
	return pair, acct, true
}

// SucceedIP returns the IP counter after a successful login: the attempt
// counted for it is undone, and only that one (and the lock, if that attempt
// set it). Clearing the whole counter would let an attacker reset it by
// logging in to an account of their own between guesses.
func SucceedIP(ip Counter, p *Params) Counter {
	if ip.Failures > 0 {
		ip.Failures--
	}
	if ip.Failures < p.MaxPerIP {
		ip.LockedUntil = 0
	}
	return ip
}

// CancelIP returns the IP counter with one attempt undone: an attempt
// Check counted whose password was never checked (the user store failed),
// so it proves nothing against the client. The lock is lifted only if the
// count falls below the limit.
func CancelIP(ip Counter, p *Params) Counter {
	return uncount(ip, p.MaxPerIP, 0, p, false)
}

// CancelAccount returns the pair and account counters with one attempt
// undone, as CancelIP does. Unlike SucceedAccount it neither remembers
// the client nor clears earlier failures: an attempt that was never
// decided is neither a failure nor a success. The account counter is
// touched only if the attempt was counted on it (the client was not
// known to the account).
func CancelAccount(pair, acct Counter, now int64, p *Params) (nextPair, nextAcct Counter, writeAcct bool) {
	known := pair.LastSuccess > 0 && now-pair.LastSuccess < p.Remember
	pair = uncount(pair, p.MaxPerAccountIP, now, p, true)
	if known {
		return pair, acct, false
	}
	return pair, uncount(acct, p.MaxPerAccount, now, p, false), true
}

// uncount undoes one count on c. The delay the undone attempt set is
// replaced by the one the remaining failures would give from now, never
// longer than the delay already running: the earlier attempt's own delay
// started earlier and is not known exactly, and rounding it up keeps an
// attacker from shortening a delay by making the store fail.
func uncount(c Counter, limit, now int64, p *Params, delayed bool) Counter {
	if c.Failures > 0 {
		c.Failures--
	}
	if c.Failures < limit {
		c.LockedUntil = 0
	}
	if delayed {
		if c.Failures == 0 || p.Delay <= 0 {
			c.NotBefore = 0
		} else {
			c.NotBefore = min(c.NotBefore, now+min(p.Delay<<min(c.Failures-1, 30), p.Lockout))
		}
	}
	return c
}

func ms(d int64) time.Duration { return time.Duration(d) * time.Millisecond }
