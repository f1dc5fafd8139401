package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/sqldb"
)

// storeDownError is a store that the configuration names correctly but
// that did not answer: a condition to wait out, not a configuration
// mistake. Its text is the configuration error's (file:line: key: …).
type storeDownError struct {
	store string // "postgres"
	err   error  // *config.FieldError
}

func (e *storeDownError) Error() string { return e.err.Error() }
func (e *storeDownError) Unwrap() error { return e.err }

// unreachable reports err, from opening the store under key, as a
// configuration error — or as a *storeDownError when the settings were
// usable and the server did not answer.
func unreachable(c *config.Config, store, key string, err error) error {
	fe := c.Errorf(key, "%v", err)
	var u *sqldb.UnreachableError
	if errors.As(err, &u) {
		return &storeDownError{store: store, err: fe}
	}
	return fe
}

// errStorePending is what the stores of a database that has not answered
// yet return: every caller already fails closed on a store error (503
// with Retry-After, nothing counted against users).
var errStorePending = errors.New("gateway: the database has not answered since start; retrying")

// pendingSQL is a PostgreSQL database that was down when the gateway
// started. Rather than exit — a supervisor may take that for a
// configuration error and never try again — the gateway serves what does
// not need it, answers /readyz 503 naming it, and connects in the
// background with exponential back-off. Its stores answer errStorePending
// until then and are the real stores afterwards.
type pendingSQL struct {
	g  *Gateway
	c  *config.Config
	ns string
	// lease holds what the pending database opens once it answers; the
	// Gateway's Close closes it with every other store.
	lease *lease
	up    atomic.Bool
	err   atomic.Pointer[string] // the last connection error, for /readyz and logs
}

// pendingDB returns the pending database of c, starting its connection
// loop on first use.
func (g *Gateway) pendingDB(c *config.Config, ns string, cause error) *pendingSQL {
	key, _ := sqlKey(c)
	g.pendingMu.Lock()
	defer g.pendingMu.Unlock()
	if p, ok := g.pending[key]; ok {
		return p
	}
	p := &pendingSQL{g: g, c: c, ns: ns, lease: g.stores.lease()}
	msg := cause.Error()
	p.err.Store(&msg)
	g.pending[key] = p
	g.metrics.storeUp.WithLabelValues("postgres").Set(0)
	g.log.Warn("the database is unreachable; serving what does not need it and retrying in the background (/readyz answers 503 until it answers)",
		slog.String("store", "postgres"), slog.String("error", msg))
	g.background.Add(1)
	go func() {
		defer g.background.Done()
		p.connect(g.life)
	}()
	return p
}

// pendingFor returns the pending database of c while it has not answered,
// else nil.
func (g *Gateway) pendingFor(c *config.Config) *pendingSQL {
	key, pg := sqlKey(c)
	if !pg {
		return nil
	}
	g.pendingMu.Lock()
	defer g.pendingMu.Unlock()
	if p, ok := g.pending[key]; ok && !p.up.Load() {
		return p
	}
	return nil
}

// pendingNotReady says which database keeps the gateway from being ready.
func (g *Gateway) pendingNotReady() string {
	g.pendingMu.Lock()
	defer g.pendingMu.Unlock()
	for _, p := range g.pending {
		if why := p.notReady(); why != "" {
			return why
		}
	}
	return ""
}

// Back-off of the connection loop.
const (
	pendingFirstRetry = 500 * time.Millisecond
	pendingMaxRetry   = 30 * time.Second
)

// connect opens the database, retrying with exponential back-off until it
// answers or ctx is done.
func (p *pendingSQL) connect(ctx context.Context) {
	wait := pendingFirstRetry
	for attempt := 1; ; attempt++ {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		db, err := p.lease.sql(ctx, p.c)
		if err == nil {
			_, err = p.lease.users(ctx, p.c, db)
		}
		if err == nil {
			p.up.Store(true)
			p.g.metrics.storeUp.WithLabelValues("postgres").Set(1)
			p.g.log.Info("the database answered; ready", slog.String("store", "postgres"), slog.Int("attempts", attempt))
			return
		}
		msg := err.Error()
		p.err.Store(&msg)
		wait = min(wait*2, pendingMaxRetry)
		p.g.log.Warn("the database is still unreachable", slog.String("store", "postgres"),
			slog.String("error", msg), slog.String("retry_in", wait.String()))
	}
}

// notReady says why p keeps the gateway from being ready, or "".
func (p *pendingSQL) notReady() string {
	if p.up.Load() {
		return ""
	}
	return "store postgres unreachable since start (retrying): " + *p.err.Load()
}

// lazy is a store of a pending database: opened at the first call after
// the database answered, errStorePending before.
type lazy[T any] struct {
	p    *pendingSQL
	open func(context.Context) (T, error)
	mu   sync.Mutex
	v    atomic.Pointer[T]
}

