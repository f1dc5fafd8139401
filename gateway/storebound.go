package gateway

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/users"
)

// The SQL stores take the request's context, which may live for as long as
// the client waits. A database that hangs — PostgreSQL behind a dead
// network path, an SQLite file locked by another process — would hold each
// request, and a pooled connection, for as long. These wrappers bound every
// call by store.sql_timeout, the way redisconn bounds every Redis call, so
// that the caller's failure policy applies in time. Each call's results are
// complete when it returns (rows are read inside the store), so the
// deadline can end with the call.

// bound derives a context for one store call.
func bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// boundUsers is a users.Store whose every call is bounded.
type boundUsers struct {
	st users.Store
	d  time.Duration
}

func (b boundUsers) Create(ctx context.Context, u users.User) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.Create(ctx, u)
}

func (b boundUsers) Lookup(ctx context.Context, name string) (users.User, error) {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.Lookup(ctx, name)
}

func (b boundUsers) List(ctx context.Context) ([]users.User, error) {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.List(ctx)
}

func (b boundUsers) SetPassword(ctx context.Context, name, hash string, byUser bool) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.SetPassword(ctx, name, hash, byUser)
}

func (b boundUsers) SetLocked(ctx context.Context, name string, locked bool) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.SetLocked(ctx, name, locked)
}

func (b boundUsers) SetRoles(ctx context.Context, name string, roles []string) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.SetRoles(ctx, name, roles)
}

func (b boundUsers) Delete(ctx context.Context, name string) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.Delete(ctx, name)
}

// boundSessions is a session.Store whose every call is bounded.
type boundSessions struct {
	st session.Store
	d  time.Duration
}

func (b boundSessions) Create(ctx context.Context, key session.Key, rec session.Record, ttl time.Duration) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.Create(ctx, key, rec, ttl)
}

func (b boundSessions) Find(ctx context.Context, key session.Key) (session.Record, bool, error) {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.Find(ctx, key)
}

func (b boundSessions) Touch(ctx context.Context, key session.Key, rec session.Record, ttl time.Duration) (bool, error) {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.Touch(ctx, key, rec, ttl)
}

func (b boundSessions) Delete(ctx context.Context, key session.Key) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.Delete(ctx, key)
}

func (b boundSessions) DeleteUser(ctx context.Context, user string) (int, error) {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.DeleteUser(ctx, user)
}

func (b boundSessions) List(ctx context.Context, user string) ([]session.Entry, error) {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.List(ctx, user)
}

// boundTokens is a token.Store whose every call is bounded.
type boundTokens struct {
	st token.Store
	d  time.Duration
}

func (b boundTokens) CreateFamily(ctx context.Context, f token.Family, t token.RefreshToken) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.CreateFamily(ctx, f, t)
}

func (b boundTokens) Rotate(ctx context.Context, old [sha256.Size]byte, next token.RefreshToken, now time.Time) (token.Family, error) {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.Rotate(ctx, old, next, now)
}

func (b boundTokens) RevokeToken(ctx context.Context, h [sha256.Size]byte, now time.Time) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.RevokeToken(ctx, h, now)
}

func (b boundTokens) RevokeFamily(ctx context.Context, id string, now time.Time) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.RevokeFamily(ctx, id, now)
}

func (b boundTokens) RevokeSubject(ctx context.Context, subject string, now, keepUntil time.Time) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.RevokeSubject(ctx, subject, now, keepUntil)
}

func (b boundTokens) RevokeJTI(ctx context.Context, jti string, until time.Time) error {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.RevokeJTI(ctx, jti, until)
}

func (b boundTokens) AccessRevoked(ctx context.Context, jti, subject string, issuedAt time.Time) (bool, error) {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.AccessRevoked(ctx, jti, subject, issuedAt)
}

func (b boundTokens) Family(ctx context.Context, h [sha256.Size]byte, now time.Time) (token.Family, error) {
	ctx, cancel := bound(ctx, b.d)
	defer cancel()
	return b.st.Family(ctx, h, now)
}
