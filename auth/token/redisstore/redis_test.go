package redisstore_test

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/testutil"
)

// startRedis starts a throwaway redis-server on a random loopback port, with
// persistence off and its files in a temporary directory, and returns a
// client for it. The server is killed when the test ends.
//
// This private helper is to be replaced by the shared one in
// internal/testutil once it lands.
func startRedis(t testing.TB) *redis.Client {
	t.Helper()
	bin := testutil.RequireBinary(t, "redis-server")
	addr := testutil.FreeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	logs := &testutil.Buffer{}
	cmd := exec.Command(bin, "--bind", host, "--port", port, "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--protected-mode", "yes")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	if !testutil.WaitFor(10*time.Second, func() bool {
		select {
		case <-done:
			return true
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return rdb.Ping(ctx).Err() == nil
	}) {
		t.Fatalf("redis-server did not start:\n%s", logs)
	}
	select {
	case <-done:
		t.Fatalf("redis-server exited:\n%s", bytes.TrimSpace([]byte(logs.String())))
	default:
	}
	return rdb
}
