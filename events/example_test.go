package events_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/rampartsec/rampart/events"
)

func ExampleRing() {
	ring := events.NewRing(1000)
	stats := events.NewStats()
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	client := netip.MustParseAddr("203.0.113.9")
	for _, policy := range []string{"ratelimit", "csrf", "ratelimit"} {
		e := events.Event{Time: now, Policy: policy, Decision: events.DecisionDeny,
			ClientIP: client.String(), Network: events.Network(client)}
		stats.Request(now)
		stats.Refusal(&e)
		ring.Add(e)
	}
	for _, e := range ring.Query(events.Filter{Policy: "ratelimit"}) {
		fmt.Println(e.Seq, e.Policy, e.Network)
	}
	fmt.Println(stats.Snapshot(now).Windows["1m"].ByPolicy)
	// Output:
	// 3 ratelimit 203.0.113.0/24
	// 1 ratelimit 203.0.113.0/24
	// map[csrf:1 ratelimit:2]
}
