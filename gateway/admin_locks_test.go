package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/gateway"
)

// TestAdminLoginLocks: the admin listener lists an account's login locks
// (account-wide and per address, with until when) and lifts every one of
// them, so that `rampart users locks` and `users unlock` work against the
// counters the running gateway holds.
func TestAdminLoginLocks(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	y, db := authConfig(t, up.URL)
	seedUser(t, db, "alice", "editor")
	h := start(t, parse(t, up.URL, "trusted_proxies: [127.0.0.1/32]\n"+strings.Replace(y, "login_protection: {delay: 1ms}", "login_protection: {delay: 1ms, max_failures_per_account: 4, max_failures_per_account_ip: 2}", 1)))
	login := func(from, pw string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(`{"username":"alice","password":"`+pw+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	// Two addresses fail twice each: each is locked out of the account,
	// and the account is locked for every address it does not know.
	for _, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		for range 2 {
			login(ip, "wrong")
		}
	}
	if got := login("198.51.100.7", testPassword); got != 429 {
		t.Fatalf("the account is not locked: got %d", got)
	}
	locks := func(method, path string) gateway.LoginLocks {
		t.Helper()
		req, _ := http.NewRequest(method, h.admin+path+"?user=alice", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out gateway.LoginLocks
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, err)
		}
		return out
	}
	got := locks("GET", "/login-locks")
	var account, perIP int
	for _, l := range got.Locks {
		if l.Client == "" {
			account++
		} else if l.Lockout {
			perIP++
		}
	}
	if account != 1 || perIP != 2 {
		t.Fatalf("locks: got %+v, want the account lock and two addresses", got.Locks)
	}
	if after := locks("POST", "/login-locks/unlock"); !after.Unlocked || len(after.Locks) != 0 {
		t.Fatalf("unlock: got %+v, want no lock left", after)
	}
	for _, ip := range []string{"198.51.100.7", "203.0.113.1"} {
		if got := login(ip, testPassword); got != 200 {
			t.Errorf("login from %s after unlock: got %d, want 200", ip, got)
		}
	}
	// A remembered address logs in while the account is locked for the
	// others.
	for _, ip := range []string{"203.0.113.3", "203.0.113.4"} {
		for range 2 {
			login(ip, "wrong")
		}
	}
	if got := login("192.0.2.55", testPassword); got != 429 {
		t.Fatalf("the account is not locked again: got %d", got)
	}
	if got := login("198.51.100.7", testPassword); got != 200 {
		t.Errorf("the remembered address while the account is locked: got %d, want 200", got)
	}
	// A page on another origin cannot lift locks through an operator's
	// browser.
	req, _ := http.NewRequest("POST", h.admin+"/login-locks/unlock?user=alice", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site unlock: got %d, want 403", resp.StatusCode)
	}
}
