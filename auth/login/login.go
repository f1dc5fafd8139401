package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/internal/origin"
	"github.com/rampartsec/rampart/pages"
)

// Protection is the brute-force hook every login attempt passes through,
// keyed by account name and client address. The gateway provides it from
// its login_protection settings; a nil Protection in Config allows every
// attempt.
//
// Check is called before the password is examined; allowed=false refuses
// the attempt with 429 and retryAfter. Fail and Succeed report the
// outcome. Cancel reports an attempt Check allowed whose password could
// not be checked because the user store failed: it is neither a failure
// nor a success and must not count against the account or the client.
// Any error fails the login closed (503).
type Protection interface {
	Check(ctx context.Context, account string, ip netip.Addr) (allowed bool, retryAfter time.Duration, err error)
	Fail(ctx context.Context, account string, ip netip.Addr) error
	Succeed(ctx context.Context, account string, ip netip.Addr) error
	Cancel(ctx context.Context, account string, ip netip.Addr) error
}

type noProtection struct{}

func (noProtection) Check(context.Context, string, netip.Addr) (bool, time.Duration, error) {
	return true, 0, nil
}
func (noProtection) Fail(context.Context, string, netip.Addr) error    { return nil }
func (noProtection) Succeed(context.Context, string, netip.Addr) error { return nil }
func (noProtection) Cancel(context.Context, string, netip.Addr) error  { return nil }

// Outcome is the result of one login attempt, reported to
// Config.OnAttempt.
type Outcome string

// The outcomes.
const (
	OutcomeSuccess   Outcome = "success"
	OutcomeFailure   Outcome = "failure"   // unknown user, wrong password or locked account
	OutcomeThrottled Outcome = "throttled" // refused by Protection
	OutcomeError     Outcome = "error"     // store or protection failure; failed closed
)

