package testutil

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/sqldb"
)

// pgBinDirs are where Debian installs PostgreSQL's programs, off PATH.
var pgBinDirs = []string{"/usr/lib/postgresql/*/bin"}

// Postgres is a real PostgreSQL server started for a test.
type Postgres struct {
	// DSN connects to the test database as its superuser.
	DSN  string
	Addr string
	next atomic.Int64

	t    testing.TB
	bin  string
	args []string
	cred *syscall.Credential
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartPostgres starts a throwaway PostgreSQL server on a random loopback
// port, with its data in a temporary directory, and stops it when the test
// ends. The server runs without fsync: it is for tests only. When the tests
// run as root, the server runs as the "postgres" (or "nobody") user, since
// PostgreSQL refuses to run as root.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	initdb := RequireBinary(t, "initdb", pgBinDirs...)
	postgres := filepath.Join(filepath.Dir(initdb), "postgres")
	dir, err := os.MkdirTemp("", "rampart-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	cred := dropRoot(t, dir)

	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out.String())
		}
	}
	run(initdb, "-D", data, "-U", "rampart", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")

	addr := FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	pg := &Postgres{DSN: fmt.Sprintf("postgres://rampart@%s/postgres?sslmode=disable&connect_timeout=5", addr), Addr: addr,
		t: t, args: []string{"-D", data, "-p", port, "-h", "127.0.0.1", "-k", dir,
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"},
		bin: postgres, cred: cred}
	t.Cleanup(pg.Stop)
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	return pg
}

// start runs the server and waits until it accepts queries.
func (p *Postgres) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.bin, p.args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Setpgid: true}
	logs := &Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", p.Addr)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			return fmt.Errorf("postgres exited:\n%s", logs)
		case <-ctx.Done():
			return fmt.Errorf("postgres did not start:\n%s", logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Accepting TCP is not the same as accepting queries: wait through the
	// "starting up" window, so tests can connect at once.
	for {
		db, err := sqldb.OpenPostgres(ctx, p.DSN)
		if err == nil {
			db.Close()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("postgres exited:\n%s", logs)
		case <-ctx.Done():
			return fmt.Errorf("postgres never accepted queries: %v\n%s", err, logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the server down (PostgreSQL's fast shutdown: every session is
// disconnected) and waits for it to exit. It is safe to call more than
// once.
func (p *Postgres) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd, p.done = nil, nil
}

// Restart starts the server again on the same port with the same data,
// after Stop.
func (p *Postgres) Restart() {
	p.t.Helper()
	if err := p.start(); err != nil {
		p.t.Fatal(err)
	}
}

// NewDatabase creates a fresh, empty database on the server and connects
// to it, closing the connection when t ends: parallel tests that each need
// their own schema (or their own clock for pruning) stay apart.
func (p *Postgres) NewDatabase(t testing.TB) *sqldb.DB {
	t.Helper()
	name := fmt.Sprintf("t%d", p.next.Add(1))
	admin := p.Open(t)
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(p.DSN)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := sqldb.OpenPostgres(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Open connects to the test database, closing the connection when t ends.
func (p *Postgres) Open(t testing.TB) *sqldb.DB {
	t.Helper()
	db, err := sqldb.OpenPostgres(context.Background(), p.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dropRoot returns the credential to run database servers with when the
// tests run as root, giving that user the directory; nil otherwise.
func dropRoot(t testing.TB, dir string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Chown(p, uid, gid)
		}); err != nil {
			t.Fatal(err)
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	t.Fatal("running as root and no unprivileged user (postgres, nobody) to run the server as")
	return nil
}
