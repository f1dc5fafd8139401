package selftest_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/selftest"
)

// deployment serves the gateway for yaml on loopback in front of a
// counting app, as a deployment would run, and returns its URL.
func deployment(t *testing.T, yaml string, hits *atomic.Int64) string {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(app.Close)
	c := weakened(t, yaml)
	up := *c.Upstream[0]
	u, _ := http.NewRequest("GET", app.URL, nil)
	up.Host = u.URL.Host
	c.Upstream[0] = &up
	g, err := gateway.New(c, gateway.Options{ProbeInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = g.Serve(ctx, ln, nil); close(done) }()
	t.Cleanup(func() { cancel(); <-done; _ = g.Close() })
	return "http://" + ln.Addr().String()
}

func TestTargetFindsWildcardOrigin(t *testing.T) {
	var hits atomic.Int64
	yaml := "env: development\ncors: {origins: [\"*\"]}\nroutes:\n  - match: \"GET /api/{path...}\"\n"
	url := deployment(t, yaml, &hits)
	c := weakened(t, yaml)
	rep, err := selftest.RunTarget(context.Background(), c, selftest.TargetOptions{URL: url, Rate: 1000, Budget: 1000})
	if err != nil {
		t.Fatal(err)
	}
	failsWith(t, rep, "cors-origin", "cors-any-origin")
	if rep.Mode != "target" {
		t.Errorf("got mode %q, want target", rep.Mode)
	}
	for _, cl := range rep.Classes {
		if cl.Name != "cors-origin" && cl.Name != "rate-limit-evasion" {
			t.Errorf("class %s ran against a deployment; only response-judged classes may", cl.Name)
		}
	}
}

func TestTargetBudgetAndRate(t *testing.T) {
	var hits atomic.Int64
	yaml := "env: development\ncors: {origins: [\"https://app.example.com\"]}\nroutes:\n  - match: \"GET /api/{path...}\"\n"
	url := deployment(t, yaml, &hits)
	start := time.Now()
	rep, err := selftest.RunTarget(context.Background(), weakened(t, yaml), selftest.TargetOptions{URL: url, Budget: 12, Rate: 40})
	if err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n > 12 {
		t.Errorf("the app saw %d requests, want at most the budget of 12", n)
	}
	if rep.Run > 12 {
		t.Errorf("got %d cases run, want at most 12", rep.Run)
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("12 requests at 40 per second took %s, want at least 275ms", took)
	}
	if rep.Skipped == 0 {
		t.Error("cases beyond the budget must be reported as skipped")
	}
}

func TestTargetRefusesForeignHosts(t *testing.T) {
	c := weakened(t, "env: development\n")
	for _, u := range []string{"http://192.0.2.10:8080", "https://203.0.113.5"} {
		_, err := selftest.RunTarget(context.Background(), c, selftest.TargetOptions{URL: u})
		if !errors.Is(err, selftest.ErrNotLoopback) {
			t.Errorf("%s: got %v, want ErrNotLoopback", u, err)
		}
	}
	if _, err := selftest.RunTarget(context.Background(), c, selftest.TargetOptions{URL: "ftp://127.0.0.1/"}); err == nil {
		t.Error("ftp target: got no error")
	}
}

// TestTargetSafeMethodsOnly: without Unsafe, nothing but GET, HEAD and
// OPTIONS reaches a deployment.
func TestTargetSafeMethodsOnly(t *testing.T) {
	yaml := "env: development\ncors: {origins: [\"https://app.example.com\"]}\nrate_limits: [{key: ip, limit: 5, per: 1m}]\nroutes:\n  - match: \"POST /api/{path...}\"\n    auth: none\n    csrf: \"off\"\n"
	var hits atomic.Int64
	url := deployment(t, yaml, &hits)
	rep, err := selftest.RunTarget(context.Background(), weakened(t, yaml), selftest.TargetOptions{URL: url, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 0 {
		t.Errorf("the app received %d requests; without --unsafe no POST may be sent", hits.Load())
	}
	if rep.Skipped == 0 {
		t.Error("the unsafe cases must be reported as skipped")
	}
	// With Unsafe, the rate-limit cases send their POSTs (to a fresh
	// deployment: the run above spent this client's budget).
	url = deployment(t, yaml, &hits)
	rep, err = selftest.RunTarget(context.Background(), weakened(t, yaml), selftest.TargetOptions{URL: url, Rate: 1000, Unsafe: true,
		Options: selftest.Options{Classes: []string{"rate-limit-evasion"}}})
	if err != nil {
		t.Fatal(err)
	}
	if rc := class(t, rep, "rate-limit-evasion"); rc.Run == 0 || rc.Failed > 0 {
		t.Errorf("rate-limit-evasion against the deployment: %d run, %d failed, want cases run and held:\n%s", rc.Run, rc.Failed, table(rep))
	}
	if hits.Load() == 0 {
		t.Error("with Unsafe the app received nothing; the rate-limit cases did not run")
	}
}
