package events

import (
	"sync"
	"sync/atomic"
)

// DefaultRingSize is how many events a Ring keeps by default.
const DefaultRingSize = 10000

// subscriberBuffer is how many events a live subscriber may fall behind
// before it misses some.
const subscriberBuffer = 256

// Ring keeps the last N events in memory for queries, and hands every new
// one to live subscribers. It is safe for concurrent use.
type Ring struct {
	mu   sync.Mutex
	buf  []Event
	next int // index of the next write
	full bool
	seq  uint64
	subs map[*Subscription]struct{}
}

// NewRing returns a Ring keeping the last size events; size <= 0 means
// DefaultRingSize.
func NewRing(size int) *Ring {
	if size <= 0 {
		size = DefaultRingSize
	}
	return &Ring{buf: make([]Event, size), subs: map[*Subscription]struct{}{}}
}

// Size returns how many events the ring can hold.
func (r *Ring) Size() int { return len(r.buf) }

// Emit implements Sink: it adds a copy of e.
func (r *Ring) Emit(e *Event) { r.Add(*e) }

// Add stores e with the next sequence number, replacing the oldest event
// when the ring is full, hands it to every subscriber that keeps up, and
// returns it as stored. It never blocks on a subscriber.
func (r *Ring) Add(e Event) Event {
	r.mu.Lock()
	r.seq++
	e.Seq = r.seq
	r.buf[r.next] = e
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
	for s := range r.subs {
		select {
		case s.c <- e:
		default:
			s.missed.Add(1)
		}
	}
	r.mu.Unlock()
	return e
}

// each calls fn on the stored events, newest first, until it returns false.
// r.mu must be held.
func (r *Ring) each(fn func(e *Event) bool) {
	n := r.next
	if r.full {
		n = len(r.buf)
	}
	for i := range n {
		j := r.next - 1 - i
		if j < 0 {
			j += len(r.buf)
		}
		if !fn(&r.buf[j]) {
			return
		}
	}
}

// Query returns the stored events that match f, newest first, at most
// f.Limit (default 100, at most 1000) of them.
func (r *Ring) Query(f Filter) []Event {
	limit := f.limit()
	out := make([]Event, 0, min(limit, 64))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.each(func(e *Event) bool {
		if f.Match(e) {
			out = append(out, *e)
		}
		return len(out) < limit
	})
	return out
}

// After returns the stored events with a sequence number above seq that
// match f, oldest first: what a subscriber that last saw seq missed. It
// returns at most the ring's size.
func (r *Ring) After(seq uint64, f Filter) []Event {
	var out []Event
	r.mu.Lock()
	defer r.mu.Unlock()
	r.each(func(e *Event) bool {
		if e.Seq <= seq {
			return false
		}
		if f.Match(e) {
			out = append(out, *e)
		}
		return true
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Subscription is a live feed of the events added to a Ring.
type Subscription struct {
	r      *Ring
	c      chan Event
	missed atomic.Uint64
	once   sync.Once
}

// Subscribe starts a live feed of new events, and returns with it the
// sequence number of the newest event stored now: events up to it are in
// the ring, events after it arrive on the feed. Close it when done.
func (r *Ring) Subscribe() (*Subscription, uint64) {
	s := &Subscription{r: r, c: make(chan Event, subscriberBuffer)}
	r.mu.Lock()
	r.subs[s] = struct{}{}
	seq := r.seq
	r.mu.Unlock()
	return s, seq
}

// C delivers the events. A subscriber that falls more than a few hundred
// events behind misses the newer ones (see Missed); the ring never waits.
func (s *Subscription) C() <-chan Event { return s.c }

// Missed returns how many events the subscriber missed by falling behind.
func (s *Subscription) Missed() uint64 { return s.missed.Load() }

// Close ends the feed.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.r.mu.Lock()
		delete(s.r.subs, s)
		s.r.mu.Unlock()
	})
}
