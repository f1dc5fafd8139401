package password_test

import (
	"testing"

	"github.com/rampartsec/rampart/auth/password"
)

func BenchmarkHash(b *testing.B) {
	h, _ := password.NewHasher(password.Params{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash("violet kettle marches north"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h, _ := password.NewHasher(password.Params{})
	enc, _ := h.Hash("violet kettle marches north")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Verify(enc, "violet kettle marches north"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	p, _ := password.NewPolicy(password.PolicyConfig{})
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Check("alice", "violet kettle marches north")
	}
}
