package redisstore_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/ratelimit/redisstore"
)

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

func code(h http.Handler, peer string) int {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = peer
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func TestReplicasShareOneLimit(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRedis(t)
	// Fail closed, so that a store error shows as a refusal and an error
	// count, never as a local decision that would hide it.
	rule := []ratelimit.Rule{{Name: "global", Limit: 60, Per: time.Hour, OnStoreError: ratelimit.FailClosed}}
	var handlers []http.Handler
	var storeErrs atomic.Int64
	for range 2 {
		// Separate clients, as two gateway processes would have.
		s := newStore(t, redisstore.Config{URL: srv.URL(), Timeout: 5 * time.Second})
		l, err := ratelimit.New(ratelimit.Config{Rules: rule, Store: s, OnStoreFailure: func(err error) {
			storeErrs.Add(1)
			t.Log(err)
		}})
		if err != nil {
			t.Fatal(err)
		}
		handlers = append(handlers, l.Handler(ok))
	}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		h := handlers[i%2]
		wg.Go(func() {
			for range 25 {
				if code(h, "198.51.100.4:1234") == 204 {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := storeErrs.Load(); n > 0 {
		t.Fatalf("got %d store errors", n)
	}
	if got := allowed.Load(); got != 60 {
		t.Errorf("two replicas together allowed %d, want exactly 60", got)
	}
}

func TestFailurePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		policy     ratelimit.FailurePolicy
		downStatus []int // statuses of requests while Redis is down
	}{
		// Fail open still limits, per replica, with the local fallback.
		{"fail open", ratelimit.FailOpen, []int{204, 204, 204, 429}},
		{"fail closed", ratelimit.FailClosed, []int{503, 503}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testutil.StartRedis(t)
			s := newStore(t, redisstore.Config{URL: srv.URL(), Timeout: time.Second})
			logs := &testutil.Buffer{}
			var storeErrors atomic.Int64
			var mu sync.Mutex
			outcomes := map[string]int{}
			l, err := ratelimit.New(ratelimit.Config{
				Rules:           []ratelimit.Rule{{Name: "r", Limit: 3, Per: time.Hour, OnStoreError: tc.policy}},
				Store:           s,
				Logger:          slog.New(slog.NewTextHandler(logs, nil)),
				RetryStoreAfter: 20 * time.Millisecond,
				OnStoreFailure:  func(error) { storeErrors.Add(1) },
				OnDecision: func(e ratelimit.Event) {
					mu.Lock()
					outcomes[fmt.Sprint(e.Outcome, "/", e.Fallback)]++
					mu.Unlock()
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			h := l.Handler(ok)
			if got := code(h, "192.0.2.1:1"); got != 204 {
				t.Fatalf("with Redis up: got %d, want 204", got)
			}

			srv.Stop()
			for i, want := range tc.downStatus {
				if got := code(h, "192.0.2.2:1"); got != want {
					t.Errorf("Redis down, request %d: got %d, want %d", i+1, got, want)
				}
			}
			if storeErrors.Load() == 0 {
				t.Error("OnStoreFailure was not called")
			}
			if !strings.Contains(logs.String(), "store unavailable") {
				t.Errorf("no outage in the log:\n%s", logs)
			}

			srv.Restart()
			// The restarted server is empty: the client's budget is fresh,
			// and the recovery is logged once the store answers again.
			if !testutil.WaitFor(5*time.Second, func() bool {
				return code(h, "192.0.2.3:1") == 204 && strings.Contains(logs.String(), "store recovered")
			}) {
				t.Fatalf("no recovery after restart:\n%s", logs)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.policy == ratelimit.FailOpen && outcomes["allowed/true"] == 0 {
				t.Errorf("no fallback decisions reported: %v", outcomes)
			}
			if tc.policy == ratelimit.FailClosed && outcomes["unavailable/false"] == 0 {
				t.Errorf("no unavailable decisions reported: %v", outcomes)
			}
		})
	}
}
