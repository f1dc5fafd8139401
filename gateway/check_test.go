package gateway_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
)

// TestCheckTouchesNothing: Check builds every policy of a configuration
// that uses Redis, SQLite and an external issuer without connecting to
// Redis or creating the database file. (Check skips the issuer's key
// prefetch too, but the issuer's client refuses loopback addresses anyway,
// so this listener could not see it.)
func TestCheckTouchesNothing(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	dir := t.TempDir()
	file := filepath.Join(dir, "rampart.yaml")
	yaml := "env: production\nupstream: http://127.0.0.1:9\ntrusted_proxies: [10.0.0.0/8]\n" +
		"store: {redis: \"redis://" + ln.Addr().String() + "/0\", session_cache: 30s, key_file: store.key}\n" +
		"rate_limits: [{key: ip, limit: 10, per: 1m}]\n" +
		"auth:\n  sessions: {idle_timeout: 30m, absolute_timeout: 8h}\n  tokens: {access_ttl: 5m, refresh_ttl: 24h, signing_key: missing.pem}\n" +
		// An issuer whose keys serving would fetch at start.
		"  issuers: [{issuer: \"http://" + ln.Addr().String() + "\", jwks_url: \"http://" + ln.Addr().String() + "/jwks.json\", audience: api, algorithms: [RS256]}]\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "store.key"), []byte(strings.Repeat("k", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(file, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	err = gateway.Check(c)
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != "auth.tokens" || !strings.Contains(errs[0].Error(), "rampart.yaml:8: auth.tokens: ") {
		t.Errorf("got %v, want the one error of the missing signing key", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Errorf("Check connected to Redis %d times", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "rampart.db")); err == nil {
		t.Error("Check created rampart.db")
	}
}
