package main

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/bruteforce"
)

// TestUsersLocksThroughTheConfiguration: `users locks NAME --config FILE`
// reaches the admin listener the configuration names, over TLS with its
// admin.cert_file pinned, with the token of admin.token_file (relative to
// the file); `users locks --admin` without the certificate cannot send
// the token to it.
func TestUsersLocksThroughTheConfiguration(t *testing.T) {
	t.Parallel()
	api := seededAdminAPI("locks-token-0123456789")
	api.SetLocks("alice", []bruteforce.Lock{{By: bruteforce.ByAccountIP, Client: "203.0.113.9", Until: time.Now().Add(time.Hour), Failures: 7, Lockout: true}})
	srv := httptest.NewTLSServer(api.Handler(nil))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("admin.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	write("admin.token", "locks-token-0123456789\n")
	cfg := write("rampart.yaml", fmt.Sprintf("upstream: http://127.0.0.1:3000\nstore: {sqlite: users.db}\n"+
		"admin: {listen: %q, token_file: admin.token, cert_file: admin.crt, key_file: admin.key}\n", strings.TrimPrefix(srv.URL, "https://")))

	// The name before or after the flags, as the documentation writes it.
	for _, args := range [][]string{{"users", "locks", "--config", cfg, "alice"}, {"users", "locks", "alice", "--config", cfg}} {
		var stdout, stderr syncBuffer
		c := newCLI(strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
		if code := c.main(context.Background(), args); code != 0 {
			t.Fatalf("%q: exit %d, stderr %q", args, code, stderr.String())
		}
		if out := stdout.String(); !strings.Contains(out, "203.0.113.9") || !strings.Contains(out, "locked") {
			t.Errorf("%q: the lock is not listed:\n%s", args, out)
		}
	}
	for _, r := range api.Requests() {
		if r.Auth != "bearer" {
			t.Errorf("%s %s was not sent with the token", r.Method, r.Path)
		}
	}
}
