package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/auth/password"
)

func mustHasher(t testing.TB, p password.Params) *password.Hasher {
	t.Helper()
	h, err := password.NewHasher(p)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h := mustHasher(t, password.Params{})
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(enc, want) {
		t.Fatalf("got %q, want prefix %q", enc, want)
	}
	again, _ := h.Hash("correct horse battery staple")
	if again == enc {
		t.Error("two hashes of one password are equal: salt is not random")
	}
	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"right password", "correct horse battery staple", nil},
		{"wrong password", "correct horse battery stapler", password.ErrMismatch},
		{"empty password", "", password.ErrMismatch},
		{"case matters", "Correct horse battery staple", password.ErrMismatch},
		{"too long", strings.Repeat("a", password.MaxBytes+1), password.ErrTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rehash, err := h.Verify(enc, tc.password)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if rehash {
				t.Errorf("got needsRehash true for a hash with current parameters")
			}
		})
	}
}

func TestVerifyNormalisesUnicode(t *testing.T) {
	t.Parallel()
	h := mustHasher(t, password.Params{})
	// "é" precomposed (U+00E9) and decomposed (e + U+0301) are one password.
	enc, err := h.Hash("caf\u00e9 au lait, s'il vous plait")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Verify(enc, "cafe\u0301 au lait, s'il vous plait"); err != nil {
		t.Errorf("got %v, want a match for the decomposed spelling", err)
	}
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	old := mustHasher(t, password.Params{})
	enc, err := old.Hash("a password from last year")
	if err != nil {
		t.Fatal(err)
	}
	stronger := mustHasher(t, password.Params{Time: 3})
	rehash, err := stronger.Verify(enc, "a password from last year")
	if err != nil {
		t.Fatal(err)
	}
	if !rehash {
		t.Error("got needsRehash false, want true after a parameter change")
	}
	// A wrong password never asks for a rehash.
	if rehash, err := stronger.Verify(enc, "nope"); rehash || !errors.Is(err, password.ErrMismatch) {
		t.Errorf("got %v %v, want false ErrMismatch", rehash, err)
	}
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	t.Parallel()
	h := mustHasher(t, password.Params{})
	const salt = "c29tZXNhbHRzb21lc2FsdA"                     // 16 bytes
	const key = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U" // 32 bytes
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuu5Ue9tDqG2G0d0v.3G8ZJ5e2o4Yh6V9e"},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"memory bomb", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key},
		{"time bomb", "$argon2id$v=19$m=19456,t=100000,p=1$" + salt + "$" + key},
		{"threads bomb", "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{"missing parameter", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key},
		{"repeated parameter", "$argon2id$v=19$m=19456,m=8,t=2,p=1$" + salt + "$" + key},
		{"unknown parameter", "$argon2id$v=19$m=19456,t=2,p=1,x=1$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key},
		{"short salt", "$argon2id$v=19$m=19456,t=2,p=1$YWJj$" + key},
		{"short key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$YWJj"},
		{"padded base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"extra field", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := h.Verify(tc.enc, "password"); !errors.Is(err, password.ErrMalformedHash) {
				t.Errorf("got %v, want ErrMalformedHash", err)
			}
		})
	}
}

func TestNewHasherRefusesWeakParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    password.Params
	}{
		{"memory below OWASP", password.Params{Memory: 4096}},
		{"one pass", password.Params{Time: 1}},
		{"absurd memory", password.Params{Memory: 1 << 24}},
		{"absurd time", password.Params{Time: 1000}},
		{"absurd threads", password.Params{Threads: 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := password.NewHasher(tc.p); err == nil || !strings.HasPrefix(err.Error(), "password: ") {
				t.Errorf("got %v, want a password: error", err)
			}
		})
	}
	h := mustHasher(t, password.Params{})
	if got, want := h.Params(), (password.Params{Memory: 19456, Time: 2, Threads: 1}); got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	p, err := password.NewPolicy(password.PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	short, err := password.NewPolicy(password.PolicyConfig{MinLength: 8})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		policy   *password.Policy
		user     string
		password string
		want     error
	}{
		{"long passphrase", p, "alice", "violet kettle marches north", nil},
		{"too short", p, "alice", "Tr0ub4dor&3", password.ErrTooShort},
		{"15 code points of multibyte text", p, "alice", strings.Repeat("é", 15), nil},
		{"14 code points", p, "alice", strings.Repeat("é", 14), password.ErrTooShort},
		{"common", short, "alice", "password", password.ErrCommon},
		{"common in other case", short, "alice", "PassWord", password.ErrCommon},
		{"common long one", p, "alice", "MailCreated5240", password.ErrCommon},
		{"contains user name", p, "alice", "alice-in-wonderland-1865", password.ErrUsername},
		{"user name any case", p, "alice", "ALICE-in-wonderland-1865", password.ErrUsername},
		{"control character", p, "alice", "violet kettle\x00marches north", password.ErrInvalid},
		{"invalid utf-8", p, "alice", "violet kettle \xff marches north", password.ErrInvalid},
		{"too long", p, "alice", strings.Repeat("x", password.MaxBytes+1), password.ErrTooLong},
		{"ok at floor", short, "alice", "zq8!vT2m", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.policy.Check(tc.user, tc.password); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewPolicyRefusesLowMinimum(t *testing.T) {
	t.Parallel()
	if _, err := password.NewPolicy(password.PolicyConfig{MinLength: 6}); err == nil {
		t.Error("got nil error for min_length 6")
	}
}

func TestCommonList(t *testing.T) {
	t.Parallel()
	if got := password.CommonCount(); got != 10000 {
		t.Errorf("got %d entries, want 10000", got)
	}
	for _, pw := range []string{"123456", "qwerty", "iloveyou", "TRUSTNO1"} {
		if !password.IsCommon(pw) {
			t.Errorf("IsCommon(%q): got false, want true", pw)
		}
	}
	if password.IsCommon("violet kettle marches north") {
		t.Error("a passphrase is on the common list")
	}
}

// TestDummy: the dummy hash has the hasher's parameters (so checking
// against it costs the same), matches nothing, and is computed once per
// Hasher.
func TestDummy(t *testing.T) {
	t.Parallel()
	h, err := password.NewHasher(password.Params{})
	if err != nil {
		t.Fatal(err)
	}
	d1, err := h.Dummy()
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := h.Dummy()
	if d1 != d2 {
		t.Error("the dummy hash was computed twice")
	}
	real, _ := h.Hash("a password")
	if cut := strings.LastIndexByte(real, '$'); !strings.HasPrefix(d1, real[:strings.LastIndexByte(real[:cut], '$')]) {
		t.Errorf("dummy %q has other parameters than %q", d1, real)
	}
	for _, pw := range []string{"", "a password", d1} {
		if ok, _ := h.Verify(d1, pw); ok {
			t.Errorf("the dummy hash matched %q", pw)
		}
	}
}
