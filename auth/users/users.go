package users

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is one account.
type User struct {
	// Name is the canonical (lower-case) user name.
	Name string `json:"name"`
	// Roles are the user's roles, sorted and without duplicates.
	Roles []string `json:"roles"`
	// PasswordHash is the argon2id PHC string of the user's password.
	PasswordHash string `json:"-"`
	// Locked users cannot log in.
	Locked bool `json:"locked"`
	// Created is when the account was created.
	Created time.Time `json:"created"`
	// PasswordChanged is when the password was last set by a person (a
	// rehash on login does not count).
	PasswordChanged time.Time `json:"password_changed"`
}

// Store holds user accounts. Implementations must be safe for concurrent
// use. See the package documentation for error semantics.
type Store interface {
	// Create stores a new user. It returns ErrExists if the name is
	// taken and ErrInvalidName if it is not a valid name.
	Create(ctx context.Context, u User) error
	// Lookup returns the user named name, or ErrNotFound.
	Lookup(ctx context.Context, name string) (User, error)
	// List returns every user, sorted by name.
	List(ctx context.Context) ([]User, error)
	// SetPassword replaces the user's password hash. When byUser is true
	// (a person chose a new password) PasswordChanged is updated too; a
	// transparent rehash passes false. It returns ErrNotFound for an
	// unknown user.
	SetPassword(ctx context.Context, name, hash string, byUser bool) error
	// SetLocked locks or unlocks the user, or returns ErrNotFound.
	SetLocked(ctx context.Context, name string, locked bool) error
	// SetRoles replaces the user's roles, or returns ErrNotFound.
	SetRoles(ctx context.Context, name string, roles []string) error
	// Delete removes the user, or returns ErrNotFound.
	Delete(ctx context.Context, name string) error
}

// Errors callers branch on.
var (
	ErrNotFound    = errors.New("users: no such user")
	ErrExists      = errors.New("users: user already exists")
	ErrInvalidName = errors.New("users: invalid user name")
	ErrInvalidRole = errors.New("users: invalid role")
)

// MaxNameLen is the longest user name.
const MaxNameLen = 64

// CanonicalName returns name folded to lower case, or ErrInvalidName if it
// is not a valid user name (see the package documentation).
func CanonicalName(name string) (string, error) {
	if name == "" || len(name) > MaxNameLen {
		return "", fmt.Errorf("%w: must be 1 to %d characters", ErrInvalidName, MaxNameLen)
	}
	var buf [MaxNameLen]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '@' || c == '+' || c == '-'):
		default:
			return "", fmt.Errorf("%w: use letters, digits and . _ @ + - (starting with a letter or digit)", ErrInvalidName)
		}
		buf[i] = c
	}
	return string(buf[:len(name)]), nil
}

// CanonicalRoles returns roles sorted and deduplicated, or ErrInvalidRole
// if one is not 1 to 64 characters from a–z, A–Z, 0–9 and . _ : -. Roles
// travel upstream in a comma-separated header, so nothing else is allowed.
func CanonicalRoles(roles []string) ([]string, error) {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if !validRole(r) {
			return nil, fmt.Errorf("%w %q: use 1 to 64 letters, digits and . _ : -", ErrInvalidRole, r)
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func validRole(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// joinRoles and splitRoles store roles as one comma-separated column: roles
// cannot contain commas (see CanonicalRoles).
func joinRoles(roles []string) string { return strings.Join(roles, ",") }

func splitRoles(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
