package session

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rampartsec/rampart/auth"
)

// Production caps on session lifetimes. New accepts longer values so that
// development setups can do what they like; CheckProduction, which the
// production guard runs, refuses them.
//
// The absolute cap is NIST SP 800-63B-4's reauthentication bound for a
// single-factor login (AAL1: 30 days); the idle cap keeps an unattended
// session from outliving a working day.
const (
	ProductionMaxIdleTimeout     = 24 * time.Hour
	ProductionMaxAbsoluteTimeout = 30 * 24 * time.Hour
)

// DefaultCookieName is the session cookie's name. The __Host- prefix makes
// browsers refuse the cookie unless it is Secure, has Path=/ and no Domain,
// so a sibling subdomain cannot plant or overwrite it.
const DefaultCookieName = "__Host-rampart-session"

// insecureCookieName is used with UnsafeInsecureCookie: the __Host- prefix
// is not allowed without Secure.
const insecureCookieName = "rampart-session"

// Config configures a Manager. IdleTimeout and AbsoluteTimeout are
// required: there is no unbounded session.
type Config struct {
	// IdleTimeout ends a session after this long without a request.
	// Required; at most AbsoluteTimeout.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// AbsoluteTimeout ends a session this long after login, however
	// active. Required.
	AbsoluteTimeout time.Duration `yaml:"absolute_timeout"`
	// SameSite is the cookie's SameSite attribute: "lax" (default) or
	// "strict". "none" is refused: a session cookie sent on cross-site
	// requests is what CSRF needs.
	SameSite string `yaml:"same_site"`
	// CookieName is the cookie's name. Default "__Host-rampart-session";
	// it must start with "__Host-" unless UnsafeInsecureCookie is set.
	CookieName string `yaml:"cookie_name"`
	// UnsafeInsecureCookie drops the Secure attribute and the __Host-
	// prefix (default name "rampart-session") so that sessions work over
	// plain HTTP on a host other than localhost. Development only: the
	// cookie then travels in clear text. Default false.
	UnsafeInsecureCookie bool `yaml:"unsafe_insecure_cookie"`
	// UnsafePlainHTTP, when set, is asked about every request; for one it
	// reports true — a request that reached the site over plain HTTP — the
	// cookie is read and set without Secure, under CookieName without its
	// __Host- prefix ("rampart-session" by default), because browsers
	// refuse Secure cookies from insecure origins other than localhost.
	// Requests over HTTPS keep the __Host- cookie, and never read the
	// plain one. The gateway sets it in development only. Default nil.
	UnsafePlainHTTP func(r *http.Request) bool `yaml:"-"`
	// OnStoreError says what happens to a request whose session the store
	// cannot be asked about: "fail_closed" (default) refuses it (503);
	// "cache" accepts it when the store is a StaleFinder (a
	// CachedRedisStore) that saw the session within its cache lifetime
	// before the outage began — degraded mode. Deadlines are still
	// checked, idle time counting from the last activity the store
	// recorded; revocations announced before the outage still apply,
	// those made during it (which the store could not record either) are
	// seen when it is back.
	OnStoreError string `yaml:"on_store_error"`

	// RecordKey, when set, authenticates every record the Manager writes
	// with HMAC-SHA256 (see Record.MAC), and records that fail the check
	// are refused: someone who can write to the store cannot forge or
	// edit a session. Replicas sharing a store must share the key. At
	// least 32 bytes. Default none.
	RecordKey []byte `yaml:"-"`
	// Deployment is bound into every record's MAC, so that records of one
	// deployment are refused by another using the same store and key.
	// Default "".
	Deployment string `yaml:"-"`

	// Now is the clock. Default time.Now.
	Now func() time.Time `yaml:"-"`
	// Logger receives store failures and expiries at debug level.
	// Default: slog.Default(), so nothing is lost silently; pass a logger with slog.DiscardHandler to drop.
	Logger *slog.Logger `yaml:"-"`
	// OnEvent, if set, is called for every session event, for metrics.
	// It must be fast and safe for concurrent use.
	OnEvent func(Event) `yaml:"-"`
}

// Event is something that happened to a session, reported to
// Config.OnEvent.
type Event string

