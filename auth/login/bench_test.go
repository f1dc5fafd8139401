package login_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/rampartsec/rampart/auth/login"
)

// BenchmarkVerifyPasswordKnown and BenchmarkVerifyPasswordUnknown measure
// a failed password check for an existing and a non-existing user; they
// should agree (see TestFailedLoginTiming).
func BenchmarkVerifyPasswordKnown(b *testing.B) { benchVerify(b, "alice") }

func BenchmarkVerifyPasswordUnknown(b *testing.B) { benchVerify(b, "mallory") }

func benchVerify(b *testing.B, user string) {
	f := newFixture(b, login.Config{})
	ip := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.VerifyPassword(context.Background(), user, "wrong password", ip); err == nil {
			b.Fatal("verified")
		}
	}
}
