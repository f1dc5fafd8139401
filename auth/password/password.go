package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Params are argon2id's cost parameters.
type Params struct {
	// Memory is the memory cost in KiB. Default 19456 (19 MiB), OWASP's
	// minimum for argon2id.
	Memory uint32 `yaml:"memory_kib"`
	// Time is the number of passes over memory. Default 2.
	Time uint32 `yaml:"time"`
	// Threads is the degree of parallelism. Default 1.
	Threads uint8 `yaml:"threads"`
}

// OWASP's minimum argon2id parameters (Password Storage Cheat Sheet): the
// defaults, and the floor New accepts.
const (
	MinMemory  = 19 * 1024
	MinTime    = 2
	MinThreads = 1
)

// Bounds on parameters read from a stored hash. A hash is data from
// storage; one asking for more than this is refused rather than computed.
const (
	maxMemory  = 1 << 20 // 1 GiB in KiB
	maxTime    = 64
	maxThreads = 64
	minSalt    = 8
	maxSalt    = 64
	minKey     = 16
	maxKey     = 64
)

const (
	saltLen = 16
	keyLen  = 32
)

// MaxBytes is the longest password accepted, in bytes after normalisation.
// Longer input is refused before any hashing work is done.
const MaxBytes = 1024

// Errors returned by Hasher and Verify.
var (
	// ErrMismatch means the password does not match the hash.
	ErrMismatch = errors.New("password: password does not match")
	// ErrMalformedHash means a stored hash is not an argon2id PHC string
	// this package accepts.
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrTooLong means the password is longer than MaxBytes.
	ErrTooLong = errors.New("password: password is too long")
)

// Hasher hashes passwords with fixed argon2id parameters. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	prefix string // "$argon2id$v=19$m=…,t=…,p=…$"

	dummyOnce sync.Once
	dummy     string
	dummyErr  error
}

// Dummy returns a hash, under the hasher's parameters, of a random
// password that is thrown away: checking a password against it costs what
// checking a real hash costs, and nothing ever matches it. Callers check
// unknown users against it so that they take as long as known ones. It is
// computed once per Hasher (one argon2id run, MinMemory KiB or more), so a
// program that rebuilds its login handling — a configuration reload —
// reuses the Hasher rather than paying for a new dummy each time.
func (h *Hasher) Dummy() (string, error) {
	h.dummyOnce.Do(func() {
		var pw [24]byte
		_, _ = rand.Read(pw[:])
		h.dummy, h.dummyErr = h.Hash(base64.RawStdEncoding.EncodeToString(pw[:]))
	})
	return h.dummy, h.dummyErr
}

// NewHasher returns a Hasher for p. Zero fields take the defaults; values
// below OWASP's minimum or above the bounds a stored hash may carry are
// refused.
func NewHasher(p Params) (*Hasher, error) {
	if p.Memory == 0 {
		p.Memory = MinMemory
	}
	if p.Time == 0 {
		p.Time = MinTime
	}
	if p.Threads == 0 {
		p.Threads = MinThreads
	}
	switch {
	case p.Memory < MinMemory:
		return nil, fmt.Errorf("password: memory_kib must be at least %d (OWASP minimum), got %d", MinMemory, p.Memory)
	case p.Memory > maxMemory:
		return nil, fmt.Errorf("password: memory_kib must be at most %d, got %d", maxMemory, p.Memory)
	case p.Time < MinTime || p.Time > maxTime:
		return nil, fmt.Errorf("password: time must be between %d and %d, got %d", MinTime, maxTime, p.Time)
	case p.Threads > maxThreads:
		return nil, fmt.Errorf("password: threads must be at most %d, got %d", maxThreads, p.Threads)
	}
	prefix := "$argon2id$v=" + strconv.Itoa(argon2.Version) +
		"$m=" + strconv.FormatUint(uint64(p.Memory), 10) +
		",t=" + strconv.FormatUint(uint64(p.Time), 10) +
		",p=" + strconv.FormatUint(uint64(p.Threads), 10) + "$"
	return &Hasher{params: p, prefix: prefix}, nil
}

// Params returns the hasher's parameters, defaults applied.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password under a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	pw, err := normalize(password)
	if err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never returns an error.
	key := argon2.IDKey(pw, salt, h.params.Time, h.params.Memory, h.params.Threads, keyLen)
	b64 := base64.RawStdEncoding
	var b strings.Builder
	b.Grow(len(h.prefix) + b64.EncodedLen(saltLen) + 1 + b64.EncodedLen(keyLen))
	b.WriteString(h.prefix)
	b.WriteString(b64.EncodeToString(salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(key))
	return b.String(), nil
}

// Verify checks password against the PHC string encoded. It returns nil
// when they match, ErrMismatch when they do not, ErrTooLong for an
// over-long password and an error wrapping ErrMalformedHash when encoded
// cannot be used. needsRehash is true after a match when encoded was made
// with parameters other than h's (weaker or stronger): the caller should
// store a fresh Hash while it holds the password.
func (h *Hasher) Verify(encoded, password string) (needsRehash bool, err error) {
	ph, err := parse(encoded)
	if err != nil {
		return false, err
	}
	pw, err := normalize(password)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey(pw, ph.salt, ph.params.Time, ph.params.Memory, ph.params.Threads, uint32(len(ph.key)))
	if subtle.ConstantTimeCompare(key, ph.key) != 1 {
		return false, ErrMismatch
	}
	return ph.params != h.params || len(ph.salt) != saltLen || len(ph.key) != keyLen, nil
}

// normalize applies NFKC and the length bound.
func normalize(password string) ([]byte, error) {
	// Checking the raw length first bounds the normalisation work too;
	// NFKC can grow a string, so check again after it.
	if len(password) > MaxBytes {
		return nil, ErrTooLong
	}
	pw := norm.NFKC.String(password)
	if len(pw) > MaxBytes {
		return nil, ErrTooLong
	}
	return []byte(pw), nil
}

type phc struct {
	params    Params
	salt, key []byte
}

// parse reads an argon2id PHC string, refusing anything outside the
// bounds: stored hashes are distrusted input.
func parse(s string) (phc, error) {
	var out phc
	bad := func(why string) (phc, error) { return phc{}, fmt.Errorf("%w: %s", ErrMalformedHash, why) }
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("not a PHC string")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" || len(v) > 10 {
			return bad("bad parameter")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("bad parameter")
		}
		var i int
		switch k {
		case "m":
			i, out.params.Memory = 0, uint32(n)
		case "t":
			i, out.params.Time = 1, uint32(n)
		case "p":
			if n > maxThreads {
				return bad("parameters out of bounds")
			}
			i, out.params.Threads = 2, uint8(n)
		default:
			return bad("unknown parameter")
		}
		if seen[i] {
			return bad("repeated parameter")
		}
		seen[i] = true
	}
	p := out.params
	if !seen[0] || !seen[1] || !seen[2] {
		return bad("missing parameter")
	}
	// Accept hashes below today's minimum so that they can be verified
	// once and rehashed; refuse only what would be absurd or dangerous to
	// compute.
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 {
		return bad("parameters out of bounds")
	}
	var err error
	if out.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(out.salt) < minSalt || len(out.salt) > maxSalt {
		return bad("bad salt")
	}
	if out.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(out.key) < minKey || len(out.key) > maxKey {
		return bad("bad key")
	}
	return out, nil
}
