package bruteforce_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/bruteforce"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    bruteforce.Config
		want string
	}{
		{"negative account", bruteforce.Config{MaxFailuresPerAccount: -1}, "max_failures_per_account must not be negative"},
		{"negative ip", bruteforce.Config{MaxFailuresPerIP: -2}, "max_failures_per_ip"},
		{"pair above account", bruteforce.Config{MaxFailuresPerAccount: 3, MaxFailuresPerAccountIP: 4}, "must not exceed max_failures_per_account"},
		{"negative window", bruteforce.Config{Window: -time.Second}, "window must not be negative"},
		{"sub-millisecond lockout", bruteforce.Config{Lockout: time.Microsecond}, "lockout must be at least 1ms"},
		{"endless lockout", bruteforce.Config{Lockout: 400 * 24 * time.Hour}, "365d"},
		{"bad prefix", bruteforce.Config{IPv6Prefix: 200}, "ipv6_prefix"},
		{"bad policy", bruteforce.Config{OnStoreError: "ignore"}, "on_store_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := bruteforce.New(tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "bruteforce: ") {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"locked", &bruteforce.LockedError{RetryAfter: 1500 * time.Millisecond, By: bruteforce.ByAccount}, 429, "2"},
		{"unavailable", bruteforce.ErrUnavailable, 503, "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			bruteforce.WriteError(w, httptest.NewRequest("POST", "/.rampart/login", nil), tc.err)
			if w.Code != tc.status || w.Header().Get("Retry-After") != tc.retryAfter {
				t.Errorf("got %d with Retry-After %q, want %d with %q", w.Code, w.Header().Get("Retry-After"), tc.status, tc.retryAfter)
			}
			if strings.Contains(w.Body.String(), "account") {
				t.Errorf("body reveals which counter refused: %s", w.Body)
			}
		})
	}
}

// failingStore is a store that is always down.
type failingStore struct{}

var errDown = errors.New("connection refused")

func (failingStore) Attempt(context.Context, time.Time, bruteforce.Keys, *bruteforce.Params) (bruteforce.Verdict, error) {
	return bruteforce.Verdict{}, errDown
}
func (failingStore) Succeed(context.Context, time.Time, bruteforce.Keys, *bruteforce.Params) error {
	return errDown
}
func (failingStore) Unlock(context.Context, string) error { return errDown }
func (failingStore) Counters(context.Context, string, time.Time) (bruteforce.Counter, map[string]bruteforce.Counter, error) {
	return bruteforce.Counter{}, nil, errDown
}
func (failingStore) Cancel(context.Context, time.Time, bruteforce.Keys, *bruteforce.Params) error {
	return errDown
}

func TestFailurePolicy(t *testing.T) {
	t.Parallel()
	ip := netip.MustParseAddr("203.0.113.9")
	t.Run("fail closed by default", func(t *testing.T) {
		t.Parallel()
		failures := 0
		p, err := bruteforce.New(bruteforce.Config{Store: failingStore{}, OnStoreFailure: func(error) { failures++ }})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Check(context.Background(), "alice", ip); !errors.Is(err, bruteforce.ErrUnavailable) {
			t.Errorf("got %v, want ErrUnavailable", err)
		}
		if failures != 1 {
			t.Errorf("got %d store failures reported, want 1", failures)
		}
	})
	t.Run("fail open counts locally", func(t *testing.T) {
		t.Parallel()
		var fallbacks int
		p, err := bruteforce.New(bruteforce.Config{Store: failingStore{}, OnStoreError: bruteforce.FailOpen,
			OnDecision: func(e bruteforce.Event) {
				if e.Fallback {
					fallbacks++
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Check(context.Background(), "alice", ip); err != nil {
			t.Fatalf("first attempt: got %v, want allowed by the fallback", err)
		}
		if err := p.Check(context.Background(), "alice", ip); !errors.Is(err, bruteforce.ErrLocked) {
			t.Errorf("second attempt at once: got %v, want the fallback's progressive delay", err)
		}
		if fallbacks != 2 {
			t.Errorf("got %d fallback decisions, want 2", fallbacks)
		}
	})
}

func TestProtectorHTTP(t *testing.T) {
	t.Parallel()
	guard, err := bruteforce.New(bruteforce.Config{})
	if err != nil {
		t.Fatal(err)
	}
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := netip.MustParseAddrPort(r.RemoteAddr).Addr()
		user := r.FormValue("username")
		if err := guard.Check(r.Context(), user, ip); err != nil {
			bruteforce.WriteError(w, r, err)
			return
		}
		if r.FormValue("password") != "correct horse" || user != "alice" {
			guard.Fail(r.Context(), user, ip)
			http.Error(w, "wrong username or password", http.StatusUnauthorized)
			return
		}
		_ = guard.Succeed(r.Context(), user, ip)
		w.WriteHeader(http.StatusNoContent)
	})
	post := func(user, pass string) int {
		r := httptest.NewRequest("POST", "/login", strings.NewReader("username="+user+"&password="+pass))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "203.0.113.9:5555"
		w := httptest.NewRecorder()
		login.ServeHTTP(w, r)
		return w.Code
	}
	if got := post("alice", "guess"); got != 401 {
		t.Fatalf("first guess: got %d, want 401", got)
	}
	// Even the right password is refused during the delay: the guesser
	// cannot tell a hit from a miss.
	if got := post("alice", "correct horse"); got != 429 {
		t.Errorf("right password during the delay: got %d, want 429", got)
	}
}
