package access

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestIPSetMatchesNaive compares the merged-range lookup with a linear scan
// of the prefixes (IPv4 addresses also matched in their mapped form), for random prefixes and addresses clustered so that
// boundaries, overlaps and adjacent ranges are common.
func TestIPSetMatchesNaive(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	randAddr := func(v6 bool) netip.Addr {
		if v6 {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			b[2] = byte(rng.IntN(4))
			b[15] = byte(rng.IntN(256))
			b[14] = byte(rng.IntN(4))
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(256))})
	}
	for round := range 200 {
		var ps []netip.Prefix
		for range rng.IntN(20) {
			v6 := rng.IntN(2) == 0
			a := randAddr(v6)
			bits := a.BitLen() - rng.IntN(12)
			if rng.IntN(10) == 0 {
				bits = rng.IntN(a.BitLen() + 1)
			}
			ps = append(ps, netip.PrefixFrom(a, bits).Masked())
		}
		s, err := NewIPSet(ps)
		if err != nil {
			t.Fatal(err)
		}
		for range 500 {
			a := randAddr(rng.IntN(2) == 0)
			want := false
			for _, p := range ps {
				// IPv4 is also its mapped form: a v6 prefix covering
				// ::ffff:0:0/96 covers every IPv4 address.
				if p.Contains(a) || a.Is4() && p.Contains(netip.AddrFrom16(a.As16())) {
					want = true
				}
			}
			if got := s.Contains(a); got != want {
				t.Fatalf("round %d: %v in %v: got %v, want %v", round, a, ps, got, want)
			}
		}
	}
}

func TestIPSetMerges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want int
	}{
		{"adjacent halves", []string{"10.0.0.0/25", "10.0.0.128/25"}, 1},
		{"nested", []string{"10.0.0.0/8", "10.1.0.0/16"}, 1},
		{"disjoint", []string{"10.0.0.0/24", "10.0.2.0/24"}, 2},
		{"edges of the space", []string{"0.0.0.0/1", "128.0.0.0/1", "255.255.255.255/32"}, 1},
		{"IPv6 adjacent across 64 bits", []string{"2001:db8::/64", "2001:db8:0:1::/64"}, 1},
		{"IPv6 all", []string{"::/0", "2001:db8::/32"}, 2}, // ::/0 also covers IPv4
		{"mapped is IPv4", []string{"::ffff:10.0.0.0/104", "10.0.0.0/8"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ps []netip.Prefix
			for _, s := range tc.in {
				ps = append(ps, netip.MustParsePrefix(s))
			}
			s, err := NewIPSet(ps)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Len(); got != tc.want {
				t.Errorf("got %d ranges, want %d", got, tc.want)
			}
		})
	}
}