// The events reported to Config.OnEvent.
const (
	EventCreated         Event = "created"
	EventRotated         Event = "rotated"
	EventLoggedOut       Event = "logged_out"
	EventExpiredIdle     Event = "expired_idle"
	EventExpiredAbsolute Event = "expired_absolute"
	EventUnknown         Event = "unknown"       // a well-formed id that no store knows
	EventMalformed       Event = "malformed"     // a cookie that is not an id at all
	EventStoreError      Event = "store_error"   // the store failed; the request failed closed
	EventRevokedAll      Event = "revoked_all"   // log out everywhere
	EventRevoked         Event = "revoked_other" // one session ended from the session list
	EventTampered        Event = "tampered"      // a record whose MAC does not verify: refused
	EventDegraded        Event = "degraded"      // the store failed; the session was served from the process cache (on_store_error: cache)
)

// StaleFinder is implemented by stores that keep a process-local copy of
// recently seen sessions, for degraded mode (Config.OnStoreError "cache").
type StaleFinder interface {
	// FindStale returns the record of key as last seen, when it was
	// confirmed by the backing store within the cache lifetime before the
	// backing store became unreachable, and no deletion of it was
	// announced since.
	FindStale(key Key) (Record, bool)
}

// The values of Config.OnStoreError.
const (
	OnStoreErrorFailClosed = "fail_closed"
	OnStoreErrorCache      = "cache"
)

// CheckProduction reports settings that production must refuse: lifetimes
// above the caps and the insecure cookie. Each error names the key and the
// fix. It returns nil for an acceptable configuration.
func (c Config) CheckProduction() error {
	var errs []error
	if c.IdleTimeout <= 0 || c.AbsoluteTimeout <= 0 {
		errs = append(errs, errors.New("session: auth.sessions.idle_timeout and absolute_timeout are required; set e.g. 30m and 12h"))
	}
	if c.IdleTimeout > ProductionMaxIdleTimeout {
		errs = append(errs, fmt.Errorf("session: auth.sessions.idle_timeout %v is above the production cap of %v; lower it (30m is typical)", c.IdleTimeout, ProductionMaxIdleTimeout))
	}
	if c.AbsoluteTimeout > ProductionMaxAbsoluteTimeout {
		errs = append(errs, fmt.Errorf("session: auth.sessions.absolute_timeout %v is above the production cap of %v; lower it (12h is typical)", c.AbsoluteTimeout, ProductionMaxAbsoluteTimeout))
	}
	if c.UnsafeInsecureCookie {
		errs = append(errs, errors.New("session: auth.sessions.unsafe_insecure_cookie sends the session cookie over plain HTTP; remove it and serve HTTPS"))
	}
	return errors.Join(errs...)
}

// Manager issues, checks and ends sessions. It is safe for concurrent use.
type Manager struct {
	store        Store
	idle         time.Duration
	absolute     time.Duration
	touchEvery   time.Duration
	now          func() time.Time
	log          *slog.Logger
	onEvent      func(Event)
	cookieName   string
	cookieSuffix string // "; Path=/; Secure; HttpOnly; SameSite=Lax"
	// plain is Config.UnsafePlainHTTP; plainName, plainSuffix and
	// plainClear are the plain-HTTP cookie's.
	plain                              func(*http.Request) bool
	plainName, plainSuffix, plainClear string
	clearCookie                        string
	recordKey                          []byte
	deployment                         string
	stale                              StaleFinder // set with on_store_error: cache
	degraded                           atomic.Bool // serving from the cache now, for the log
}

var _ auth.Authenticator = (*Manager)(nil)

// ErrNoSession is returned by Rotate and Logout when the request carries no
// live session.
var ErrNoSession = errors.New("session: no session")