// Config configures a Service.
type Config struct {
	// Users holds the accounts. Required.
	Users users.Store `yaml:"-"`
	// Sessions starts and ends sessions. Required for the HTTP handlers;
	// VerifyPassword works without it.
	Sessions *session.Manager `yaml:"-"`
	// Hasher checks and (re)hashes passwords. Default: OWASP parameters.
	Hasher *password.Hasher `yaml:"-"`
	// Protection is the brute-force hook. Default: allow everything (the
	// gateway always sets it).
	Protection Protection `yaml:"-"`
	// ClientIP resolves the client address for Protection and the session
	// list. Default nil: the TCP peer.
	ClientIP *clientip.Resolver `yaml:"-"`
	// RedirectOrigins are the origins, besides this site's paths, that a
	// browser may be sent to after login ("https://app.example.com").
	// Default: none.
	RedirectOrigins []string `yaml:"redirect_origins"`
	// TrustedOrigins are other origins whose browser requests to login,
	// logout and me are accepted although they are cross-site: the
	// origins a CORS policy allows, so that a single-page app there can
	// sign in. Exact origins or "*." subdomain patterns; "null" and "*" are
	// never trusted. The gateway sets it from cors.origins. Default none.
	TrustedOrigins []string `yaml:"-"`
	// Pages renders the login page. Default: the built-in page, unbranded.
	Pages *pages.Pages `yaml:"-"`
	// DefaultRedirect is where a browser goes after login when no safe
	// "next" was given. Default "/".
	DefaultRedirect string `yaml:"default_redirect"`
	// Prefix is the path under which Handler serves login, logout and me.
	// Default "/.rampart".
	Prefix string `yaml:"-"`
	// MaxConcurrentHashes bounds simultaneous password checks. Default 4.
	MaxConcurrentHashes int `yaml:"max_concurrent_hashes"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `yaml:"-"`
	// Logger receives failures and outcomes (never passwords). Default:
	// slog.Default(), so nothing is lost silently.
	Logger *slog.Logger `yaml:"-"`
	// OnAttempt, if set, is called with the outcome of every attempt, for
	// metrics. It must be fast and safe for concurrent use.
	OnAttempt func(Outcome) `yaml:"-"`
}

// Service checks passwords and serves the login endpoints. It is safe for
// concurrent use.
type Service struct {
	users      users.Store
	sessions   *session.Manager
	hasher     *password.Hasher
	protect    Protection
	clientIP   *clientip.Resolver
	redirects  *auth.Redirects
	pages      *pages.Pages
	trusted    *origin.Set
	defaultTo  string
	prefix     string
	slots      chan struct{}
	dummy      string
	now        func() time.Time
	log        *slog.Logger
	onAttempt  func(Outcome)
	loginPath  string
	logoutPath string
	mePath     string
}

// Errors returned by VerifyPassword.
var (
	// ErrInvalidCredentials is the one answer for an unknown user, a
	// wrong password and a locked account.
	ErrInvalidCredentials = errors.New("login: invalid username or password")
	// ErrThrottled is wrapped by *ThrottledError.
	ErrThrottled = errors.New("login: too many attempts")
	// ErrUnavailable is wrapped, with the cause, by the error returned
	// when the user store or Protection failed: the password was not
	// checked, nothing counts against the user, and callers answer 503.
	ErrUnavailable = errors.New("login: store unavailable")
)

// ThrottledError is returned when Protection refuses an attempt.
type ThrottledError struct {
	// RetryAfter is how long the client should wait.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("login: too many attempts, retry after %v", e.RetryAfter)
}

// Unwrap makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// New returns a Service for c.
func New(c Config) (*Service, error) {
	if c.Users == nil {
		return nil, errors.New("login: a user store is required")
	}
	s := &Service{
		users:     c.Users,
		sessions:  c.Sessions,
		hasher:    c.Hasher,
		protect:   c.Protection,
		clientIP:  c.ClientIP,
		defaultTo: c.DefaultRedirect,
		prefix:    strings.TrimSuffix(c.Prefix, "/"),
		now:       c.Now,
		log:       c.Logger,
		onAttempt: c.OnAttempt,
	}
	if s.hasher == nil {
		h, err := password.NewHasher(password.Params{})
		if err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		s.hasher = h
	}
	if s.protect == nil {
		s.protect = noProtection{}
	}
	rd, err := auth.NewRedirects(c.RedirectOrigins)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if s.pages = c.Pages; s.pages == nil {
		if s.pages, err = pages.New(pages.Config{}, ""); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	var trusted []string
	for _, o := range c.TrustedOrigins {
		if o = strings.TrimSpace(o); o != "*" && o != "null" {
			trusted = append(trusted, o)
		}
	}
	if s.trusted, err = origin.NewSet(trusted); err != nil {
		return nil, fmt.Errorf("login: trusted origins: %w", err)
	}
	s.redirects = rd
	if s.defaultTo == "" {
		s.defaultTo = "/"
	}
	if _, ok := rd.Sanitize(s.defaultTo); !ok {
		return nil, fmt.Errorf("login: default_redirect %q is not a safe redirect target", c.DefaultRedirect)
	}
	if c.Prefix == "" {
		s.prefix = "/.rampart"
	}
	if _, ok := (*auth.Redirects)(nil).Sanitize(s.prefix + "/login"); !ok || strings.ContainsAny(s.prefix, "?#") {
		return nil, fmt.Errorf("login: prefix %q must be a plain path", c.Prefix)
	}
	s.loginPath, s.logoutPath, s.mePath = s.prefix+"/login", s.prefix+"/logout", s.prefix+"/me"
	n := c.MaxConcurrentHashes
	if n == 0 {
		n = 4
	}
	if n < 0 {
		return nil, fmt.Errorf("login: max_concurrent_hashes must be positive, got %d", n)
	}
	s.slots = make(chan struct{}, n)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.onAttempt == nil {
		s.onAttempt = func(Outcome) {}
	}
	// The dummy hash that unknown users are checked against: same
	// parameters as real hashes, so the same work; nothing ever matches it.
	if s.dummy, err = s.hasher.Dummy(); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return s, nil
}

// LoginPath returns the path of the login page, for auth.Config.LoginURL.
func (s *Service) LoginPath() string { return s.loginPath }

// accountKey is the name Protection counts attempts under: the canonical
// user name when valid, else a bounded lower-cased copy, so that counting
// does not depend on whether the account exists.
func accountKey(name string) string {
	if c, err := users.CanonicalName(name); err == nil {
		return c
	}
	if len(name) > users.MaxNameLen {
		name = name[:users.MaxNameLen]
	}
	return strings.ToLower(name)
}

// VerifyPassword checks username and password for a login from ip, under
// the brute-force hook. It returns the user's identity (Method
// "password"), ErrInvalidCredentials for any failure the user could cause
// — in the same time whether or not the user exists — a *ThrottledError
// when Protection refuses, or another error for a system failure, on
// which callers must fail closed.
func (s *Service) VerifyPassword(ctx context.Context, username, pw string, ip netip.Addr) (*auth.Identity, error) {
	account := accountKey(username)
	allowed, retry, err := s.protect.Check(ctx, account, ip)
	if err != nil {
		s.onAttempt(OutcomeError)
		return nil, fmt.Errorf("%w: protection check: %w", ErrUnavailable, err)
	}
	if !allowed {
		s.onAttempt(OutcomeThrottled)
		s.log.Info("login: attempt throttled", "account", account, "ip", ip)
		return nil, &ThrottledError{RetryAfter: retry}
	}

	u, lookupErr := s.users.Lookup(ctx, username)
	if lookupErr != nil && !errors.Is(lookupErr, users.ErrNotFound) {
		// The password cannot be checked: this attempt proves nothing
		// against the user, so it is taken back. An outage of our store
		// must never lock a user out after it ends.
		s.cancel(ctx, account, ip)
		s.onAttempt(OutcomeError)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, lookupErr)
	}
	known := lookupErr == nil
	hash := s.dummy
	if known {
		hash = u.PasswordHash
	}

	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		// The client left before its password was checked.
		s.cancel(context.WithoutCancel(ctx), account, ip)
		s.onAttempt(OutcomeError)
		return nil, fmt.Errorf("login: %w", ctx.Err())
	}
	rehash, verr := s.hasher.Verify(hash, pw)
	if errors.Is(verr, password.ErrMalformedHash) {
		// A stored hash this code cannot read: the account cannot log in
		// until an operator sets a new password. Say so in the log only,
		// and spend the time a real check takes, so the broken account
		// does not stand out by answering fast.
		s.log.Error("login: stored password hash is unusable; reset the password", "user", u.Name, "err", verr)
		_, _ = s.hasher.Verify(s.dummy, pw)
	}
	<-s.slots

	if !known || verr != nil || u.Locked {
		if err := s.protect.Fail(ctx, account, ip); err != nil {
			s.log.Error("login: recording a failure failed", "err", err)
		}
		s.onAttempt(OutcomeFailure)
		s.log.Info("login: failed", "account", account, "ip", ip)
		return nil, ErrInvalidCredentials
	}
	if err := s.protect.Succeed(ctx, account, ip); err != nil {
		// The login itself is sound; a counter that was not reset only
		// makes the next failures count sooner.
		s.log.Error("login: recording a success failed", "err", err)
	}
	if rehash {
		s.rehash(ctx, u.Name, pw)
	}
	s.onAttempt(OutcomeSuccess)
	s.log.Info("login: succeeded", "user", u.Name, "ip", ip)
	return &auth.Identity{Subject: u.Name, Roles: u.Roles, Method: "password"}, nil
}

// cancel takes back an attempt whose password was not checked.
func (s *Service) cancel(ctx context.Context, account string, ip netip.Addr) {
	if err := s.protect.Cancel(ctx, account, ip); err != nil {
		s.log.Error("login: taking back an unchecked attempt failed", "account", account, "ip", ip, "err", err)
	}
}

// rehash replaces a hash made with other parameters while the plain
// password is at hand. Failure leaves the old, still valid hash.
func (s *Service) rehash(ctx context.Context, name, pw string) {
	h, err := s.hasher.Hash(pw)
	if err == nil {
		err = s.users.SetPassword(ctx, name, h, false)
	}
	if err != nil {
		s.log.Warn("login: rehashing the password failed; keeping the old hash", "user", name, "err", err)
		return
	}
	s.log.Info("login: password rehashed with current parameters", "user", name)
}
