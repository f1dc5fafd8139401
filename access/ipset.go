package access

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// IPSet is an immutable set of IP addresses built from CIDR prefixes. It
// holds sorted, merged address ranges, so a lookup is a binary search: a
// million prefixes cost about twenty comparisons and no allocation.
//
// IPv4 and IPv4-mapped IPv6 are one address space: "::ffff:10.0.0.0/104" is
// stored as 10.0.0.0/8, ::ffff:10.1.2.3 is looked up as 10.1.2.3, and an
// IPv6 prefix that covers all of ::ffff:0:0/96 (such as ::/0) also covers
// every IPv4 address. Zones are ignored. The zero Addr is in no set.
//
// An IPSet is safe for concurrent use.
type IPSet struct {
	v4 []range4
	v6 []range6
}

type range4 struct{ lo, hi uint32 }

// u128 is an IPv6 address as a number, for ordered comparison.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

type range6 struct{ lo, hi u128 }

// mappedV4 is ::ffff:0:0/96, where IPv4 addresses live inside IPv6.
var mappedV4 = netip.MustParsePrefix("::ffff:0:0/96")

// NewIPSet returns the set of addresses covered by prefixes. It returns an
// error naming the first invalid (zero) prefix.
func NewIPSet(prefixes []netip.Prefix) (*IPSet, error) {
	s := &IPSet{}
	for i, p := range prefixes {
		if !p.IsValid() {
			return nil, fmt.Errorf("access: entry %d: invalid CIDR", i)
		}
		s.add(p)
	}
	s.v4 = merge4(s.v4)
	s.v6 = merge6(s.v6)
	return s, nil
}

func (s *IPSet) add(p netip.Prefix) {
	a := p.Addr().WithZone("")
	bits := p.Bits()
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	p = netip.PrefixFrom(a, bits).Masked()
	if a.Is4() {
		b := p.Addr().As4()
		lo := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		var hostMask uint32
		if bits < 32 {
			hostMask = ^uint32(0) >> bits
		}
		s.v4 = append(s.v4, range4{lo, lo | hostMask})
		return
	}
	lo := toU128(p.Addr())
	hi := lo
	switch {
	case bits == 0:
		hi = u128{^uint64(0), ^uint64(0)}
	case bits < 64:
		hi = u128{lo.hi | ^uint64(0)>>bits, ^uint64(0)}
	case bits < 128:
		hi = u128{lo.hi, lo.lo | ^uint64(0)>>(bits-64)}
	}
	s.v6 = append(s.v6, range6{lo, hi})
	if bits <= mappedV4.Bits() && p.Contains(mappedV4.Addr()) {
		// Clients are looked up unmapped, so a prefix that covers the
		// mapped space must cover IPv4 itself: a deny list of ::/0 denies
		// everyone, as it says.
		s.v4 = append(s.v4, range4{0, ^uint32(0)})
	}
}

func toU128(a netip.Addr) u128 {
	b := a.As16()
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[i+8])
	}
	return u128{hi, lo}
}

func merge4(rs []range4) []range4 {
	slices.SortFunc(rs, func(a, b range4) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && (r.lo <= out[n-1].hi || out[n-1].hi != ^uint32(0) && r.lo == out[n-1].hi+1) {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

func merge6(rs []range6) []range6 {
	slices.SortFunc(rs, func(a, b range6) int {
		switch {
		case a.lo.less(b.lo):
			return -1
		case b.lo.less(a.lo):
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && (!out[n-1].hi.less(r.lo) || adjacent(out[n-1].hi, r.lo)) {
			if out[n-1].hi.less(r.hi) {
				out[n-1].hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

// adjacent reports whether b == a+1.
func adjacent(a, b u128) bool {
	if a.lo == ^uint64(0) {
		return a.hi != ^uint64(0) && b.hi == a.hi+1 && b.lo == 0
	}
	return b.hi == a.hi && b.lo == a.lo+1
}

// Contains reports whether a is in the set. It does not allocate.
func (s *IPSet) Contains(a netip.Addr) bool {
	if s == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		x := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		// Find the last range starting at or before x.
		lo, hi := 0, len(s.v4)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if s.v4[m].lo <= x {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return lo > 0 && x <= s.v4[lo-1].hi
	}
	x := toU128(a)
	lo, hi := 0, len(s.v6)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.less(s.v6[m].lo) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && !s.v6[lo-1].hi.less(x)
}

// Len returns the number of disjoint address ranges in the set, after
// overlapping and adjacent prefixes were merged.
func (s *IPSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.v4) + len(s.v6)
}

// MaxListFileBytes is the largest IP list file ReadPrefixFile accepts.
const MaxListFileBytes = 64 << 20

// ReadPrefixFile reads an IP list file: one CIDR or single address per
// line; blank lines and text after '#' are ignored. A single address stands
// for /32 or /128; a CIDR with host bits set is an error, as it is in the
// configuration file. Errors name the file and line.
func ReadPrefixFile(path string) ([]netip.Prefix, error) {
	ps, err := readPrefixFile(path)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return ps, nil
}

// readPrefixFile is ReadPrefixFile with errors not yet prefixed.
func readPrefixFile(path string) ([]netip.Prefix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readPrefixes(path, io.LimitReader(f, MaxListFileBytes+1))
}

func readPrefixes(name string, r io.Reader) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	line, size := 0, 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		size += len(b) + 1
		if size > MaxListFileBytes {
			return nil, fmt.Errorf("%s: larger than %d bytes", name, MaxListFileBytes)
		}
		if i := bytes.IndexByte(b, '#'); i >= 0 {
			b = b[:i]
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			if len(errs) < 10 {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
			}
			continue
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line too long", name, line+1)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// parsePrefix parses a CIDR or a single address with the configuration
// file's rules.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR or IP address %q", truncate(s, 60))
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", truncate(s, 60))
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("CIDR %q has host bits set (did you mean %s?)", s, p.Masked())
	}
	return p, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
