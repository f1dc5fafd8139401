package bruteforce_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/rampartsec/rampart/bruteforce"
)

// FuzzCheck feeds arbitrary account names and addresses: Check never
// panics, and a second attempt at once is always held back by the
// progressive delay, whatever the name's bytes or case.
func FuzzCheck(f *testing.F) {
	f.Add("alice", []byte{203, 0, 113, 5})
	f.Add(" ALICE\t", []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add("\xff\x00", []byte{})
	f.Fuzz(func(t *testing.T, account string, ip []byte) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		p, err := bruteforce.New(bruteforce.Config{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		addr, _ := netip.AddrFromSlice(ip)
		ctx := context.Background()
		if err := p.Check(ctx, account, addr); err != nil {
			t.Fatalf("first attempt: got %v, want allowed", err)
		}
		p.Fail(ctx, account, addr)
		if err := p.Check(ctx, account, addr); !errors.Is(err, bruteforce.ErrLocked) {
			t.Fatalf("second attempt at once: got %v, want ErrLocked", err)
		}
	})
}
