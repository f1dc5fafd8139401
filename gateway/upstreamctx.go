package gateway

import (
	"context"
	"sync"
	"time"
)

// limits.write_timeout must also end the upstream exchange: the server's
// write deadline fails writes to the client but cannot interrupt a read
// from an upstream that stalls in the middle of a response, which would
// otherwise hold the request and an upstream connection for as long as it
// stalls. context.WithTimeout per request did that with a runtime timer per
// request, set and stopped on every request. The reaper does it with one
// timer per proxy: each exchange's cancel function is linked into one list
// (in deadline order, since every exchange has the same timeout) and the
// timer, armed only while the list is not empty, cancels the exchanges
// whose deadline has passed, at most one tick late. The exchange's context
// is still a child of the request's, so a client that goes away (a reset
// HTTP/2 stream) cancels the upstream exchange at once.

// watchNode is an exchange's place in its reaper's list. It lives in the
// exchange's pooled hintsGuard, so watching allocates nothing.
type watchNode struct {
	deadline   time.Time
	cancel     context.CancelCauseFunc
	prev, next *watchNode
	listed     bool
}

// reaper cancels the exchanges of one proxy that outlive its timeout. It
// is safe for concurrent use.
type reaper struct {
	timeout time.Duration
	tick    time.Duration
	now     func() time.Time

	mu         sync.Mutex
	head, tail *watchNode
	timer      *time.Timer
	armed      bool
}

// newReaper returns a reaper for exchanges that may last timeout. It
// sweeps every tenth of the timeout, at least every 100 ms and at most
// every 10 ms: an exchange is cut at most that long after its deadline.
func newReaper(timeout time.Duration) *reaper {
	return &reaper{timeout: timeout, tick: min(max(timeout/10, 10*time.Millisecond), 100*time.Millisecond), now: time.Now}
}

// watch lists n, whose exchange cancel ends, until finish.
func (rp *reaper) watch(n *watchNode, cancel context.CancelCauseFunc) {
	rp.mu.Lock()
	n.deadline, n.cancel = rp.now().Add(rp.timeout), cancel
	n.prev, n.next, n.listed = rp.tail, nil, true
	if rp.tail != nil {
		rp.tail.next = n
	} else {
		rp.head = n
	}
	rp.tail = n
	if !rp.armed {
		rp.armed = true
		if rp.timer == nil {
			rp.timer = time.AfterFunc(rp.tick, rp.sweep)
		} else {
			rp.timer.Reset(rp.tick)
		}
	}
	rp.mu.Unlock()
}

// finish takes n off the list once its exchange is over.
func (rp *reaper) finish(n *watchNode) {
	rp.mu.Lock()
	rp.unlink(n)
	rp.mu.Unlock()
}

func (rp *reaper) unlink(n *watchNode) {
	if !n.listed {
		return
	}
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		rp.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		rp.tail = n.prev
	}
	n.prev, n.next, n.listed, n.cancel = nil, nil, false, nil
}

// sweep cancels the exchanges past their deadline — the oldest, at the head
// — then re-arms the timer while anything is listed.
func (rp *reaper) sweep() {
	now := rp.now()
	var due []context.CancelCauseFunc
	rp.mu.Lock()
	for rp.head != nil && !now.Before(rp.head.deadline) {
		due = append(due, rp.head.cancel)
		rp.unlink(rp.head)
	}
	if rp.head != nil {
		rp.timer.Reset(rp.tick)
	} else {
		rp.armed = false
	}
	rp.mu.Unlock()
	// Outside the lock: cancelling runs the transport's callbacks. The
	// functions were copied under it, so a node reused meanwhile by
	// another request is not affected.
	for _, cancel := range due {
		cancel(context.DeadlineExceeded)
	}
}
