package password

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Policy lengths. DefaultMinLength is NIST SP 800-63B-4's minimum for a
// password used as the only factor; FloorMinLength is the lowest that New
// accepts (the same document's minimum when another factor is present).
const (
	DefaultMinLength = 15
	FloorMinLength   = 8
)

// PolicyConfig configures a Policy.
type PolicyConfig struct {
	// MinLength is the minimum number of characters (Unicode code points
	// after NFKC). Default 15; values below 8 are refused.
	MinLength int `yaml:"min_length"`
}

// Policy decides whether a new password is acceptable. It is immutable and
// safe for concurrent use.
type Policy struct {
	minLength int
}

// Policy errors. Each is safe to show to the user who chose the password.
var (
	ErrTooShort = errors.New("password: password is too short")
	ErrCommon   = errors.New("password: password is one of the most common passwords")
	ErrUsername = errors.New("password: password must not contain the user name")
	ErrInvalid  = errors.New("password: password must be valid UTF-8 without control characters")
)

// NewPolicy returns a Policy for c.
func NewPolicy(c PolicyConfig) (*Policy, error) {
	if c.MinLength == 0 {
		c.MinLength = DefaultMinLength
	}
	if c.MinLength < FloorMinLength {
		return nil, fmt.Errorf("password: min_length must be at least %d, got %d", FloorMinLength, c.MinLength)
	}
	if c.MinLength > MaxBytes {
		return nil, fmt.Errorf("password: min_length must be at most %d, got %d", MaxBytes, c.MinLength)
	}
	return &Policy{minLength: c.MinLength}, nil
}

// MinLength returns the policy's minimum length in characters.
func (p *Policy) MinLength() int { return p.minLength }

// Check reports why password may not be chosen by the user username, or nil
// if it may. Errors wrap ErrTooShort, ErrTooLong, ErrCommon, ErrUsername or
// ErrInvalid and their text is safe to show to that user.
func (p *Policy) Check(username, password string) error {
	if len(password) > MaxBytes {
		return ErrTooLong
	}
	if !utf8.ValidString(password) {
		return ErrInvalid
	}
	pw := norm.NFKC.String(password)
	if len(pw) > MaxBytes {
		return ErrTooLong
	}
	for _, r := range pw {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ErrInvalid
		}
	}
	if n := utf8.RuneCountInString(pw); n < p.minLength {
		return fmt.Errorf("%w: %d characters, at least %d needed", ErrTooShort, n, p.minLength)
	}
	lower := strings.ToLower(pw)
	if u := strings.ToLower(username); len(u) >= 3 && strings.Contains(lower, u) {
		return ErrUsername
	}
	if IsCommon(pw) {
		return ErrCommon
	}
	return nil
}

//go:embed common-passwords.txt
var commonList []byte

var common = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	sc := bufio.NewScanner(bytes.NewReader(commonList))
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			m[line] = struct{}{}
		}
	}
	return m
})

// IsCommon reports whether password, compared case-insensitively, is on
// the shipped list of the 10,000 most common passwords (see
// common-passwords.txt and its README for the source and licence).
func IsCommon(password string) bool {
	_, ok := common()[strings.ToLower(norm.NFKC.String(password))]
	return ok
}

// CommonCount returns the number of passwords on the shipped list.
func CommonCount() int { return len(common()) }
