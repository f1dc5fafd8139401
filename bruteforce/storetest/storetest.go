package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/bruteforce"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t   *testing.T
	clk *clock
	p   *bruteforce.Protector
}

func setup(t *testing.T, open func(*testing.T) bruteforce.Store, c bruteforce.Config) *env {
	t.Helper()
	e := &env{t: t, clk: &clock{t: t0}}
	c.Store, c.Now = open(t), e.clk.now
	p, err := bruteforce.New(c)
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	return e
}

var ctx = context.Background()

// try runs Check and reports the failure or success the caller would.
func (e *env) try(account, ip string, correct bool) error {
	e.t.Helper()
	a := netip.MustParseAddr(ip)
	if err := e.p.Check(ctx, account, a); err != nil {
		return err
	}
	if correct {
		if err := e.p.Succeed(ctx, account, a); err != nil {
			e.t.Fatalf("succeed: %v", err)
		}
	} else {
		e.p.Fail(ctx, account, a)
	}
	return nil
}

func (e *env) want(step string, err error, wantBy bruteforce.Level, wantRetry time.Duration) {
	e.t.Helper()
	if wantBy == 0 {
		if err != nil {
			e.t.Fatalf("%s: got %v, want allowed", step, err)
		}
		return
	}
	var le *bruteforce.LockedError
	if !errors.As(err, &le) || !errors.Is(err, bruteforce.ErrLocked) {
		e.t.Fatalf("%s: got %v, want refused by %v", step, err, wantBy)
	}
	if le.By != wantBy || (wantRetry > 0 && le.RetryAfter != wantRetry) {
		e.t.Fatalf("%s: got refused by %v, retry after %v; want by %v, retry after %v", step, le.By, le.RetryAfter, wantBy, wantRetry)
	}
}