// New returns a Manager that keeps sessions in store. It returns an error
// if c is invalid.
func New(store Store, c Config) (*Manager, error) {
	if store == nil {
		return nil, errors.New("session: nil store")
	}
	if c.IdleTimeout <= 0 {
		return nil, errors.New("session: idle_timeout is required and must be positive")
	}
	if c.AbsoluteTimeout <= 0 {
		return nil, errors.New("session: absolute_timeout is required and must be positive")
	}
	if c.IdleTimeout > c.AbsoluteTimeout {
		return nil, fmt.Errorf("session: idle_timeout (%v) must not exceed absolute_timeout (%v)", c.IdleTimeout, c.AbsoluteTimeout)
	}
	if len(c.RecordKey) > 0 && len(c.RecordKey) < 32 {
		return nil, fmt.Errorf("session: the record key must be at least 32 bytes, got %d", len(c.RecordKey))
	}
	m := &Manager{
		store:      store,
		idle:       c.IdleTimeout,
		absolute:   c.AbsoluteTimeout,
		now:        c.Now,
		log:        c.Logger,
		onEvent:    c.OnEvent,
		recordKey:  bytes.Clone(c.RecordKey),
		deployment: c.Deployment,
	}
	m.touchEvery = min(c.IdleTimeout/10, time.Minute)
	switch c.OnStoreError {
	case "", OnStoreErrorFailClosed:
	case OnStoreErrorCache:
		sf, ok := store.(StaleFinder)
		if !ok {
			return nil, errors.New("session: on_store_error: cache needs a store with a process cache (store.redis with store.session_cache above 0)")
		}
		m.stale = sf
	default:
		return nil, fmt.Errorf("session: on_store_error must be fail_closed or cache, got %q", c.OnStoreError)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.onEvent == nil {
		m.onEvent = func(Event) {}
	}
	var sameSite string
	switch strings.ToLower(c.SameSite) {
	case "", "lax":
		sameSite = "Lax"
	case "strict":
		sameSite = "Strict"
	default:
		return nil, fmt.Errorf("session: same_site must be lax or strict, got %q", c.SameSite)
	}
	m.cookieName = c.CookieName
	switch {
	case m.cookieName == "" && c.UnsafeInsecureCookie:
		m.cookieName = insecureCookieName
	case m.cookieName == "":
		m.cookieName = DefaultCookieName
	case !validCookieName(m.cookieName):
		return nil, fmt.Errorf("session: cookie_name %q is not a valid cookie name", c.CookieName)
	case c.UnsafeInsecureCookie && (strings.HasPrefix(m.cookieName, "__Host-") || strings.HasPrefix(m.cookieName, "__Secure-")):
		return nil, fmt.Errorf("session: cookie_name %q needs Secure, which unsafe_insecure_cookie turns off", c.CookieName)
	case !c.UnsafeInsecureCookie && !strings.HasPrefix(m.cookieName, "__Host-"):
		return nil, fmt.Errorf("session: cookie_name %q must start with __Host- so that no subdomain can set it", c.CookieName)
	}
	secure := "; Secure"
	if c.UnsafeInsecureCookie {
		secure = ""
	}
	m.cookieSuffix = "; Path=/" + secure + "; HttpOnly; SameSite=" + sameSite
	m.clearCookie = m.cookieName + "=; Path=/; Max-Age=0" + secure + "; HttpOnly; SameSite=" + sameSite
	if c.UnsafePlainHTTP != nil && secure != "" {
		m.plain = c.UnsafePlainHTTP
		m.plainName = strings.TrimPrefix(m.cookieName, "__Host-")
		m.plainSuffix = "; Path=/; HttpOnly; SameSite=" + sameSite
		m.plainClear = m.plainName + "=; Path=/; Max-Age=0; HttpOnly; SameSite=" + sameSite
	}
	return m, nil
}

func validCookieName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return s != ""
}

