package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/internal/sqldb"
	"github.com/rampartsec/rampart/internal/testutil"
)

// faultMargin is how much later than its configured bound a request may be
// answered while a store hangs: scheduling on a loaded two-core machine,
// more under the race detector.
func faultMargin() time.Duration {
	if testutil.RaceEnabled {
		return 2 * time.Second
	}
	return time.Second
}

// timed sends req without a cookie jar and returns the status and how long
// the answer took.
func timed(t *testing.T, req *http.Request) (int, time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t0 := time.Now()
	resp, _ := do(t, client, req)
	return resp.StatusCode, time.Since(t0)
}

// sessionLogin logs name in with a JSON login and returns the session
// cookie.
func sessionLogin(t *testing.T, base, name string) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, name, testPassword)))
	req.Header.Set("Content-Type", "application/json")
	resp, body := do(t, &http.Client{Timeout: 30 * time.Second}, req)
	if resp.StatusCode != 200 {
		t.Fatalf("login: got %d %s", resp.StatusCode, body)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-rampart-session" {
			return ck
		}
	}
	t.Fatal("login set no session cookie")
	return nil
}

func withCookie(method, u string, ck *http.Cookie) *http.Request {
	req, _ := http.NewRequest(method, u, nil)
	if ck != nil {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	return req
}

// TestRedisThatHangs puts a proxy that stops forwarding between the gateway
// and a real Redis: Redis accepts connections and never answers. Each
// policy must answer within store.redis_timeout plus a margin, the way its
// on_store_error says, and everything must work again, with nothing lost,
// once Redis answers again.
func TestRedisThatHangs(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	px := testutil.StartFaultProxy(t, rd.Addr)
	up := echoUpstream(t)
	db := filepath.Join(t.TempDir(), "rampart.db")
	seedUser(t, db, "alice")
	const timeout = 300 * time.Millisecond
	h := start(t, parse(t, up.URL, fmt.Sprintf(`env: development
store: {sqlite: %q, redis: "redis://%s/0", redis_timeout: 300ms, session_cache: 0s}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
login_protection: {delay: 1ms}
rate_limits:
  - {name: open, limit: 1000, per: 1m, on_store_error: fail_open}
routes:
  - match: "GET /public"
    auth: none
  - match: "GET /strict"
    auth: none
    rate_limits: [{name: strict, limit: 1000, per: 1m, on_store_error: fail_closed}]
  - match: "GET /notes"
`, db, px.Addr)))

	alice := sessionLogin(t, h.url, "alice")
	for _, path := range []string{"/public", "/strict"} {
		if code, _ := timed(t, withCookie("GET", h.url+path, nil)); code != 200 {
			t.Fatalf("%s before the hang: got %d", path, code)
		}
	}
	if code, _ := timed(t, withCookie("GET", h.url+"/notes", alice)); code != 200 {
		t.Fatalf("session before the hang: got %d", code)
	}

	px.SetMode(testutil.Hang)
	loginReq := func() *http.Request {
		req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":"alice","password":%q}`, testPassword)))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	cases := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"fail_open rate limit decides locally", func() *http.Request { return withCookie("GET", h.url+"/public", nil) }, 200},
		{"fail_closed rate limit refuses", func() *http.Request { return withCookie("GET", h.url+"/strict", nil) }, 503},
		{"session in Redis fails closed", func() *http.Request { return withCookie("GET", h.url+"/notes", alice) }, 503},
		{"login protection fails closed", loginReq, 503},
	}
	for _, tc := range cases {
		code, took := timed(t, tc.req())
		if code != tc.want {
			t.Errorf("while Redis hangs, %s: got %d, want %d", tc.name, code, tc.want)
		}
		// Each request may make more than one bounded call (the global
		// rule, then the route's).
		if limit := 3*timeout + faultMargin(); took > limit {
			t.Errorf("while Redis hangs, %s: answered after %v, want within %v", tc.name, took, limit)
		}
	}

	px.SetMode(testutil.Forward)
	// Recovery needs no restart: each policy tries its store again after
	// its retry interval (a few seconds) and reconnects.
	for _, tc := range cases {
		ok := testutil.WaitFor(15*time.Second, func() bool {
			code, _ := timed(t, tc.req())
			return code == 200
		})
		if !ok {
			t.Errorf("after the hang, %s: never answered 200 again", tc.name)
		}
	}
}

// TestPostgresThatHangs does the same with PostgreSQL holding users and
// sessions: store.sql_timeout bounds each call, authenticated requests get
// 503 while the database hangs, public ones are untouched, and the session
// created before the hang works again after it.
func TestPostgresThatHangs(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	seed := pg.NewDatabase(t)
	ctx := context.Background()
	st, err := users.NewSQLStore(ctx, seed, nil)
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := password.NewHasher(password.Params{})
	hash, _ := hasher.Hash(testPassword)
	if err := st.Create(ctx, users.User{Name: "alice", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	var dbName string
	if err := seed.QueryRowContext(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	px := testutil.StartFaultProxy(t, pg.Addr)
	u, _ := url.Parse(pg.DSN)
	u.Host, u.Path = px.Addr, "/"+dbName
	up := echoUpstream(t)
	const timeout = 300 * time.Millisecond
	h := start(t, parse(t, up.URL, fmt.Sprintf(`env: development
store: {postgres: %q, sql_timeout: 300ms}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
login_protection: {delay: 1ms}
routes:
  - match: "GET /public"
    auth: none
  - match: "GET /notes"
`, u.String())))

	alice := sessionLogin(t, h.url, "alice")
	if code, _ := timed(t, withCookie("GET", h.url+"/notes", alice)); code != 200 {
		t.Fatalf("session before the hang: got %d", code)
	}

	px.SetMode(testutil.Hang)
	for range 3 {
		code, took := timed(t, withCookie("GET", h.url+"/notes", alice))
		if code != 503 {
			t.Errorf("while PostgreSQL hangs, a session request: got %d, want 503", code)
		}
		if limit := 2*timeout + faultMargin(); took > limit {
			t.Errorf("while PostgreSQL hangs, a session request was answered after %v, want within %v", took, limit)
		}
	}
	req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":"alice","password":%q}`, testPassword)))
	req.Header.Set("Content-Type", "application/json")
	code, took := timed(t, req)
	if code != 503 || took > 3*timeout+faultMargin() {
		t.Errorf("while PostgreSQL hangs, a login: got %d after %v, want 503 within %v", code, took, 3*timeout+faultMargin())
	}
	if code, took := timed(t, withCookie("GET", h.url+"/public", nil)); code != 200 || took > faultMargin() {
		t.Errorf("while PostgreSQL hangs, a public request: got %d after %v, want 200 at once", code, took)
	}

	px.SetMode(testutil.Forward)
	ok := testutil.WaitFor(15*time.Second, func() bool {
		code, _ := timed(t, withCookie("GET", h.url+"/notes", alice))
		return code == 200
	})
	if !ok {
		t.Fatal("the session written before the hang did not work again after it")
	}
}

// rawUpstream is a TCP listener on loopback that hands each accepted
// connection, after reading the request head, to serve; requests other
// than GET /x (the gateway's readiness probes) get a 204.
func rawUpstream(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln := testutil.Listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				br := bufio.NewReader(c)
				first, _ := br.ReadString('\n')
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				if !strings.HasPrefix(first, "GET /x ") {
					_, _ = c.Write([]byte("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"))
					_ = c.Close()
					return
				}
				serve(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestUpstreamFaults: every way an upstream can fail is answered with the
// documented neutral status within the configured bound, and a response
// that stalls is cut at limits.write_timeout with the upstream request
// aborted, not left holding a connection.
func TestUpstreamFaults(t *testing.T) {
	t.Parallel()
	const bound = 300 * time.Millisecond
	limits := "limits: {upstream_timeout: 300ms, upstream_connect_timeout: 300ms}\n"
	check := func(t *testing.T, upstream string, want int) {
		t.Helper()
		h := start(t, parse(t, upstream, limits))
		code, took := timed(t, withCookie("GET", h.url+"/x", nil))
		if code != want || took > bound+faultMargin() {
			t.Errorf("got %d after %v, want %d within %v", code, took, want, bound+faultMargin())
		}
	}
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		check(t, "http://"+testutil.FreeAddr(t), http.StatusBadGateway)
	})
	t.Run("reset before the response", func(t *testing.T) {
		t.Parallel()
		check(t, rawUpstream(t, func(c net.Conn) {
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
		}), http.StatusBadGateway)
	})
	t.Run("accepts and never answers", func(t *testing.T) {
		t.Parallel()
		hold := make(chan struct{})
		t.Cleanup(func() { close(hold) })
		check(t, rawUpstream(t, func(c net.Conn) { <-hold; _ = c.Close() }), http.StatusGatewayTimeout)
	})
	t.Run("network path hangs", func(t *testing.T) {
		t.Parallel()
		px := testutil.StartFaultProxy(t, strings.TrimPrefix(echoUpstream(t).URL, "http://"))
		px.SetMode(testutil.Hang)
		check(t, "http://"+px.Addr, http.StatusGatewayTimeout)
	})
	t.Run("garbage instead of HTTP", func(t *testing.T) {
		t.Parallel()
		check(t, rawUpstream(t, func(c net.Conn) {
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n\r\n"))
			_ = c.Close()
		}), http.StatusBadGateway)
	})
	t.Run("stalls in the middle of the body", func(t *testing.T) {
		t.Parallel()
		aborted := make(chan struct{})
		up := rawUpstream(t, func(c net.Conn) {
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nContent-Type: text/plain\r\n\r\npartial"))
			// Wait for the gateway to give up on this connection.
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err := c.Read(make([]byte, 1))
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				close(aborted)
			}
			_ = c.Close()
		})
		h := start(t, parse(t, up, "limits: {write_timeout: 1s}\n"))
		t0 := time.Now()
		resp, err := http.Get(h.url + "/x")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			t.Error("a stalled response looked complete to the client")
		}
		if took := time.Since(t0); took > time.Second+faultMargin() {
			t.Errorf("the stalled response was cut after %v, want about write_timeout (1s)", took)
		}
		select {
		case <-aborted:
		case <-time.After(time.Second + faultMargin()):
			t.Error("the upstream request was left open after the client's response was cut")
		}
	})
}

// TestSQLiteLocked: another process holding the SQLite file's write lock
// (a backup, a migration, `sqlite3` left open in a transaction) makes
// writes wait; store.sql_timeout bounds the wait, so a login that must
// write its session answers 503 in time instead of queueing, reads go on,
// and everything works again once the lock is released.
func TestSQLiteLocked(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	db := filepath.Join(t.TempDir(), "rampart.db")
	seedUser(t, db, "alice")
	const timeout = 300 * time.Millisecond
	h := start(t, parse(t, up.URL, fmt.Sprintf(`env: development
store: {sqlite: %q, sql_timeout: 300ms}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
login_protection: {delay: 1ms}
routes:
  - match: "GET /notes"
`, db)))
	// A login checks a password (argon2id: seconds under the race
	// detector) before it writes: the bound is that plus sql_timeout.
	t0 := time.Now()
	alice := sessionLogin(t, h.url, "alice")
	loginTime := time.Since(t0)

	other, err := sqldb.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":"alice","password":%q}`, testPassword)))
	req.Header.Set("Content-Type", "application/json")
	code, took := timed(t, req)
	if limit := 2*loginTime + 3*timeout + faultMargin(); code != 503 || took > limit {
		t.Errorf("login while the file is locked: got %d after %v, want 503 within %v", code, took, limit)
	}
	if code, took := timed(t, withCookie("GET", h.url+"/notes", alice)); code != 200 || took > 2*timeout+faultMargin() {
		t.Errorf("a session read while the file is locked: got %d after %v, want 200", code, took)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	if got := sessionLogin(t, h.url, "alice"); got == nil {
		t.Error("no login after the lock was released")
	}
}
