package testutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a real redis-server started for one test on a random loopback
// port, with no persistence, stopped when the test ends.
type Redis struct {
	// Addr is the server's host:port.
	Addr string

	t     testing.TB
	bin   string
	dir   string
	extra []string // more arguments for redis-server
	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
	logs  *Buffer
}

// StartRedis starts redis-server for t, or skips t (fails it in CI) when
// redis-server is not installed.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return startRedis(t)
}

// StartRedisWithPassword starts redis-server requiring password (AUTH)
// from every client. URL does not include it.
func StartRedisWithPassword(t testing.TB, password string) *Redis {
	t.Helper()
	return startRedis(t, "--requirepass", password)
}

// startRedis starts redis-server with extra arguments; an argument
// containing "{dir}" or "{port}" has them replaced by the server's
// directory and port.
func startRedis(t testing.TB, extra ...string) *Redis {
	t.Helper()
	bin := RequireBinary(t, "redis-server", "/usr/bin", "/usr/local/bin")
	r := &Redis{t: t, bin: bin, dir: t.TempDir(), logs: &Buffer{}, extra: extra}
	var err error
	// The free port may be taken between FreeAddr and the server's bind by
	// a parallel test: try a few.
	for range 3 {
		r.Addr = FreeAddr(t)
		if err = r.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// URL returns the server's redis:// URL for database 0.
func (r *Redis) URL() string {
	return "redis://" + r.Addr + "/0"
}

func (r *Redis) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return nil
	}
	host, port, _ := net.SplitHostPort(r.Addr)
	var args []string
	for _, a := range r.extra {
		args = append(args, strings.NewReplacer("{dir}", r.dir, "{port}", port).Replace(a))
	}
	if len(args) == 0 || !strings.HasSuffix(args[0], ".conf") {
		args = append([]string{
			"--bind", host, "--port", port, "--dir", r.dir,
			"--save", "", "--appendonly", "no", "--protected-mode", "no",
			"--daemonize", "no", "--loglevel", "warning"}, args...)
	}
	cmd := exec.Command(r.bin, args...)
	cmd.Stdout, cmd.Stderr = r.logs, r.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	ok := WaitFor(10*time.Second, func() bool {
		select {
		case <-done:
			return true
		default:
		}
		c, err := net.DialTimeout("tcp", r.Addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
	select {
	case <-done:
		return fmt.Errorf("redis-server exited at start:\n%s", r.logs)
	default:
	}
	if !ok {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("redis-server did not listen on %s within 10s:\n%s", r.Addr, r.logs)
	}
	r.cmd, r.done = cmd, done
	return nil
}

// Stop kills the server (as a crash would) and waits for it to exit. It is
// safe to call more than once.
func (r *Redis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(os.Kill)
	<-r.done
	r.cmd, r.done = nil, nil
}

// Restart starts the server again on the same port, empty, after Stop.
func (r *Redis) Restart() {
	r.t.Helper()
	if err := r.start(); err != nil {
		r.t.Fatal(err)
	}
}

// Logs returns what the server printed, for failure messages.
func (r *Redis) Logs() string {
	return strings.TrimSpace(r.logs.String())
}

// Client returns a go-redis client for the server, closed when t ends.
func (r *Redis) Client(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
