package bruteforce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rampartsec/rampart/problem"
)

// PolicyName is the name under which refusals are recorded
// (problem.Problem.Policy).
const PolicyName = "login_protection"

// Defaults of the documented settings.
const (
	DefaultMaxFailuresPerAccount = 5
	DefaultMaxFailuresPerIP      = 50
	DefaultWindow                = 15 * time.Minute
	DefaultLockout               = 15 * time.Minute
	DefaultDelay                 = time.Second
	DefaultRememberClients       = 30 * 24 * time.Hour
	DefaultRetryStoreAfter       = time.Second
)

// FailurePolicy says what the Protector does when its store cannot be
// reached.
type FailurePolicy string

// The failure policies.
const (
	// FailClosed refuses every login attempt while the store is down. The
	// default: an outage must not switch off the protection of passwords.
	FailClosed FailurePolicy = "fail_closed"
	// FailOpen counts with a local in-memory store instead, so the
	// protection still holds per replica.
	FailOpen FailurePolicy = "fail_open"
)

// Sentinel errors.
var (
	// ErrLocked is matched (errors.Is) by the *LockedError Check returns.
	ErrLocked = errors.New("bruteforce: too many login attempts")
	// ErrUnavailable is returned by Check when the store is down and the
	// policy is fail_closed.
	ErrUnavailable = errors.New("bruteforce: store unavailable")
)

// LockedError is the error Check returns for a refused attempt. It is the
// same whether or not the account exists.
type LockedError struct {
	// RetryAfter is how long until an attempt would be allowed.
	RetryAfter time.Duration
	// By says which counter refused, for logs and metrics; never show it
	// to the client.
	By Level
}

