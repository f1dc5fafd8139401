package limits_test

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/rampartsec/rampart/limits"
)

// BenchmarkAdmit is the per-request cost of the in-flight limits on the
// allowed path: one client counter and the global gate, many clients in
// parallel.
func BenchmarkAdmit(b *testing.B) {
	l, err := limits.New(limits.Config{})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "198.51.100." + strconv.Itoa(int(n.Add(1))%250) + ":1234"
		for pb.Next() {
			t, err := l.Admit(r)
			if err != nil {
				b.Fatal(err)
			}
			t.Release()
		}
	})
}

func BenchmarkCounter(b *testing.B) {
	c := limits.NewCounter()
	k := netip.MustParseAddr("2001:db8::1")
	b.ReportAllocs()
	for b.Loop() {
		c.Acquire(k, 100)
		c.Release(k)
	}
}

func BenchmarkGate(b *testing.B) {
	var g limits.Gate
	ctx := context.Background()
	c := limits.Capacity{Max: 4096, Queue: 256, Timeout: 1e9}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := g.Acquire(ctx, c); err != nil {
				b.Fatal(err)
			}
			g.Release()
		}
	})
}