func (l *lazy[T]) get(ctx context.Context) (T, error) {
	if v := l.v.Load(); v != nil {
		return *v, nil
	}
	var zero T
	if !l.p.up.Load() {
		return zero, errStorePending
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if v := l.v.Load(); v != nil {
		return *v, nil
	}
	v, err := l.open(ctx)
	if err != nil {
		return zero, fmt.Errorf("gateway: opening a store of the database: %w", err)
	}
	l.v.Store(&v)
	return v, nil
}

// users returns the user store of p.
func (p *pendingSQL) users() users.Store {
	return &pendingUsers{lazy[users.Store]{p: p, open: func(ctx context.Context) (users.Store, error) {
		db, err := p.lease.sql(ctx, p.c)
		if err != nil {
			return nil, err
		}
		return p.lease.users(ctx, p.c, db)
	}}}
}

// sessions returns the session store of p (sessions in the database).
func (p *pendingSQL) sessions() session.Store {
	return &pendingSessions{lazy[session.Store]{p: p, open: func(ctx context.Context) (session.Store, error) {
		return p.lease.sessions(ctx, p.c, p.ns)
	}}}
}

// tokens returns the refresh-token store of p (tokens in the database).
func (p *pendingSQL) tokens() token.Store {
	return &pendingTokens{lazy[token.Store]{p: p, open: func(ctx context.Context) (token.Store, error) {
		return p.lease.tokens(ctx, p.c, p.ns)
	}}}
}

type pendingUsers struct{ l lazy[users.Store] }

var _ users.Store = (*pendingUsers)(nil)

func (s *pendingUsers) Create(ctx context.Context, u users.User) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.Create(ctx, u)
}

func (s *pendingUsers) Lookup(ctx context.Context, name string) (users.User, error) {
	st, err := s.l.get(ctx)
	if err != nil {
		return users.User{}, err
	}
	return st.Lookup(ctx, name)
}

func (s *pendingUsers) List(ctx context.Context) ([]users.User, error) {
	st, err := s.l.get(ctx)
	if err != nil {
		return nil, err
	}
	return st.List(ctx)
}

func (s *pendingUsers) SetPassword(ctx context.Context, name, hash string, byUser bool) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.SetPassword(ctx, name, hash, byUser)
}

func (s *pendingUsers) SetLocked(ctx context.Context, name string, locked bool) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.SetLocked(ctx, name, locked)
}

func (s *pendingUsers) SetRoles(ctx context.Context, name string, roles []string) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.SetRoles(ctx, name, roles)
}

func (s *pendingUsers) Delete(ctx context.Context, name string) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.Delete(ctx, name)
}

type pendingSessions struct{ l lazy[session.Store] }

var _ session.Store = (*pendingSessions)(nil)

func (s *pendingSessions) Create(ctx context.Context, key session.Key, rec session.Record, ttl time.Duration) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.Create(ctx, key, rec, ttl)
}

func (s *pendingSessions) Find(ctx context.Context, key session.Key) (session.Record, bool, error) {
	st, err := s.l.get(ctx)
	if err != nil {
		return session.Record{}, false, err
	}
	return st.Find(ctx, key)
}

func (s *pendingSessions) Touch(ctx context.Context, key session.Key, rec session.Record, ttl time.Duration) (bool, error) {
	st, err := s.l.get(ctx)
	if err != nil {
		return false, err
	}
	return st.Touch(ctx, key, rec, ttl)
}

func (s *pendingSessions) Delete(ctx context.Context, key session.Key) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.Delete(ctx, key)
}

func (s *pendingSessions) DeleteUser(ctx context.Context, user string) (int, error) {
	st, err := s.l.get(ctx)
	if err != nil {
		return 0, err
	}
	return st.DeleteUser(ctx, user)
}

func (s *pendingSessions) List(ctx context.Context, user string) ([]session.Entry, error) {
	st, err := s.l.get(ctx)
	if err != nil {
		return nil, err
	}
	return st.List(ctx, user)
}

type pendingTokens struct{ l lazy[token.Store] }

var _ token.Store = (*pendingTokens)(nil)

func (s *pendingTokens) CreateFamily(ctx context.Context, f token.Family, t token.RefreshToken) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.CreateFamily(ctx, f, t)
}

func (s *pendingTokens) Rotate(ctx context.Context, old [sha256.Size]byte, next token.RefreshToken, now time.Time) (token.Family, error) {
	st, err := s.l.get(ctx)
	if err != nil {
		return token.Family{}, err
	}
	return st.Rotate(ctx, old, next, now)
}

func (s *pendingTokens) Family(ctx context.Context, h [sha256.Size]byte, now time.Time) (token.Family, error) {
	st, err := s.l.get(ctx)
	if err != nil {
		return token.Family{}, err
	}
	return st.Family(ctx, h, now)
}

func (s *pendingTokens) RevokeToken(ctx context.Context, h [sha256.Size]byte, now time.Time) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.RevokeToken(ctx, h, now)
}

func (s *pendingTokens) RevokeFamily(ctx context.Context, id string, now time.Time) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.RevokeFamily(ctx, id, now)
}

func (s *pendingTokens) RevokeSubject(ctx context.Context, subject string, now, keepUntil time.Time) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.RevokeSubject(ctx, subject, now, keepUntil)
}

func (s *pendingTokens) RevokeJTI(ctx context.Context, jti string, until time.Time) error {
	st, err := s.l.get(ctx)
	if err != nil {
		return err
	}
	return st.RevokeJTI(ctx, jti, until)
}

func (s *pendingTokens) AccessRevoked(ctx context.Context, jti, subject string, issuedAt time.Time) (bool, error) {
	st, err := s.l.get(ctx)
	if err != nil {
		return false, err
	}
	return st.AccessRevoked(ctx, jti, subject, issuedAt)
}
