package gateway

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// manualClock is a clock the test moves by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func isDone(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// A stalled exchange is cut at its deadline with DeadlineExceeded as the
// cause; one that finished in time is never cancelled; the timer stops
// once nothing is watched.
func TestReaperCutsAtTheDeadline(t *testing.T) {
	clock := &manualClock{t: time.Unix(1_700_000_000, 0)}
	rp := newReaper(time.Second)
	rp.now = clock.now
	var stalled, quick, later watchNode
	sctx, scancel := context.WithCancelCause(context.Background())
	qctx, qcancel := context.WithCancelCause(context.Background())
	rp.watch(&stalled, scancel)
	rp.watch(&quick, qcancel)
	clock.add(500 * time.Millisecond)
	lctx, lcancel := context.WithCancelCause(context.Background())
	rp.watch(&later, lcancel)
	rp.finish(&quick)

	clock.add(499 * time.Millisecond)
	rp.sweep()
	if isDone(sctx) {
		t.Fatal("cancelled before its deadline")
	}
	clock.add(time.Millisecond)
	rp.sweep()
	if !isDone(sctx) || !errors.Is(context.Cause(sctx), context.DeadlineExceeded) {
		t.Fatalf("at the deadline: got cause %v, want DeadlineExceeded", context.Cause(sctx))
	}
	if isDone(qctx) {
		t.Error("a finished exchange was cancelled")
	}
	if isDone(lctx) {
		t.Error("a later exchange was cancelled with an earlier one")
	}
	clock.add(500 * time.Millisecond)
	rp.sweep()
	if !isDone(lctx) {
		t.Error("the later exchange was not cancelled at its deadline")
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.head != nil || rp.tail != nil || rp.armed {
		t.Error("the list is not empty, or the timer still armed, after the sweeps")
	}
	if stalled.listed || quick.listed || later.listed || stalled.cancel != nil {
		t.Error("nodes still marked as listed")
	}
}

// Nodes leave the list from anywhere in it.
func TestReaperFinishInTheMiddle(t *testing.T) {
	rp := newReaper(time.Hour)
	nodes := make([]watchNode, 5)
	for i := range nodes {
		rp.watch(&nodes[i], func(error) {})
	}
	for _, i := range []int{2, 0, 4, 1, 3} {
		rp.finish(&nodes[i])
	}
	rp.finish(&nodes[2]) // twice is harmless
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.head != nil || rp.tail != nil {
		t.Error("the list is not empty")
	}
	rp.timer.Stop()
}

// The real timer sweeps on its own, within a tick of the deadline.
func TestReaperTimer(t *testing.T) {
	rp := newReaper(50 * time.Millisecond)
	var n watchNode
	ctx, cancel := context.WithCancelCause(context.Background())
	rp.watch(&n, cancel)
	defer rp.finish(&n)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("not cancelled by the timer")
	}
}
