package redisstore_test

import (
	"fmt"
	"time"

	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/ratelimit/redisstore"
)

func Example() {
	store, err := redisstore.New(redisstore.Config{URL: "redis://127.0.0.1:6379/0", Timeout: 50 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	limiter, err := ratelimit.New(ratelimit.Config{
		Store: store, // shared by every replica
		Rules: []ratelimit.Rule{
			{Name: "per-ip", Limit: 100, Per: time.Minute},
			// Logins refuse rather than count locally while Redis is down.
			{Name: "per-user", Key: ratelimit.Key{"user"}, Limit: 10, Per: time.Second, OnStoreError: ratelimit.FailClosed},
		},
	})
	fmt.Println(limiter != nil, err)
	// Output: true <nil>
}
