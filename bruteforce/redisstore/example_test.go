package redisstore_test

import (
	"fmt"

	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/bruteforce/redisstore"
)

func Example() {
	store, err := redisstore.New(redisstore.Config{URL: "redis://127.0.0.1:6379/0"})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	guard, err := bruteforce.New(bruteforce.Config{
		Store:                 store,
		MaxFailuresPerAccount: 5,
		MaxFailuresPerIP:      50,
	})
	fmt.Println(guard != nil, err)
	// Output: true <nil>
}
