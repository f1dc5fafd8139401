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
	cmd  *exec.Cmd
	next atomic.Int64
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
	cmd := exec.Command(postgres, "-D", data, "-p", port, "-h", "127.0.0.1", "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	logs := &Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("postgres exited:\n%s", logs)
		case <-ctx.Done():
			t.Fatalf("postgres did not start:\n%s", logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	pg := &Postgres{DSN: fmt.Sprintf("postgres://rampart@%s/postgres?sslmode=disable&connect_timeout=5", addr), Addr: addr, cmd: cmd}
	// Accepting TCP is not the same as accepting queries: wait through the
	// "starting up" window, so tests can connect at once.
	for {
		db, err := sqldb.OpenPostgres(ctx, pg.DSN)
		if err == nil {
			db.Close()
			return pg
		}
		select {
		case <-done:
			t.Fatalf("postgres exited:\n%s", logs)
		case <-ctx.Done():
			t.Fatalf("postgres never accepted queries: %v\n%s", err, logs)
		case <-time.After(50 * time.Millisecond):
		}
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
