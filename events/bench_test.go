package events_test

import (
	"testing"
	"time"

	"github.com/rampartsec/rampart/events"
)

// BenchmarkStatsRequest is the whole cost of an allowed request to the
// event stream.
func BenchmarkStatsRequest(b *testing.B) {
	s := events.NewStats()
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Request(now)
		}
	})
}

// BenchmarkRefusal is the cost of recording a refused request in the ring
// and the stats.
func BenchmarkRefusal(b *testing.B) {
	s := events.NewStats()
	r := events.NewRing(0)
	e := ev("ratelimit", "203.0.113.9", "GET /api/items/{id}", "", time.Now())
	b.ReportAllocs()
	for b.Loop() {
		s.Request(e.Time)
		s.Refusal(&e)
		r.Add(e)
	}
}
