package gateway_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

// TestStoreUpWithoutTraffic: every configured store is reported by
// rampart_store_up from start, before any request has used it, and follows
// the store going down and coming back with no traffic at all — the
// gateway asks the stores itself.
func TestStoreUpWithoutTraffic(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	pg := testutil.StartPostgres(t)
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, fmt.Sprintf(`store: {redis: %q, postgres: %q, redis_timeout: 5s}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
env: development
`, rd.URL(), pg.DSN)))
	has := func(want ...string) func() bool {
		return func() bool {
			m := metricsText(t, h)
			for _, w := range want {
				if !strings.Contains(m, w) {
					return false
				}
			}
			return true
		}
	}
	if !testutil.WaitFor(10*time.Second, has(`rampart_store_up{store="redis"} 1`, `rampart_store_up{store="postgres"} 1`)) {
		t.Fatalf("before any request: want both stores up\n%s", grep(metricsText(t, h), "rampart_store_up"))
	}
	rd.Stop()
	if !testutil.WaitFor(15*time.Second, has(`rampart_store_up{store="redis"} 0`, `rampart_store_up{store="postgres"} 1`)) {
		t.Fatalf("Redis stopped, no traffic: want redis 0, postgres 1\n%s", grep(metricsText(t, h), "rampart_store_up"))
	}
	if r, body := get(t, h.admin+"/readyz"); !strings.Contains(body, "redis") {
		t.Errorf("/readyz while Redis is down: got %d %q, want it to name redis", r.StatusCode, body)
	}
	rd.Restart()
	if !testutil.WaitFor(15*time.Second, has(`rampart_store_up{store="redis"} 1`)) {
		t.Fatalf("Redis back, no traffic: want redis 1\n%s", grep(metricsText(t, h), "rampart_store_up"))
	}
	if !strings.Contains(h.logs.String(), `"store recovered"`) {
		t.Errorf("no log line for the recovery:\n%s", grep(h.logs.String(), "store"))
	}
}

// TestCheckAcceptsDegradedSessions: the configuration check (rampart
// audit config, selftest) accepts auth.sessions.on_store_error: cache with
// a Redis session cache, as serving does, without connecting to Redis.
func TestCheckAcceptsDegradedSessions(t *testing.T) {
	t.Parallel()
	addr := testutil.FreeAddr(t) // nothing listens: the check must not connect
	c := parse(t, "http://127.0.0.1:3000", fmt.Sprintf(`env: development
store: {redis: "redis://%s/0", session_cache: 30s}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h, on_store_error: cache}
`, addr))
	if err := gateway.Check(c); err != nil {
		t.Fatalf("Check: %v", err)
	}
	c = parse(t, "http://127.0.0.1:3000", fmt.Sprintf(`env: development
store: {redis: "redis://%s/0", session_cache: 0s}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h, on_store_error: cache}
`, addr))
	if err := gateway.Check(c); err == nil || !strings.Contains(err.Error(), "session_cache") {
		t.Errorf("Check without a session cache: got %v, want the error serving gives", err)
	}
}
