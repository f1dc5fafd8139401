package redisconn_test

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/redisconn"
)

func ExampleOpen() {
	c, err := redisconn.Open("redis://127.0.0.1:6379/0", 100*time.Millisecond)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println(c.(*redis.Client).Options().ReadTimeout)
	// Output: 100ms
}

func ExampleParse() {
	t, err := redisconn.Parse("redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26379/mymaster/2")
	if err != nil {
		panic(err)
	}
	fmt.Println(t.Topology, t.Addrs, t.Master, t.DB)
	// Output: sentinel [10.0.0.1:26379 10.0.0.2:26379] mymaster 2
}
