package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/login"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/sqldb"
	"github.com/rampartsec/rampart/internal/testutil"
)

type run struct {
	code           int
	stdout, stderr string
}

// rampart runs the real binary with stdin and returns what it did.
func rampart(t *testing.T, stdin string, args ...string) run {
	t.Helper()
	cmd := exec.Command(testutil.BuildRampart(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return run{exitCode(err), out.String(), errb.String()}
}

func (r run) expect(t *testing.T, code int, stdout string, stderr ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code: got %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, stdout) {
		t.Errorf("stdout: got %q, want it to contain %q", r.stdout, stdout)
	}
	for _, s := range stderr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr: got %q, want it to contain %q", r.stderr, s)
		}
	}
}

const cliPassword = "violet kettle marches north"

func TestUsersCLI(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "rampart.db")

	rampart(t, "", "users", "list", "--db", db).expect(t, 2, "",
		"rampart: error: no database at "+db, "rampart: hint: add the first user")
	rampart(t, cliPassword+"\n", "users", "add", "Alice", "--roles", "admin,editor", "--db", db).
		expect(t, 0, "added user alice with roles admin,editor")
	// No final newline, flags before the name.
	rampart(t, cliPassword, "users", "add", "--db", db, "bob").expect(t, 0, "added user bob\n")
	rampart(t, cliPassword+"\n", "users", "add", "ALICE", "--db", db).
		expect(t, 2, "", `rampart: error: user "alice" already exists`, "rampart: hint: use 'rampart users passwd alice'")
	rampart(t, "password\n", "users", "add", "carol", "--db", db).
		expect(t, 2, "", "rampart: error: password is too short", "rampart: hint: ")
	rampart(t, "mailcreated5240\n", "users", "add", "carol", "--db", db).
		expect(t, 2, "", "rampart: error: password is one of the most common passwords")
	rampart(t, "carol-the-great-1999\n", "users", "add", "carol", "--db", db).
		expect(t, 2, "", "rampart: error: password must not contain the user name")
	rampart(t, "", "users", "add", "carol", "--db", db).
		expect(t, 2, "", "rampart: error: no password given", "rampart: hint: pipe it on standard input")
	rampart(t, cliPassword+"\n", "users", "add", "bad name", "--db", db).
		expect(t, 2, "", `rampart: error: "bad name" is not a valid user name`)
	rampart(t, cliPassword+"\n", "users", "add", "dave", "--roles", "a b", "--db", db).
		expect(t, 2, "", "rampart: error: invalid role", "rampart: hint: ")
	rampart(t, "", "users", "add", "--db", db).
		expect(t, 2, "", "rampart: error: rampart users add needs exactly one user NAME")
	rampart(t, "", "users").expect(t, 2, "", "rampart: error: users needs a subcommand", "rampart: hint: ")
	rampart(t, "", "users", "frob").expect(t, 2, "", `rampart: error: unknown users subcommand "frob"`)
	rampart(t, "", "users", "--help").expect(t, 0, "Usage: rampart users")
	rampart(t, "", "users", "lock", "nobody", "--db", db).
		expect(t, 2, "", `rampart: error: no user named "nobody"`, "rampart: hint: run 'rampart users list'")
	rampart(t, "", "users", "list", "--format", "xml", "--db", db).
		expect(t, 2, "", `rampart: error: unknown format "xml"`)

	list := rampart(t, "", "users", "list", "--db", db)
	list.expect(t, 0, "NAME")
	if !strings.Contains(list.stdout, "alice  admin,editor  no") || !strings.Contains(list.stdout, "bob    -") {
		t.Errorf("table: got\n%s", list.stdout)
	}
	js := rampart(t, "", "users", "list", "--format", "json", "--db", db)
	var got []map[string]any
	if err := json.Unmarshal([]byte(js.stdout), &got); err != nil || len(got) != 2 {
		t.Fatalf("json: got %v %s", err, js.stdout)
	}
	if strings.Contains(js.stdout, "argon2") || strings.Contains(list.stdout, "argon2") {
		t.Error("list shows password hashes")
	}

	// The stored password logs in; a session exists.
	ctx := context.Background()
	sdb, err := sqldb.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	us, _ := users.NewSQLStore(ctx, sdb, nil)
	ss, _ := session.NewSQLStore(ctx, sdb, nil)
	sm, _ := session.New(ss, session.Config{IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour})
	svc, err := login.New(login.Config{Users: us, Sessions: sm})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("127.0.0.1")
	verify := func(user, pw string) error { _, err := svc.VerifyPassword(ctx, user, pw, ip); return err }
	if err := verify("alice", cliPassword); err != nil {
		t.Fatalf("login with the added password: %v", err)
	}
	startSession := func(user string) {
		if _, err := sm.Login(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), user, nil); err != nil {
			t.Fatal(err)
		}
	}
	countSessions := func(user string) int {
		l, err := sm.List(ctx, user, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	startSession("alice")
	startSession("alice")
	startSession("bob")

	// lock ends the sessions and refuses the login; unlock restores it.
	rampart(t, "", "users", "lock", "ALICE", "--db", db).expect(t, 0, "locked alice; ended 2 session(s)")
	if n := countSessions("alice"); n != 0 {
		t.Errorf("got %d sessions after lock, want 0", n)
	}
	if err := verify("alice", cliPassword); !errors.Is(err, login.ErrInvalidCredentials) {
		t.Errorf("locked login: got %v, want ErrInvalidCredentials", err)
	}
	if !strings.Contains(rampart(t, "", "users", "list", "--db", db).stdout, "alice  admin,editor  yes") {
		t.Error("list does not show alice locked")
	}
	rampart(t, "", "users", "unlock", "alice", "--db", db).expect(t, 0, "unlocked alice")
	if err := verify("alice", cliPassword); err != nil {
		t.Errorf("unlocked login: %v", err)
	}

	// passwd changes the password and ends the sessions.
	rampart(t, "another long passphrase\n", "users", "passwd", "bob", "--db", db).
		expect(t, 0, "changed the password of bob; ended 1 session(s)")
	if countSessions("bob") != 0 {
		t.Error("bob's session survived passwd")
	}
	if err := verify("bob", cliPassword); err == nil {
		t.Error("old password still works")
	}
	if err := verify("bob", "another long passphrase"); err != nil {
		t.Errorf("new password: %v", err)
	}
	rampart(t, "short\n", "users", "passwd", "bob", "--db", db).expect(t, 2, "", "rampart: error: password is too short")
}

func TestUsersCLIPostgres(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	rampart(t, cliPassword+"\n", "users", "add", "erin", "--roles", "ops", "--postgres", pg.DSN).expect(t, 0, "added user erin with roles ops")
	rampart(t, "", "users", "lock", "erin", "--postgres", pg.DSN).expect(t, 0, "locked erin")
	out := rampart(t, "", "users", "list", "--format", "json", "--postgres", pg.DSN)
	if !strings.Contains(out.stdout, `"name": "erin"`) || !strings.Contains(out.stdout, `"locked": true`) {
		t.Errorf("got %s", out.stdout)
	}
}

func TestUsersCLIRedisSessions(t *testing.T) {
	t.Parallel()
	rdb := testutil.StartRedis(t).Client(t)
	db := filepath.Join(t.TempDir(), "rampart.db")
	rampart(t, cliPassword+"\n", "users", "add", "fred", "--db", db).expect(t, 0, "added user fred")
	// The gateway's layout for a deployment with neither store.namespace
	// nor store.key_file.
	rs, _ := session.NewRedisStore(rdb, session.RedisConfig{Prefix: config.RedisPrefix(config.NamespaceDefault)})
	sm, _ := session.New(rs, session.Config{IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour})
	for range 2 {
		if _, err := sm.Login(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), "fred", nil); err != nil {
			t.Fatal(err)
		}
	}
	url := "redis://" + rdb.Options().Addr + "/0"
	rampart(t, "", "users", "lock", "fred", "--db", db, "--redis", url).expect(t, 0, "locked fred; ended 2 session(s)")
	if l, _ := sm.List(context.Background(), "fred", nil); len(l) != 0 {
		t.Errorf("got %d Redis sessions after lock, want 0", len(l))
	}
	rampart(t, "", "users", "lock", "fred", "--db", db, "--redis", "redis://127.0.0.1:1/0").
		expect(t, 1, "", "rampart: error: fred is locked, but ending the sessions failed")
}

// TestUsersCLIConfigFile: --config points the users commands at the
// gateway's own stores and password policy.
func TestUsersCLIConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rampart.yaml")
	if err := os.WriteFile(cfg, []byte("upstream: http://127.0.0.1:3000\nstore: {sqlite: data/users.db}\nauth:\n  passwords: {min_length: 40}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The policy from the file: 40 characters.
	rampart(t, cliPassword+"\n", "users", "add", "gina", "--config", cfg).expect(t, 2, "", "rampart: error:")
	long := strings.Repeat("correct horse battery staple ", 2)
	rampart(t, long+"\n", "users", "add", "gina", "--config", cfg).expect(t, 0, "added user gina")
	if _, err := os.Stat(filepath.Join(dir, "data", "users.db")); err != nil {
		t.Errorf("the user store is not where the configuration says: %v", err)
	}
	rampart(t, "", "users", "list", "--config", cfg).expect(t, 0, "gina")
	// A broken configuration names file and line.
	if err := os.WriteFile(cfg, []byte("store: {sqlite: 3}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rampart(t, "", "users", "list", "--config", cfg).expect(t, 2, "", ":1: store.sqlite")
}
