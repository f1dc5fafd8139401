package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// IDBytes is the entropy of a session id: 256 bits.
const IDBytes = 32

// idLen is the length of an id in the cookie: IDBytes in unpadded
// base64url.
const idLen = 43

// Key identifies a session in a Store: the SHA-256 of its id. Knowing a
// Key does not let anyone present the session.
type Key [sha256.Size]byte

// String returns k in lower-case hex, the form stores and session lists use.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// ParseKey parses the hex form of a Key.
func ParseKey(s string) (Key, bool) {
	var k Key
	if len(s) != 2*len(k) {
		return Key{}, false
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return Key{}, false
	}
	return k, true
}

// newID returns a fresh id and its key.
func newID() (string, Key) {
	var raw [IDBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never returns an error.
	return base64.RawURLEncoding.EncodeToString(raw[:]), sha256.Sum256(raw[:])
}

// ParseID checks that s is a well-formed session id (exactly 43 unpadded
// base64url characters encoding 32 bytes) and returns its Key. Anything
// else — a truncated, padded, re-encoded or oversized value — is refused
// without allocating.
func ParseID(s string) (Key, bool) {
	if len(s) != idLen {
		return Key{}, false
	}
	// Copying into arrays keeps the decode off the heap.
	var in [idLen]byte
	copy(in[:], s)
	var raw [IDBytes + 1]byte
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], in[:])
	if err != nil || n != IDBytes {
		return Key{}, false
	}
	return sha256.Sum256(raw[:IDBytes]), true
}
