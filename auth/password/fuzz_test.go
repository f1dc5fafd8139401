package password_test

import (
	"errors"
	"testing"

	"github.com/rampartsec/rampart/auth/password"
)

// FuzzVerify feeds arbitrary stored hashes to Verify: it must never panic
// and never accept a hash it did not parse, and a parsed hash is computed
// only within the bounds (the fuzzer would time out on a memory bomb).
func FuzzVerify(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$a2V5a2V5a2V5a2V5a2V5aw")
	f.Add("$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1,p=1$$")
	f.Add("$$$$$")
	h, err := password.NewHasher(password.Params{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, enc string) {
		_, err := h.Verify(enc, "pw")
		if err == nil {
			t.Fatalf("hash %q verified a password nobody hashed", enc)
		}
		if !errors.Is(err, password.ErrMalformedHash) && !errors.Is(err, password.ErrMismatch) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
