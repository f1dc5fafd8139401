package redisstore_test

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/token/redisstore"
)

// Example shares refresh tokens between replicas through Redis.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DialTimeout: time.Second})
	store, err := redisstore.New(rdb, redisstore.DefaultPrefix)
	if err != nil {
		panic(err)
	}
	_, err = token.New(token.Config{
		AccessTTL:  15 * time.Minute,
		RefreshTTL: 720 * time.Hour,
		SigningKey: "/etc/rampart/jwt-ed25519.pem", // the same key file on every replica
		Store:      store,
	})
	_ = err
}
