package session_test

// This file holds a private starter for a real redis-server. It is to be
// replaced by the shared helper in internal/testutil once that lands.

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/testutil"
)

// startRedis starts a throwaway redis-server on a random loopback port,
// without persistence, with its working directory in a temporary directory,
// and returns a client for it. The server is killed when the test ends.
func startRedis(t testing.TB) *redis.Client {
	t.Helper()
	bin := testutil.RequireBinary(t, "redis-server")
	dir := t.TempDir()
	addr := testutil.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "yes", "--loglevel", "warning")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := &testutil.Buffer{}
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
	rdb := redisClient(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		if err := rdb.Ping(ctx).Err(); err == nil {
			return rdb
		}
		select {
		case <-done:
			t.Fatalf("redis-server exited:\n%s", logs)
		case <-ctx.Done():
			t.Fatalf("redis-server did not start:\n%s", strings.TrimSpace(logs.String()))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// redisClient returns a client for the server at addr, closed when the
// test ends.
func redisClient(t testing.TB, addr string) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
