package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampartsec/rampart/events"
	"github.com/rampartsec/rampart/internal/testutil"
)

// TestTwoGatewaysShareEvents runs two real `rampart serve` processes on one
// real redis-server: a refusal on either appears in the other's /events
// and on its live stream within two seconds, and each instance names
// itself in its events.
func TestTwoGatewaysShareEvents(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	up := echoUpstream(t)
	bin := testutil.BuildRampart(t)
	dir := t.TempDir()
	type proc struct{ url, admin string }
	var procs []proc
	for i := range 2 {
		listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
		cfg := filepath.Join(dir, fmt.Sprintf("r%d.yaml", i))
		body := fmt.Sprintf("listen: %q\nadmin: {listen: %q}\nupstream: %q\nstore: {redis: %q, redis_timeout: 5s}\nlog: {access: false}\nevents: {instance: gw%d}\nroutes: [{match: \"GET /x\"}]\n",
			listen, admin, up.URL, rd.URL(), i)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", "--config", cfg)
		logs := &testutil.Buffer{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		procs = append(procs, proc{"http://" + listen, "http://" + admin})
		if !testutil.WaitFor(10*time.Second, func() bool {
			resp, err := http.Get("http://" + admin + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		}) {
			t.Fatalf("gateway %d did not start:\n%s", i, logs)
		}
	}
	refuse := func(p proc) string {
		t.Helper()
		resp, err := http.Get(p.url + "/not-routed")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("got %d, want 404", resp.StatusCode)
		}
		return resp.Header.Get("X-Request-Id")
	}
	find := func(p proc, id string) (events.Event, bool) {
		resp, err := http.Get(p.admin + "/events?policy=routes&limit=1000")
		if err != nil {
			return events.Event{}, false
		}
		defer resp.Body.Close()
		var res struct{ Events []events.Event }
		_ = json.NewDecoder(resp.Body).Decode(&res)
		for _, e := range res.Events {
			if e.ID == id {
				return e, true
			}
		}
		return events.Event{}, false
	}
	// The subscriptions are made in the background at start: wait until
	// each side hears the other once.
	for i, p := range procs {
		other := procs[1-i]
		if !testutil.WaitFor(15*time.Second, func() bool {
			id := refuse(p)
			time.Sleep(100 * time.Millisecond)
			_, ok := find(other, id)
			return ok
		}) {
			t.Fatalf("gateway %d never saw gateway %d's refusals", 1-i, i)
		}
	}

	bound := 2 * time.Second
	if testutil.RaceEnabled {
		bound = 4 * time.Second
	}
	for i, p := range procs {
		other := procs[1-i]
		id := refuse(p)
		sent := time.Now()
		var e events.Event
		if !testutil.WaitFor(bound, func() bool {
			var ok bool
			e, ok = find(other, id)
			return ok
		}) {
			t.Fatalf("gateway %d's refusal %s did not reach gateway %d within %v", i, id, 1-i, bound)
		}
		t.Logf("gateway %d's refusal appeared in gateway %d's /events after %v", i, 1-i, time.Since(sent))
		if e.Instance != fmt.Sprintf("gw%d", i) || e.Policy != "routes" || e.Status != 404 {
			t.Errorf("event: got %+v", e)
		}
		// The instance that refused has it too, once.
		n := 0
		resp, _ := http.Get(p.admin + "/events?policy=routes&limit=1000")
		var res struct{ Events []events.Event }
		_ = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		for _, e := range res.Events {
			if e.ID == id {
				n++
			}
		}
		if n != 1 {
			t.Errorf("gateway %d holds its own event %d times, want once", i, n)
		}
	}

	// Live: gateway 1's stream shows gateway 0's refusal.
	resp, err := http.Get(procs[1].admin + "/events/stream?policy=routes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stream := readSSE(resp)
	id := refuse(procs[0])
	sent := time.Now()
	deadline := time.After(bound)
	for {
		select {
		case e, ok := <-stream:
			if !ok {
				t.Fatal("stream ended")
			}
			var ev events.Event
			if e.event != "event" || json.Unmarshal([]byte(e.data), &ev) != nil || ev.ID != id {
				continue
			}
			t.Logf("on gateway 1's stream after %v", time.Since(sent))
			return
		case <-deadline:
			t.Fatalf("gateway 0's refusal not on gateway 1's stream within %v", bound)
		}
	}
}