// Run runs the suite against the stores open returns.
func Run(t *testing.T, open func(*testing.T) bruteforce.Store) {
	const attacker, user, other = "203.0.113.66", "198.51.100.10", "192.0.2.77"

	t.Run("ProgressiveDelayThenLockout", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		e.want("1st guess", e.try("alice", attacker, false), 0, 0)
		e.want("at once", e.try("alice", attacker, false), bruteforce.ByAccountIP, time.Second)
		e.clk.add(time.Second)
		e.want("2nd guess after 1s", e.try("alice", attacker, false), 0, 0)
		e.want("at once", e.try("alice", attacker, false), bruteforce.ByAccountIP, 2*time.Second)
		e.clk.add(2 * time.Second)
		e.want("3rd guess after 2s", e.try("alice", attacker, false), 0, 0)
		e.want("locked", e.try("alice", attacker, false), bruteforce.ByAccountIP, 15*time.Minute)
		e.clk.add(10 * time.Minute)
		e.want("still locked", e.try("alice", attacker, false), bruteforce.ByAccountIP, 5*time.Minute)
		// The lock is bounded; afterwards one guess re-locks at once.
		e.clk.add(5 * time.Minute)
		e.want("after the lockout", e.try("alice", attacker, false), 0, 0)
		e.want("re-locked", e.try("alice", attacker, false), bruteforce.ByAccountIP, 15*time.Minute)
		// A quiet window after the lock forgets everything.
		e.clk.add(30 * time.Minute)
		e.want("after lockout and window", e.try("alice", attacker, false), 0, 0)
		e.want("fresh delay", e.try("alice", attacker, false), bruteforce.ByAccountIP, time.Second)
	})

	t.Run("AttackerLocksItselfBeforeTheAccount", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		for i := range 3 {
			e.want(fmt.Sprint("attacker guess ", i+1), e.try("alice", attacker, false), 0, 0)
			e.clk.add(time.Minute)
		}
		e.want("attacker locked", e.try("alice", attacker, false), bruteforce.ByAccountIP, 0)
		e.want("alice from a new address", e.try("alice", user, true), 0, 0)
	})

	t.Run("KnownClientSurvivesAccountLock", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		e.want("alice logs in", e.try("alice", user, true), 0, 0)
		// A distributed attack: five addresses, five failures in total.
		for i := range 5 {
			e.want(fmt.Sprint("guess ", i+1), e.try("alice", fmt.Sprintf("203.0.113.%d", i+1), false), 0, 0)
			e.clk.add(time.Minute)
		}
		e.want("new address refused", e.try("alice", other, true), bruteforce.ByAccount, 0)
		e.want("alice's known address", e.try("alice", user, true), 0, 0)
		// Alice's success does not lift the lock for the attacker.
		e.want("still locked for others", e.try("alice", "203.0.113.99", false), bruteforce.ByAccount, 0)
		// Bounded: after the lockout the owner gets in from anywhere.
		e.clk.add(16 * time.Minute)
		e.want("new address after lockout", e.try("alice", other, true), 0, 0)
	})

	t.Run("SuccessAtTheLimitDoesNotLock", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		for i := range 4 {
			e.want(fmt.Sprint("guess ", i+1), e.try("alice", fmt.Sprintf("203.0.113.%d", i+1), false), 0, 0)
		}
		// Alice's own attempt is the fifth; her success must not leave
		// the account locked, and it clears the attackers' count.
		e.want("alice from a new address", e.try("alice", user, true), 0, 0)
		for i := range 4 {
			e.want(fmt.Sprint("new address ", i+1), e.try("alice", fmt.Sprintf("192.0.2.%d", i+1), false), 0, 0)
		}
	})

	t.Run("SameAnswerForUnknownAccounts", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		var errs []error
		for _, account := range []string{"alice", "no-such-user"} {
			for range 3 {
				_ = e.try(account, attacker, false)
				e.clk.add(5 * time.Second)
			}
			errs = append(errs, e.try(account, attacker, false))
			e.clk.add(-15 * time.Second)
		}
		if errs[0] == nil || errs[0].Error() != errs[1].Error() {
			t.Errorf("got %v and %v, want the same refusal", errs[0], errs[1])
		}
	})

	t.Run("SuccessResets", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		e.want("typo", e.try("alice", user, false), 0, 0)
		e.clk.add(time.Second)
		e.want("typo again", e.try("alice", user, false), 0, 0)
		e.clk.add(2 * time.Second)
		e.want("right password", e.try("alice", user, true), 0, 0)
		e.want("no delay after success", e.try("alice", user, false), 0, 0)
	})

	t.Run("PasswordSprayingLocksTheIP", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{MaxFailuresPerIP: 10})
		for i := range 10 {
			e.want(fmt.Sprint("spray ", i+1), e.try(fmt.Sprint("user", i), attacker, false), 0, 0)
			if i < 9 {
				// Logging in to an account of one's own between guesses
				// must not reset the IP's count.
				e.want("own account", e.try("mallory", attacker, true), 0, 0)
			}
		}
		e.want("sprayer locked", e.try("user99", attacker, false), bruteforce.ByIP, 15*time.Minute)
		e.want("others unaffected", e.try("user99", user, false), 0, 0)
	})

	t.Run("ConcurrentGuessesPassOneAtATime", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		var passed atomic.Int64
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				if e.p.Check(ctx, "alice", netip.MustParseAddr(attacker)) == nil {
					passed.Add(1)
				}
			})
		}
		wg.Wait()
		if got := passed.Load(); got != 1 {
			t.Errorf("got %d concurrent guesses through, want 1", got)
		}
	})

	t.Run("AccountNamesNormalised", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		e.want("Alice", e.try("Alice", attacker, false), 0, 0)
		e.want(" alice ", e.try(" alice ", attacker, false), bruteforce.ByAccountIP, time.Second)
	})

	t.Run("IPv6GroupedByPrefix", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		e.want("first address", e.try("alice", "2001:db8:1:2::1", false), 0, 0)
		e.want("same /64", e.try("alice", "2001:db8:1:2:aaaa::1", false), bruteforce.ByAccountIP, time.Second)
		e.want("other /64", e.try("alice", "2001:db8:1:3::1", false), 0, 0)
	})

	t.Run("Unlock", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		for i := range 5 {
			_ = e.try("alice", fmt.Sprintf("203.0.113.%d", i+1), false)
		}
		e.want("locked", e.try("alice", other, true), bruteforce.ByAccount, 0)
		if err := e.p.Unlock(ctx, "ALICE"); err != nil {
			t.Fatal(err)
		}
		e.want("after unlock", e.try("alice", other, true), 0, 0)
	})

	t.Run("UnlockLiftsEveryLock", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		e.want("alice logs in", e.try("alice", user, true), 0, 0)
		// The attacker locks itself out of the account, others lock the
		// account for everyone alice's address is not.
		for range 3 {
			_ = e.try("alice", attacker, false)
			e.clk.add(time.Minute)
		}
		for i := range 5 {
			_ = e.try("alice", fmt.Sprintf("203.0.113.%d", i+1), false)
		}
		e.want("attacker locked", e.try("alice", attacker, true), bruteforce.ByAccountIP, 0)
		e.want("account locked", e.try("alice", other, true), bruteforce.ByAccount, 0)
		locks, err := e.p.Locks(ctx, "Alice")
		if err != nil {
			t.Fatal(err)
		}
		var account, attackerLock bool
		for _, l := range locks {
			switch {
			case l.By == bruteforce.ByAccount && l.Client == "":
				account = true
			case l.By == bruteforce.ByAccountIP && l.Client == attacker && l.Lockout && l.Until.After(e.clk.now()):
				attackerLock = true
			}
		}
		if !account || !attackerLock {
			t.Fatalf("Locks: got %+v, want the account lock and the attacker's address", locks)
		}
		if err := e.p.Unlock(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if locks, err := e.p.Locks(ctx, "alice"); err != nil || len(locks) != 0 {
			t.Fatalf("Locks after unlock: got %+v, %v; want none", locks, err)
		}
		e.want("the attacker's address after unlock", e.try("alice", attacker, true), 0, 0)
		e.want("a new address after unlock", e.try("alice", other, true), 0, 0)
		// Unlocking forgets failures, not the clients the account knows.
		for i := range 5 {
			_ = e.try("alice", fmt.Sprintf("198.18.0.%d", i+1), false)
		}
		e.want("alice's address is still remembered", e.try("alice", user, true), 0, 0)
	})

	t.Run("RememberedClientRetriesAtOnce", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		e.want("alice logs in", e.try("alice", user, true), 0, 0)
		// A typo, then the right password at once: no delay for an
		// address the account knows.
		e.want("typo", e.try("alice", user, false), 0, 0)
		e.want("right password at once", e.try("alice", user, true), 0, 0)
		// Guessing from a remembered address is still bounded.
		for i := range 3 {
			e.want(fmt.Sprint("guess ", i+1), e.try("alice", user, false), 0, 0)
		}
		e.want("remembered address locked after its own failures", e.try("alice", user, true), bruteforce.ByAccountIP, 15*time.Minute)
		// An unknown address waits, and is told how long.
		e.want("stranger's typo", e.try("bob", other, false), 0, 0)
		e.want("stranger at once", e.try("bob", other, true), bruteforce.ByAccountIP, time.Second)
	})

	t.Run("CancelledAttemptsNeverLock", func(t *testing.T) {
		t.Parallel()
		// The user store is down: every attempt is allowed, counted, and
		// cancelled because its password could not be checked. Afterwards
		// the owner logs in at once, from the same address.
		e := setup(t, open, bruteforce.Config{})
		a := netip.MustParseAddr(user)
		for i := range 20 {
			if err := e.p.Check(ctx, "alice", a); err != nil {
				t.Fatalf("attempt %d during the outage: got %v, want allowed", i+1, err)
			}
			if err := e.p.Cancel(ctx, "alice", a); err != nil {
				t.Fatal(err)
			}
			e.clk.add(time.Second)
		}
		e.want("right password after the outage", e.try("alice", user, true), 0, 0)
	})

	t.Run("CancelKeepsEarlierFailures", func(t *testing.T) {
		t.Parallel()
		e := setup(t, open, bruteforce.Config{})
		a := netip.MustParseAddr(attacker)
		e.want("1st guess", e.try("alice", attacker, false), 0, 0)
		e.clk.add(time.Second)
		e.want("2nd guess", e.try("alice", attacker, false), 0, 0)
		e.clk.add(2 * time.Second)
		if err := e.p.Check(ctx, "alice", a); err != nil {
			t.Fatal(err)
		}
		if err := e.p.Cancel(ctx, "alice", a); err != nil {
			t.Fatal(err)
		}
		// Two failures stand: the delay after the second still applies
		// (rounded up to start now), and the third guess still locks.
		e.want("delay of two failures", e.try("alice", attacker, false), bruteforce.ByAccountIP, 2*time.Second)
		e.clk.add(2 * time.Second)
		e.want("3rd guess", e.try("alice", attacker, false), 0, 0)
		e.want("locked", e.try("alice", attacker, false), bruteforce.ByAccountIP, 15*time.Minute)
	})

	t.Run("MatchesMemoryStore", func(t *testing.T) {
		t.Parallel()
		ref, err := bruteforce.NewMemoryStore(0)
		if err != nil {
			t.Fatal(err)
		}
		s := open(t)
		p := &bruteforce.Params{MaxPerAccount: 4, MaxPerIP: 7, MaxPerAccountIP: 2,
			Window: 60_000, Lockout: 30_000, Delay: 500, Remember: 120_000}
		rng := rand.New(rand.NewPCG(7, 9))
		now := t0
		for step := range 600 {
			now = now.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
			a, ip := fmt.Sprint(rng.IntN(3)), fmt.Sprint(rng.IntN(4))
			k := bruteforce.Keys{IP: "i:" + ip, Account: "a:{" + a + "}", AccountIP: "p:{" + a + "}:" + ip}
			if rng.IntN(7) == 0 {
				if err := s.Cancel(ctx, now, k, p); err != nil {
					t.Fatal(err)
				}
				_ = ref.Cancel(ctx, now, k, p)
				continue
			}
			if rng.IntN(5) == 0 {
				if err := s.Succeed(ctx, now, k, p); err != nil {
					t.Fatal(err)
				}
				_ = ref.Succeed(ctx, now, k, p)
				continue
			}
			got, err := s.Attempt(ctx, now, k, p)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ref.Attempt(ctx, now, k, p)
			if got != want {
				t.Fatalf("step %d (account %s, ip %s): got %+v, want %+v", step, a, ip, got, want)
			}
		}
	})
}
