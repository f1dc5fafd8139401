package redisfanout_test

import (
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/events"
	"github.com/rampartsec/rampart/events/redisfanout"
)

// Every instance publishes what it records and adds what the others
// publish to its own ring.
func ExampleNew() {
	ring := events.NewRing(10000)
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	fan, err := redisfanout.New(redisfanout.Config{Client: client, Channel: "rampart:default:events",
		Instance: "edge-1", Receive: ring})
	if err != nil {
		log.Fatal(err)
	}
	defer fan.Close()
	record := events.Sinks{ring, fan}
	record.Emit(&events.Event{Instance: "edge-1", Policy: "csrf", Decision: events.DecisionDeny})
}
