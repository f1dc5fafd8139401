package bruteforce_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/rampartsec/rampart/bruteforce"
)

func Example() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	guard, err := bruteforce.New(bruteforce.Config{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	attacker := netip.MustParseAddr("203.0.113.66")
	for range 4 {
		err := guard.Check(ctx, "alice", attacker)
		var locked *bruteforce.LockedError
		if errors.As(err, &locked) {
			fmt.Println("refused, retry after", locked.RetryAfter)
			now = now.Add(locked.RetryAfter)
			continue
		}
		fmt.Println("allowed; wrong password")
		guard.Fail(ctx, "alice", attacker)
	}
	// The owner, from another address, is not locked out by the attacker.
	owner := netip.MustParseAddr("198.51.100.10")
	fmt.Println("owner:", guard.Check(ctx, "alice", owner))
	// Output:
	// allowed; wrong password
	// refused, retry after 1s
	// allowed; wrong password
	// refused, retry after 2s
	// owner: <nil>
}
