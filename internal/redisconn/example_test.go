package redisconn_test

import (
	"fmt"
	"time"

	"github.com/rampartsec/rampart/internal/redisconn"
)

func ExampleOpen() {
	c, err := redisconn.Open("redis://127.0.0.1:6379/0", 100*time.Millisecond)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println(c.Options().ReadTimeout)
	// Output: 100ms
}
