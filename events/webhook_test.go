package events_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/events"
)

// receiver is a local webhook receiver that records the batches it gets.
type receiver struct {
	mu      sync.Mutex
	batches [][]events.Event
	header  http.Header
	calls   atomic.Int64
}

func (rc *receiver) events() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, b := range rc.batches {
		n += len(b)
	}
	return n
}

func newReceiver(t *testing.T, handle func(w http.ResponseWriter, r *http.Request) bool) (*receiver, *httptest.Server) {
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.calls.Add(1)
		if handle != nil && !handle(w, r) {
			return
		}
		var body struct {
			Events []events.Event `json:"events"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("receiver: %v", err)
		}
		rc.mu.Lock()
		rc.batches = append(rc.batches, body.Events)
		rc.header = r.Header.Clone()
		rc.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return rc, srv
}

type counter struct{ drops, errs atomic.Int64 }

func (c *counter) config(url string) events.WebhookConfig {
	return events.WebhookConfig{URL: url, OnDrop: func(n int) { c.drops.Add(int64(n)) }, OnError: func(error) { c.errs.Add(1) }}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// emitAll emits n events and returns the longest single Emit took.
func emitAll(w *events.Webhook, n int) time.Duration {
	var worst time.Duration
	for i := range n {
		e := ev("ratelimit", "203.0.113.9", "GET /x", "", t0.Add(time.Duration(i)))
		start := time.Now()
		w.Emit(&e)
		worst = max(worst, time.Since(start))
	}
	return worst
}

func TestWebhookBatches(t *testing.T) {
	t.Parallel()
	rc, srv := newReceiver(t, nil)
	var c counter
	cfg := c.config(srv.URL + "/hook")
	cfg.BatchSize, cfg.FlushInterval = 10, 50*time.Millisecond
	cfg.Headers = map[string]string{"Authorization": "Bearer hook-token"}
	w, err := events.NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	emitAll(w, 25)
	waitFor(t, 5*time.Second, func() bool { return rc.events() == 25 })
	rc.mu.Lock()
	for _, b := range rc.batches {
		if len(b) > 10 {
			t.Errorf("batch of %d events, want at most 10", len(b))
		}
	}
	if got := rc.header.Get("Authorization"); got != "Bearer hook-token" {
		t.Errorf("Authorization: got %q", got)
	}
	if got := rc.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q", got)
	}
	rc.mu.Unlock()
	// Close sends what is still queued.
	emitAll(w, 3)
	_ = w.Close()
	if got := rc.events(); got != 28 {
		t.Errorf("after Close: got %d events delivered, want 28", got)
	}
	if c.drops.Load() != 0 || c.errs.Load() != 0 {
		t.Errorf("drops %d, errors %d; want none", c.drops.Load(), c.errs.Load())
	}
}

func TestWebhookSlowReceiver(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rc, srv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	var c counter
	cfg := c.config(srv.URL)
	cfg.BatchSize, cfg.QueueSize, cfg.FlushInterval, cfg.Timeout = 5, 20, 10*time.Millisecond, 10*time.Second
	w, err := events.NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The sender is stuck on the first batch; the queue takes 20; the
	// rest are dropped — and no Emit waits.
	worst := emitAll(w, 1000)
	if worst > 50*time.Millisecond {
		t.Errorf("an Emit took %v with a stalled receiver, want no wait", worst)
	}
	if d := c.drops.Load(); d < 1000-20-5 {
		t.Errorf("drops: got %d, want at least %d", d, 1000-20-5)
	}
	close(release)
	waitFor(t, 10*time.Second, func() bool { return rc.events()+int(c.drops.Load()) == 1000 })
	_ = w.Close()
}

func TestWebhookFailingReceiver(t *testing.T) {
	t.Parallel()
	rc, srv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusInternalServerError)
		return false
	})
	var c counter
	cfg := c.config(srv.URL)
	retries := 2
	cfg.BatchSize, cfg.FlushInterval, cfg.Retries = 10, 10*time.Millisecond, &retries
	w, err := events.NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	events.SetBackoff(w, 5*time.Millisecond)
	if worst := emitAll(w, 10); worst > 50*time.Millisecond {
		t.Errorf("an Emit took %v with a failing receiver", worst)
	}
	waitFor(t, 5*time.Second, func() bool { return c.drops.Load() == 10 })
	if got := rc.calls.Load(); got != 3 {
		t.Errorf("attempts: got %d, want 3 (one and two retries)", got)
	}
	if got := c.errs.Load(); got != 3 {
		t.Errorf("errors counted: got %d, want 3", got)
	}
	_ = w.Close()
}

func TestWebhookReceiverDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there any more
	var c counter
	cfg := c.config("http://" + addr + "/hook")
	none := 0
	cfg.BatchSize, cfg.FlushInterval, cfg.Retries = 100, 10*time.Millisecond, &none
	w, err := events.NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if worst := emitAll(w, 50); worst > 50*time.Millisecond {
		t.Errorf("an Emit took %v with the receiver down", worst)
	}
	waitFor(t, 5*time.Second, func() bool { return c.drops.Load() == 50 })
	if c.errs.Load() == 0 {
		t.Error("no error counted")
	}
	_ = w.Close()
}

func TestWebhookConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []events.WebhookConfig{
		{URL: ""}, {URL: "ftp://x/"}, {URL: "http://"}, {URL: "http://x/", BatchSize: -1},
		{URL: "http://x/", Headers: map[string]string{"Bad Name": "v"}},
		{URL: "http://x/", Headers: map[string]string{"X-Key": "a\r\nInjected: 1"}},
	} {
		if w, err := events.NewWebhook(cfg); err == nil {
			_ = w.Close()
			t.Errorf("NewWebhook(%+v): got no error", cfg)
		}
	}
}