func (e *LockedError) Error() string {
	return "bruteforce: too many login attempts, retry after " + e.RetryAfter.String()
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Outcome is what happened to one login attempt.
type Outcome uint8

// The outcomes.
const (
	// Allowed: Check let the attempt proceed to the password check.
	Allowed Outcome = iota
	// Refused: Check refused it (delay or lockout).
	Refused
	// Unavailable: Check refused it because the store is down (fail_closed).
	Unavailable
	// Failed: the caller reported a wrong password.
	Failed
	// Succeeded: the caller reported a successful login.
	Succeeded
	// Canceled: the caller could not check the password; the attempt
	// was undone.
	Canceled
)

var outcomeNames = [...]string{"allowed", "refused", "unavailable", "failed", "succeeded", "canceled"}

// String returns the outcome's metric label.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Event is reported to Config.OnDecision for every Check, Fail, Succeed
// and Cancel.
type Event struct {
	Outcome Outcome
	// By is the counter that refused, for Refused.
	By Level
	// Fallback reports a decision made by the local fallback store.
	Fallback bool
}

// Config configures a Protector: the login_protection section of the
// configuration file. The zero value of each field is its safe default.
type Config struct {
	// MaxFailuresPerAccount is how many failed attempts at one account,
	// from clients that have not logged in to it recently, lock it for
	// such clients. Default 5.
	MaxFailuresPerAccount int `yaml:"max_failures_per_account" json:"max_failures_per_account,omitempty"`
	// MaxFailuresPerAccountIP is how many failed attempts at one account
	// from one client address lock that client out of that account. It
	// must not exceed MaxFailuresPerAccount, so that an attacker's address
	// locks itself before the account lock can hurt the account's owner.
	// Default: half of MaxFailuresPerAccount, rounded up (3 for 5).
	MaxFailuresPerAccountIP int `yaml:"max_failures_per_account_ip" json:"max_failures_per_account_ip,omitempty"`
	// MaxFailuresPerIP is how many attempts from one client address, at
	// any accounts, lock that address out (password spraying, credential
	// stuffing). Successful logins do not count. Default 50.
	MaxFailuresPerIP int `yaml:"max_failures_per_ip" json:"max_failures_per_ip,omitempty"`
	// Window is how long failures are remembered after the last attempt,
	// delay or lockout. Default 15m.
	Window time.Duration `yaml:"window" json:"window,omitempty"`
	// Lockout is how long a lock lasts; it is never longer. Default 15m.
	Lockout time.Duration `yaml:"lockout" json:"lockout,omitempty"`
	// Delay is the progressive delay after the first failure at an
	// account; it doubles with each further failure, up to Lockout.
	// Default 1s.
	Delay time.Duration `yaml:"delay" json:"delay,omitempty"`
	// RememberClients is how long a client address that logged in to an
	// account stays exempt from that account's account-wide lock.
	// Default 30 days.
	RememberClients time.Duration `yaml:"remember_clients" json:"remember_clients,omitempty"`
	// IPv6Prefix groups IPv6 clients by this many leading bits. Default 64.
	IPv6Prefix int `yaml:"ipv6_prefix" json:"ipv6_prefix,omitempty"`
	// OnStoreError is fail_closed (default) or fail_open.
	OnStoreError FailurePolicy `yaml:"on_store_error" json:"on_store_error,omitempty"`

	// Store keeps the counters. Default: a new MemoryStore.
	Store Store `yaml:"-" json:"-"`
	// Fallback counts while Store is down under fail_open. Default: a new
	// MemoryStore when Store is not one.
	Fallback Store `yaml:"-" json:"-"`
	// NormalizeAccount maps an account name to the form the user store
	// compares, so that "Alice" and "alice " cannot be guessed at
	// separately. Default: trim spaces and lowercase, which may merge
	// accounts that differ in case, never split one.
	NormalizeAccount func(string) string `yaml:"-" json:"-"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `yaml:"-" json:"-"`
	// Logger receives lockouts (info), store failures and recoveries.
	// Default: slog.Default(), so nothing is lost silently; pass a logger with slog.DiscardHandler to drop.
	Logger *slog.Logger `yaml:"-" json:"-"`
	// OnDecision, when set, is called for every Check, Fail and Succeed,
	// for metrics. It must be fast and safe for concurrent use.
	OnDecision func(Event) `yaml:"-" json:"-"`
	// OnStoreFailure, when set, is called for every failed store call,
	// for metrics. It must be fast and safe for concurrent use.
	OnStoreFailure func(error) `yaml:"-" json:"-"`
	// RetryStoreAfter is how long the failure policy applies, without
	// calling the store, after a failed call. Default 1s.
	RetryStoreAfter time.Duration `yaml:"-" json:"-"`
}

// Protector guards a login against password guessing. It is safe for
// concurrent use.
type Protector struct {
	p          Params
	v6         int
	policy     FailurePolicy
	store      Store
	fallback   Store
	normalize  func(string) string
	now        func() time.Time
	log        *slog.Logger
	onDecision func(Event)
	onStoreErr func(error)
	retryAfter time.Duration

	down      atomic.Bool
	downUntil atomic.Int64
}

// New returns a Protector for c. It returns an error naming the field if c
// is invalid; it never panics on user input.
func New(c Config) (*Protector, error) {
	for _, f := range []struct {
		name string
		v    int
	}{{"max_failures_per_account", c.MaxFailuresPerAccount}, {"max_failures_per_account_ip", c.MaxFailuresPerAccountIP}, {"max_failures_per_ip", c.MaxFailuresPerIP}} {
		if f.v < 0 {
			return nil, fmt.Errorf("bruteforce: %s must not be negative, got %d", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"window", c.Window}, {"lockout", c.Lockout}, {"delay", c.Delay}, {"remember_clients", c.RememberClients}, {"retry store after", c.RetryStoreAfter}} {
		if f.v < 0 {
			return nil, fmt.Errorf("bruteforce: %s must not be negative, got %s", f.name, f.v)
		}
		if f.v > 0 && f.v < time.Millisecond {
			return nil, fmt.Errorf("bruteforce: %s must be at least 1ms, got %s", f.name, f.v)
		}
	}
	setDefault(&c.MaxFailuresPerAccount, DefaultMaxFailuresPerAccount)
	setDefault(&c.MaxFailuresPerAccountIP, (c.MaxFailuresPerAccount+1)/2)
	setDefault(&c.MaxFailuresPerIP, DefaultMaxFailuresPerIP)
	setDefault(&c.Window, DefaultWindow)
	setDefault(&c.Lockout, DefaultLockout)
	setDefault(&c.Delay, DefaultDelay)
	setDefault(&c.RememberClients, DefaultRememberClients)
	setDefault(&c.IPv6Prefix, 64)
	setDefault(&c.OnStoreError, FailClosed)
	setDefault(&c.RetryStoreAfter, DefaultRetryStoreAfter)
	switch {
	case c.MaxFailuresPerAccountIP > c.MaxFailuresPerAccount:
		return nil, fmt.Errorf("bruteforce: max_failures_per_account_ip (%d) must not exceed max_failures_per_account (%d): a client must lock itself out before it can lock the account", c.MaxFailuresPerAccountIP, c.MaxFailuresPerAccount)
	case c.IPv6Prefix < 1 || c.IPv6Prefix > 128:
		return nil, fmt.Errorf("bruteforce: ipv6_prefix must be between 1 and 128, got %d", c.IPv6Prefix)
	case c.OnStoreError != FailClosed && c.OnStoreError != FailOpen:
		return nil, fmt.Errorf("bruteforce: on_store_error must be fail_closed or fail_open, got %q", c.OnStoreError)
	case c.Lockout > 365*24*time.Hour || c.Window > 365*24*time.Hour || c.RememberClients > 365*24*time.Hour:
		return nil, errors.New("bruteforce: window, lockout and remember_clients must not exceed 365d")
	}
	pr := &Protector{
		p: Params{
			MaxPerAccount: int64(c.MaxFailuresPerAccount), MaxPerIP: int64(c.MaxFailuresPerIP),
			MaxPerAccountIP: int64(c.MaxFailuresPerAccountIP),
			Window:          c.Window.Milliseconds(), Lockout: c.Lockout.Milliseconds(),
			Delay: c.Delay.Milliseconds(), Remember: c.RememberClients.Milliseconds(),
		},
		v6: c.IPv6Prefix, policy: c.OnStoreError, store: c.Store, fallback: c.Fallback,
		normalize: c.NormalizeAccount, now: c.Now, log: c.Logger, onDecision: c.OnDecision,
		onStoreErr: c.OnStoreFailure, retryAfter: c.RetryStoreAfter,
	}
	if pr.store == nil {
		ms, err := NewMemoryStore(0)
		if err != nil {
			return nil, err
		}
		pr.store = ms
	}
	if _, local := pr.store.(*MemoryStore); !local && pr.policy == FailOpen && pr.fallback == nil {
		ms, err := NewMemoryStore(0)
		if err != nil {
			return nil, err
		}
		pr.fallback = ms
	}
	if pr.normalize == nil {
		pr.normalize = func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	}
	if pr.now == nil {
		pr.now = time.Now
	}
	if pr.log == nil {
		pr.log = slog.Default()
	}
	return pr, nil
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// keys derives the counters' keys. Account names are hashed so that no
// store holds a list of them; the IP is masked to its group.
func (pr *Protector) keys(account string, ip netip.Addr) Keys {
	sum := sha256.Sum256([]byte(pr.normalize(account)))
	acct := hex.EncodeToString(sum[:16])
	var ipKey string
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		// Unknown client: all such attempts share one counter.
		ipKey = "?"
	case ip.Is4():
		ipKey = ip.String()
	default:
		p, _ := ip.WithZone("").Prefix(pr.v6)
		ipKey = p.String()
	}
	return Keys{IP: "i:" + ipKey, Account: "a:{" + acct + "}", AccountIP: "p:{" + acct + "}:" + ipKey}
}

// Check must be called before the password of account is verified for a
// client at ip, whether or not the account exists. It returns nil when the
// attempt may proceed, a *LockedError (errors.Is ErrLocked) when it must
// be refused, or ErrUnavailable when the store is down and the policy is
// fail_closed. Refuse without verifying the password on any error.
//
// An allowed attempt is counted as a failure at once, before the password
// is checked, so that concurrent guesses cannot all pass one check; report
// the result with Succeed, which undoes it, or Fail — or Cancel, which
// undoes it, when the password could not be checked.
func (pr *Protector) Check(ctx context.Context, account string, ip netip.Addr) error {
	k := pr.keys(account, ip)
	now := pr.now()
	var v Verdict
	fallback := false
	err := pr.call(ctx, func(s Store) error {
		var err error
		v, err = s.Attempt(ctx, now, k, &pr.p)
		return err
	})
	if err != nil {
		if pr.policy == FailClosed || pr.fallback == nil {
			// Fail closed: without the shared counters, guesses spread over
			// replicas would go uncounted.
			pr.event(Event{Outcome: Unavailable})
			return ErrUnavailable
		}
		// Fail open, but still counted: per replica, in local memory.
		fallback = true
		v, _ = pr.fallback.Attempt(ctx, now, k, &pr.p)
	}
	if !v.Allowed {
		pr.event(Event{Outcome: Refused, By: v.By, Fallback: fallback})
		return &LockedError{RetryAfter: v.RetryAfter, By: v.By}
	}
	pr.event(Event{Outcome: Allowed, Fallback: fallback})
	return nil
}

// Fail reports that the password for account from ip was wrong, for logs
// and metrics. The attempt was already counted by Check.
func (pr *Protector) Fail(ctx context.Context, account string, ip netip.Addr) {
	pr.event(Event{Outcome: Failed})
}

// Succeed reports a successful login to account from ip: it undoes the
// attempt Check counted, clears the account's failures (unless it is
// locked) and those of this client at this account, and remembers the
// client so that an account-wide lock will not apply to it. The IP's
// earlier failures at other accounts stay counted.
func (pr *Protector) Succeed(ctx context.Context, account string, ip netip.Addr) error {
	k := pr.keys(account, ip)
	now := pr.now()
	err := pr.call(ctx, func(s Store) error { return s.Succeed(ctx, now, k, &pr.p) })
	if err != nil && pr.fallback != nil {
		err = pr.fallback.Succeed(ctx, now, k, &pr.p)
	}
	pr.event(Event{Outcome: Succeeded})
	if err != nil {
		return fmt.Errorf("bruteforce: %w", err)
	}
	return nil
}

// Cancel reports that the attempt Check allowed for account from ip was
// never decided: the password could not be checked because the user store
// failed. It undoes the attempt Check counted, and nothing else — the
// client is not remembered and earlier failures stay — so an outage of the
// user store never counts against the users who tried to log in during it.
func (pr *Protector) Cancel(ctx context.Context, account string, ip netip.Addr) error {
	k := pr.keys(account, ip)
	now := pr.now()
	err := pr.call(ctx, func(s Store) error { return s.Cancel(ctx, now, k, &pr.p) })
	if err != nil && pr.fallback != nil {
		err = pr.fallback.Cancel(ctx, now, k, &pr.p)
	}
	pr.event(Event{Outcome: Canceled})
	if err != nil {
		return fmt.Errorf("bruteforce: %w", err)
	}
	return nil
}

// Unlock lifts every lock of account, for an administrator: the
// account-wide lock and the lock and delay of every client address at the
// account. Clients the account remembers stay remembered.
func (pr *Protector) Unlock(ctx context.Context, account string) error {
	k := pr.keys(account, netip.Addr{})
	if err := pr.store.Unlock(ctx, k.Account); err != nil {
		return fmt.Errorf("bruteforce: %w", err)
	}
	if pr.fallback != nil {
		_ = pr.fallback.Unlock(ctx, k.Account) // memory: never fails
	}
	return nil
}

// Lock is one lock or delay on an account, as Locks reports it.
type Lock struct {
	// By is ByAccount (every client the account does not know) or
	// ByAccountIP (one client address, or IPv6 prefix).
	By Level `json:"by"`
	// Client is the address or prefix locked out; "" for ByAccount.
	Client string `json:"client,omitempty"`
	// Until is when attempts are allowed again.
	Until time.Time `json:"until"`
	// Failures is how many failures the counter holds.
	Failures int64 `json:"failures"`
	// Lockout is true for a lock, false for a progressive delay.
	Lockout bool `json:"lockout"`
}

// MarshalText names the level in JSON.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	for i, n := range levelNames {
		if i > 0 && n == string(b) {
			*l = Level(i)
			return nil
		}
	}
	return fmt.Errorf("bruteforce: unknown level %q", truncate(string(b), 20))
}

// Locks returns the locks and delays in force on account now, for an
// administrator: the account-wide one, and one per client address. An
// address-wide lock (ByIP, password spraying) is not about one account and
// is not listed.
func (pr *Protector) Locks(ctx context.Context, account string) ([]Lock, error) {
	k := pr.keys(account, netip.Addr{})
	now := pr.now()
	t := now.UnixMilli()
	acct, pairs, err := pr.store.Counters(ctx, k.Account, now)
	if err != nil {
		return nil, fmt.Errorf("bruteforce: %w", err)
	}
	var out []Lock
	add := func(by Level, client string, c Counter, delays bool) {
		if until := blockedUntil(c, t, delays); until > 0 {
			out = append(out, Lock{By: by, Client: client, Until: time.UnixMilli(until), Failures: c.Failures, Lockout: c.LockedUntil >= until})
		}
	}
	add(ByAccount, "", acct, true)
	for client, c := range pairs {
		add(ByAccountIP, client, c, true)
	}
	slices.SortFunc(out, func(a, b Lock) int { return strings.Compare(a.Client, b.Client) })
	return out, nil
}

// call runs fn on the store unless it failed recently, tracking its health.
func (pr *Protector) call(ctx context.Context, fn func(Store) error) error {
	wall := pr.now().UnixNano()
	if pr.down.Load() && wall < pr.downUntil.Load() {
		return errSkipped
	}
	if err := fn(pr.store); err != nil {
		pr.downUntil.Store(wall + int64(pr.retryAfter))
		if pr.onStoreErr != nil {
			pr.onStoreErr(err)
		}
		if !pr.down.Swap(true) {
			pr.log.LogAttrs(ctx, slog.LevelWarn, "bruteforce: store unavailable",
				slog.String("error", err.Error()), slog.String("policy", string(pr.policy)))
		}
		return err
	}
	if pr.down.Load() && pr.down.Swap(false) {
		pr.log.LogAttrs(ctx, slog.LevelInfo, "bruteforce: store recovered")
	}
	return nil
}

var errSkipped = errors.New("bruteforce: store skipped after a recent failure")

func (pr *Protector) event(e Event) {
	if pr.onDecision != nil {
		pr.onDecision(e)
	}
}

// WriteError answers a login request that Check refused: 429 Too Many
// Requests with Retry-After for a *LockedError, 503 Service Unavailable
// otherwise, both through problem.Write and identical whether or not the
// account exists.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var le *LockedError
	if errors.As(err, &le) {
		secs := max(1, int64((le.RetryAfter+time.Second-1)/time.Second))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		problem.Write(w, r, problem.Problem{Status: http.StatusTooManyRequests, Policy: PolicyName, Reason: "locked_" + le.By.String()})
		return
	}
	w.Header().Set("Retry-After", "1")
	problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: PolicyName, Reason: "store_unavailable"})
}

// Policy is the name every package gives the value its New returns
// (headers.Policy, cors.Policy, access.Policy, …). A Protector is not
// middleware: login handlers call Check, Fail and Succeed around their
// own password check.
type Policy = Protector

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