// mac is the record MAC of rec under k, or "" without a record key.
func (m *Manager) mac(k Key, rec Record) string {
	if len(m.recordKey) == 0 {
		return ""
	}
	h := hmac.New(sha256.New, m.recordKey)
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("rampart session record v1")
	field(m.deployment)
	field(k.String())
	field(rec.User)
	field(strings.Join(rec.Roles, ","))
	field(strconv.FormatInt(rec.Created.UnixMilli(), 10))
	field(rec.Issuer)
	field(rec.Method)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// verify reports whether rec's MAC is right (always, without a record
// key).
func (m *Manager) verify(k Key, rec Record) bool {
	if len(m.recordKey) == 0 {
		return true
	}
	return hmac.Equal([]byte(rec.MAC), []byte(m.mac(k, rec)))
}

// CookieName returns the name of the session cookie.
func (m *Manager) CookieName() string { return m.cookieName }

// CookieNameFor returns the name of the session cookie r carries: the
// plain-HTTP one for a request UnsafePlainHTTP reports, else CookieName.
func (m *Manager) CookieNameFor(r *http.Request) string {
	if m.plain != nil && m.plain(r) {
		return m.plainName
	}
	return m.cookieName
}

// IdleTimeout returns the configured idle timeout.
func (m *Manager) IdleTimeout() time.Duration { return m.idle }

// AbsoluteTimeout returns the configured absolute timeout.
func (m *Manager) AbsoluteTimeout() time.Duration { return m.absolute }

// key returns the Key of the session id in r's cookie, if any is well
// formed. When several cookies carry the name, the first one decides:
// only this origin can set a __Host- cookie, so there is nothing to choose.
func (m *Manager) key(r *http.Request) (Key, bool) {
	c, err := r.Cookie(m.CookieNameFor(r))
	if err != nil {
		return Key{}, false
	}
	k, ok := ParseID(c.Value)
	if !ok {
		m.onEvent(EventMalformed)
	}
	return k, ok
}

// deadline returns when rec's session ends and why.
func (m *Manager) deadline(rec Record) (time.Time, Event) {
	idle := rec.LastSeen.Add(m.idle)
	abs := rec.Created.Add(m.absolute)
	if abs.Before(idle) {
		return abs, EventExpiredAbsolute
	}
	return idle, EventExpiredIdle
}

// Authenticate returns the identity of r's session. It returns (nil, nil)
// when r carries no session cookie, a malformed one, or one for a session
// that is unknown, logged out or expired; and a non-nil error only when
// the store failed, in which case the caller must fail closed. It
// implements the authenticator interface of package auth.
func (m *Manager) Authenticate(r *http.Request) (*auth.Identity, error) {
	k, ok := m.key(r)
	if !ok {
		return nil, nil
	}
	rec, ok, err := m.live(r.Context(), k)
	if err != nil || !ok {
		return nil, err
	}
	return m.identity(rec), nil
}

// identity is the identity rec stands for.
func (m *Manager) identity(rec Record) *auth.Identity {
	end, _ := m.deadline(rec)
	id := &auth.Identity{Subject: rec.User, Roles: rec.Roles, Method: rec.Method, Issuer: rec.Issuer, Expires: end}
	if rec.Issuer != "" {
		id.Subject = strings.TrimPrefix(rec.User, rec.Issuer+" ")
	}
	if id.Method == "" {
		id.Method = "session"
	}
	return id
}

// live finds k's record, enforces both deadlines and records activity.
func (m *Manager) live(ctx context.Context, k Key) (Record, bool, error) {
	rec, found, err := m.store.Find(ctx, k)
	if err != nil {
		if rec, ok := m.fromCache(k, err); ok {
			return rec, true, nil
		}
		m.onEvent(EventStoreError)
		m.log.Error("session: store failed; refusing the session", "err", err)
		return Record{}, false, fmt.Errorf("session: find: %w", err)
	}
	if m.stale != nil && m.degraded.Load() && m.degraded.Swap(false) {
		m.log.Info("session: store answers again; degraded mode over")
	}
	if !found {
		m.onEvent(EventUnknown)
		return Record{}, false, nil
	}
	if !m.verify(k, rec) {
		m.onEvent(EventTampered)
		m.log.Warn("session: a stored record failed its integrity check and was refused; the store was written by another deployment or edited", "user", truncate(rec.User, 100))
		return Record{}, false, nil
	}
	now := m.now()
	if end, why := m.deadline(rec); !now.Before(end) {
		m.onEvent(why)
		m.log.Debug("session: expired", "user", rec.User, "reason", string(why))
		// Best effort: the store's own TTL removes it anyway, and the
		// deadline check above refuses it whatever happens here.
		if err := m.store.Delete(ctx, k); err != nil {
			m.log.Warn("session: deleting an expired session failed", "err", err)
		}
		return Record{}, false, nil
	}
	if now.Sub(rec.LastSeen) >= m.touchEvery {
		rec.LastSeen = now
		found, err := m.store.Touch(ctx, k, rec, m.ttl(rec, now))
		if err != nil && m.stale != nil {
			// Found (from the cache) but the activity cannot be
			// recorded: degraded, served as found.
			if rec, ok := m.fromCache(k, err); ok {
				return rec, true, nil
			}
		}
		if err != nil {
			m.onEvent(EventStoreError)
			m.log.Error("session: store failed; refusing the session", "err", err)
			return Record{}, false, fmt.Errorf("session: touch: %w", err)
		}
		if !found {
			// Logged out between Find and Touch: the logout wins.
			m.onEvent(EventUnknown)
			return Record{}, false, nil
		}
	}
	return rec, true, nil
}

// fromCache is degraded mode: the session k from the process cache while
// the store fails with err, when on_store_error is cache and the cache saw
// it recently enough. The record passes the same integrity and deadline
// checks as one from the store.
func (m *Manager) fromCache(k Key, err error) (Record, bool) {
	if m.stale == nil {
		return Record{}, false
	}
	rec, ok := m.stale.FindStale(k)
	if !ok || !m.verify(k, rec) {
		return Record{}, false
	}
	if end, _ := m.deadline(rec); !m.now().Before(end) {
		return Record{}, false
	}
	m.onEvent(EventDegraded)
	if !m.degraded.Swap(true) {
		m.log.Warn("session: store unavailable; DEGRADED: serving sessions seen recently from the process cache (on_store_error: cache)", "err", err)
	}
	return rec, true
}

// ttl is how long the store should keep rec from now.
func (m *Manager) ttl(rec Record, now time.Time) time.Duration {
	end, _ := m.deadline(rec)
	return max(end.Sub(now), time.Millisecond)
}

// Login starts a session for the local user with roles and sets its
// cookie on w. Any session r already carries is deleted first and never
// reused: a fresh id is issued every time, so an id planted before login
// (session fixation) is worthless. It returns the new session's identity.
func (m *Manager) Login(w http.ResponseWriter, r *http.Request, user string, roles []string) (*auth.Identity, error) {
	return m.LoginIdentity(w, r, &auth.Identity{Subject: user, Roles: roles})
}

// LoginIdentity is Login for an identity that may come from an external
// provider: with id.Issuer set, the session belongs to the principal
// (issuer and subject, see auth.Identity.Principal), never to the local
// user of the same name, and its method is "oidc".
func (m *Manager) LoginIdentity(w http.ResponseWriter, r *http.Request, id *auth.Identity) (*auth.Identity, error) {
	if err := checkIdentity(id.Subject, id.Roles); err != nil {
		return nil, err
	}
	if strings.ContainsAny(id.Issuer, " \t\r\n") {
		return nil, errors.New("session: invalid issuer")
	}
	ctx := r.Context()
	if k, ok := m.key(r); ok {
		if err := m.store.Delete(ctx, k); err != nil {
			return nil, fmt.Errorf("session: delete previous session: %w", err)
		}
	}
	now := m.now()
	rec := Record{
		User:      id.Principal(),
		Roles:     append([]string(nil), id.Roles...),
		Created:   now,
		LastSeen:  now,
		IP:        clientAddr(r),
		UserAgent: truncate(r.UserAgent(), 200),
	}
	if id.Issuer != "" {
		rec.Issuer, rec.Method = id.Issuer, "oidc"
	}
	sid, err := m.create(ctx, rec, now)
	if err != nil {
		return nil, err
	}
	m.setCookie(w, r, sid)
	m.onEvent(EventCreated)
	return m.identity(rec), nil
}

// checkIdentity refuses a user or roles that stores cannot keep exactly:
// SQL stores keep roles comma-separated.
func checkIdentity(user string, roles []string) error {
	if user == "" {
		return errors.New("session: empty user name")
	}
	for _, r := range roles {
		if r == "" || strings.ContainsAny(r, ", \t\r\n") {
			return fmt.Errorf("session: invalid role %q", r)
		}
	}
	return nil
}

func (m *Manager) create(ctx context.Context, rec Record, now time.Time) (string, error) {
	id, k := newID()
	rec.MAC = m.mac(k, rec)
	if err := m.store.Create(ctx, k, rec, m.ttl(rec, now)); err != nil {
		return "", fmt.Errorf("session: create: %w", err)
	}
	return id, nil
}

// Rotate replaces r's session with one under a fresh id carrying roles,
// keeping its login time (the absolute timeout does not restart). Call it
// whenever the user's privileges change. It returns ErrNoSession if r has
// no live session.
func (m *Manager) Rotate(w http.ResponseWriter, r *http.Request, roles []string) (*auth.Identity, error) {
	if err := checkIdentity("-", roles); err != nil {
		return nil, err
	}
	ctx := r.Context()
	k, ok := m.key(r)
	if !ok {
		return nil, ErrNoSession
	}
	rec, ok, err := m.live(ctx, k)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNoSession
	}
	now := m.now()
	rec.Roles = append([]string(nil), roles...)
	rec.LastSeen = now
	id, err := m.create(ctx, rec, now)
	if err != nil {
		return nil, err
	}
	if err := m.store.Delete(ctx, k); err != nil {
		return nil, fmt.Errorf("session: delete rotated session: %w", err)
	}
	m.setCookie(w, r, id)
	m.onEvent(EventRotated)
	return m.identity(rec), nil
}

