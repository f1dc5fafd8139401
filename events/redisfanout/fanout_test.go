package redisfanout_test

import (
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/events"
	"github.com/rampartsec/rampart/events/redisfanout"
	"github.com/rampartsec/rampart/internal/testutil"
)

// inbox collects the events a fan-out receives.
type inbox struct {
	mu  sync.Mutex
	got []events.Event
}

func (b *inbox) Emit(e *events.Event) {
	b.mu.Lock()
	b.got = append(b.got, *e)
	b.mu.Unlock()
}

func (b *inbox) ids() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.got {
		out = append(out, e.ID)
	}
	return out
}

func has(ids []string, id string) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func TestFanoutBetweenInstances(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRedis(t)
	mk := func(name string, box *inbox) *redisfanout.Fanout {
		f, err := redisfanout.New(redisfanout.Config{Client: srv.Client(t), Channel: "rampart:test:events",
			Instance: name, Receive: box, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.Close() })
		return f
	}
	var boxA, boxB inbox
	a, b := mk("a", &boxA), mk("b", &boxB)
	// Subscriptions are made in the background: publish until B hears.
	send := func(f *redisfanout.Fanout, instance, id string) {
		e := events.Event{Time: time.Now(), ID: id, Instance: instance, Policy: "csrf", Decision: "deny", Reason: "origin_mismatch"}
		f.Emit(&e)
	}
	if !testutil.WaitFor(10*time.Second, func() bool {
		send(a, "a", "warmup")
		time.Sleep(50 * time.Millisecond)
		return has(boxB.ids(), "warmup")
	}) {
		t.Fatal("instance b never received instance a's event")
	}
	send(a, "a", "from-a")
	send(b, "b", "from-b")
	if !testutil.WaitFor(5*time.Second, func() bool { return has(boxB.ids(), "from-a") && has(boxA.ids(), "from-b") }) {
		t.Fatalf("a got %v, b got %v", boxA.ids(), boxB.ids())
	}
	if has(boxA.ids(), "from-a") || has(boxB.ids(), "from-b") {
		t.Errorf("an instance received its own event: a %v, b %v", boxA.ids(), boxB.ids())
	}

	// Redis restarts: the subscription comes back by itself.
	srv.Stop()
	srv.Restart()
	if !testutil.WaitFor(20*time.Second, func() bool {
		send(a, "a", "after-restart")
		time.Sleep(100 * time.Millisecond)
		return has(boxB.ids(), "after-restart")
	}) {
		t.Fatalf("no event after Redis restarted; b got %v", boxB.ids())
	}
}

func TestFanoutRedisDown(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRedis(t)
	cl := srv.Client(t)
	srv.Stop()
	var drops int
	var mu sync.Mutex
	var box inbox
	f, err := redisfanout.New(redisfanout.Config{Client: cl, Channel: "c", Instance: "a", Receive: &box,
		QueueSize: 10, Timeout: 100 * time.Millisecond,
		OnDrop: func(n int) { mu.Lock(); drops += n; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	for range 500 {
		e := events.Event{Time: time.Now(), Instance: "a", Policy: "auth", Decision: "deny"}
		f.Emit(&e)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("500 emits took %v with Redis down, want no wait", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if drops < 400 {
		t.Errorf("drops: got %d, want most of 500 counted", drops)
	}
}

func TestFanoutConfig(t *testing.T) {
	t.Parallel()
	if _, err := redisfanout.New(redisfanout.Config{}); err == nil {
		t.Error("empty config: got no error")
	}
}
