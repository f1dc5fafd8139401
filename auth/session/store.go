package session

import (
	"context"
	"time"
)

// Record is what a Store keeps for one session.
type Record struct {
	// User is the canonical user name, or for a user an external identity
	// provider vouched for, the principal: the issuer, a space and the
	// subject (see auth.Identity.Principal). Stores index sessions by it.
	User string `json:"user"`
	// Issuer is the identity provider that vouched for the user; empty
	// for a local user.
	Issuer string `json:"iss,omitempty"`
	// Method is how the user logged in: "session" (a local password) or
	// "oidc". Empty reads as "session".
	Method string `json:"method,omitempty"`
	// MAC authenticates the record's identity (user, roles, login time,
	// issuer, method), its key and the deployment, when the Manager has a
	// record key: a record edited in the store, or moved under another
	// key or into another deployment's namespace, is refused.
	MAC string `json:"mac,omitempty"`
	// Roles are the user's roles at login (or at the last rotation).
	Roles []string `json:"roles"`
	// Created is when the user logged in; the absolute timeout counts
	// from it and survives rotation.
	Created time.Time `json:"created"`
	// LastSeen is the last recorded activity; the idle timeout counts
	// from it.
	LastSeen time.Time `json:"last_seen"`
	// IP is the client address at login, for the user's session list.
	IP string `json:"ip,omitempty"`
	// UserAgent is the browser at login, truncated, for the session list.
	UserAgent string `json:"user_agent,omitempty"`
}

// Entry is a Record and its Key, as listed by Store.List.
type Entry struct {
	Key    Key
	Record Record
}

// Store keeps session records. Implementations must be safe for concurrent
// use.
//
// Error semantics: found=false (or no entry) for a key that is unknown,
// deleted or expired; a non-nil error only for a system failure. ttl
// arguments tell the store when it may forget a record on its own; the
// Manager still checks both deadlines itself on every request, so a store
// may keep a record longer than ttl but must never return one it was asked
// to delete.
type Store interface {
	// Create stores rec under key, to be forgotten after ttl.
	Create(ctx context.Context, key Key, rec Record, ttl time.Duration) error
	// Find returns the record stored under key.
	Find(ctx context.Context, key Key) (rec Record, found bool, err error)
	// Touch records activity: the stored LastSeen becomes rec.LastSeen
	// and the record is kept for ttl from now; rec is the record as Find
	// returned it, with LastSeen updated. Touch must not recreate a record
	// that was deleted in the meantime; it returns found=false then.
	Touch(ctx context.Context, key Key, rec Record, ttl time.Duration) (found bool, err error)
	// Delete removes the record under key. Deleting an unknown key is not
	// an error.
	Delete(ctx context.Context, key Key) error
	// DeleteUser removes every session of user and returns how many there
	// were.
	DeleteUser(ctx context.Context, user string) (int, error)
	// List returns the live sessions of user, oldest first.
	List(ctx context.Context, user string) ([]Entry, error)
}