// Logout deletes r's session from the store and clears the cookie. The
// cookie is cleared even when there is no session or the store fails.
func (m *Manager) Logout(w http.ResponseWriter, r *http.Request) error {
	m.ClearCookie(w)
	k, ok := m.key(r)
	if !ok {
		return nil
	}
	if err := m.store.Delete(r.Context(), k); err != nil {
		return fmt.Errorf("session: logout: %w", err)
	}
	m.onEvent(EventLoggedOut)
	return nil
}

// LogoutEverywhere deletes every session of user, on every replica sharing
// the store, and returns how many there were.
func (m *Manager) LogoutEverywhere(ctx context.Context, user string) (int, error) {
	n, err := m.store.DeleteUser(ctx, user)
	if err != nil {
		return n, fmt.Errorf("session: log out everywhere: %w", err)
	}
	m.onEvent(EventRevokedAll)
	return n, nil
}

// Info describes one live session for the user's session list.
type Info struct {
	// ID is the session's Key in hex: a handle for Revoke, not the
	// cookie value.
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	Expires   time.Time `json:"expires"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	// Current marks the session of the request that asked.
	Current bool `json:"current"`
}

// List returns user's live sessions, oldest first, marking the one r
// carries (r may be nil).
func (m *Manager) List(ctx context.Context, user string, r *http.Request) ([]Info, error) {
	entries, err := m.store.List(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("session: list: %w", err)
	}
	var cur Key
	var hasCur bool
	if r != nil {
		cur, hasCur = m.key(r)
	}
	now := m.now()
	out := make([]Info, 0, len(entries))
	for _, e := range entries {
		end, _ := m.deadline(e.Record)
		if !now.Before(end) || !m.verify(e.Key, e.Record) {
			continue
		}
		out = append(out, Info{
			ID: e.Key.String(), Created: e.Record.Created, LastSeen: e.Record.LastSeen, Expires: end,
			IP: e.Record.IP, UserAgent: e.Record.UserAgent, Current: hasCur && e.Key == cur,
		})
	}
	return out, nil
}

// Revoke ends the session with handle id (an Info.ID) if it belongs to
// user; it reports whether one was ended. A user can thus end a session on
// another device without being able to touch anyone else's.
func (m *Manager) Revoke(ctx context.Context, user, id string) (bool, error) {
	k, ok := ParseKey(id)
	if !ok {
		return false, nil
	}
	rec, found, err := m.store.Find(ctx, k)
	if err != nil {
		return false, fmt.Errorf("session: revoke: %w", err)
	}
	if !found || rec.User != user || !m.verify(k, rec) {
		return false, nil
	}
	if err := m.store.Delete(ctx, k); err != nil {
		return false, fmt.Errorf("session: revoke: %w", err)
	}
	m.onEvent(EventRevoked)
	return true, nil
}

func (m *Manager) setCookie(w http.ResponseWriter, r *http.Request, id string) {
	h := w.Header()
	if m.plain != nil && m.plain(r) {
		h.Add("Set-Cookie", m.plainName+"="+id+m.plainSuffix)
	} else {
		h.Add("Set-Cookie", m.cookieName+"="+id+m.cookieSuffix)
	}
	// A response that sets a session cookie must never be cached.
	h.Set("Cache-Control", "no-store")
}

// ClearCookie tells the browser to drop the session cookie.
func (m *Manager) ClearCookie(w http.ResponseWriter) {
	h := w.Header()
	h.Add("Set-Cookie", m.clearCookie)
	if m.plain != nil {
		// The request may have used either cookie; clearing both is
		// harmless.
		h.Add("Set-Cookie", m.plainClear)
	}
	h.Set("Cache-Control", "no-store")
}

// clientAddr is the TCP peer, for the session list only; the login flow
// overrides it with the trusted-proxy-aware address.
func clientAddr(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok {
		return ip
	}
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = strings.Trim(host[:i], "[]")
	}
	return host
}

type clientIPKey struct{}

// WithClientIP returns a copy of ctx that tells Login the client's address
// as resolved by a trusted-proxy-aware resolver (package clientip), for
// the session list.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
