package limits

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrOverloaded is returned by Gate.Acquire, and by Limiter for the global
// limit, when no slot was free and the queue was full or the wait for a
// slot timed out. Servers answer it with 503 and Retry-After.
var ErrOverloaded = errors.New("limits: overloaded")

// Capacity is how much work a Gate admits: Max at once, then Queue more
// waiting in arrival order for at most Timeout each.
type Capacity struct {
	// Max is how many holders a Gate admits at once. Zero or less means no
	// limit.
	Max int
	// Queue is how many callers may wait for a slot; the next one is
	// refused at once. Zero means no queue.
	Queue int
	// Timeout bounds each wait in the queue. Zero or less refuses at once
	// instead of waiting.
	Timeout time.Duration
}

// Gate admits a bounded number of holders at once, with a bounded FIFO
// queue for the callers that arrive while it is full. Its capacity is given
// with each Acquire, so a reconfigured server applies the new capacity to
// the holders the old one admitted. The zero value is an empty Gate ready
// to use; a Gate is safe for concurrent use and must not be copied.
type Gate struct {
	mu      sync.Mutex
	held    int
	max     int // the capacity of the latest Acquire, for Release
	waiters []*waiter
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

// Acquire takes a slot of g and returns nil, or returns ErrOverloaded when
// c has none free and its queue is full or the wait timed out, or ctx's
// error when ctx ended first (also before the call: a caller whose client
// is gone is never admitted). Each nil result must be matched by exactly
// one Release.
func (g *Gate) Acquire(ctx context.Context, c Capacity) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.Lock()
	g.max = c.Max
	// A capacity raised since the last call admits waiters first, in
	// order.
	for len(g.waiters) > 0 && (c.Max <= 0 || g.held < c.Max) {
		g.held++
		g.grantFirst()
	}
	if c.Max <= 0 || (g.held < c.Max && len(g.waiters) == 0) {
		g.held++
		g.mu.Unlock()
		return nil
	}
	if len(g.waiters) >= c.Queue || c.Timeout <= 0 {
		g.mu.Unlock()
		return ErrOverloaded
	}
	w := &waiter{ready: make(chan struct{})}
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()

	t := time.NewTimer(c.Timeout)
	defer t.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.C:
		err = ErrOverloaded
	}
	g.mu.Lock()
	if w.granted {
		// Granted while giving up: the slot is ours. A caller whose
		// client left hands it on; one that timed out keeps it, since it
		// was admitted in time after all.
		g.mu.Unlock()
		if err == ErrOverloaded {
			return nil
		}
		g.Release()
		return err
	}
	for i, x := range g.waiters {
		if x == w {
			g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
			break
		}
	}
	g.mu.Unlock()
	return err
}

// Release gives back a slot taken by Acquire: to the first waiter in the
// queue when the capacity allows, otherwise to the Gate.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiters) > 0 && (g.max <= 0 || g.held <= g.max) {
		// The slot passes to the first waiter: held stays the same.
		g.grantFirst()
		return
	}
	if g.held > 0 {
		g.held--
	}
}

// Held returns how many slots are taken.
func (g *Gate) Held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// Waiting returns how many callers wait in the queue.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.waiters)
}

// grantFirst hands a slot to the first waiter. g.mu must be held.
func (g *Gate) grantFirst() {
	w := g.waiters[0]
	g.waiters[0] = nil
	g.waiters = g.waiters[1:]
	w.granted = true
	close(w.ready)
}
