package ratelimit

import (
	"math"
	"time"
)

// Result is one quota's decision.
type Result struct {
	// Allowed reports whether the units were taken.
	Allowed bool
	// Remaining is how many more units the key could take right now.
	Remaining int64
	// Reset is how long until the key's whole budget is available again.
	Reset time.Duration
	// RetryAfter is how long until the refused request would be allowed;
	// zero when Allowed.
	RetryAfter time.Duration
}

// State is one quota's stored state for one key. For GCRA, A is the
// theoretical arrival time in Unix microseconds; for the sliding window, A
// is the start of the current window and B and C are the counts of the
// previous and current windows. Store implementations keep it opaque.
type State struct{ A, B, C int64 }

// Decide applies q to the state s (found reports whether one was stored) at
// now, in Unix microseconds, taking n units. It returns the state to store,
// the instant after which that state is indistinguishable from no state
// (so it may be deleted), whether to store it at all, and the decision.
//
// Decide is the reference every Store must agree with; the Redis store's
// script mirrors it operation for operation, and the conformance suite in
// package storetest checks that they agree.
func Decide(q *Quota, s State, found bool, now, n int64) (next State, expires int64, write bool, res Result) {
	if q.Algorithm == SlidingWindow {
		return decideWindow(q, s, found, now, n)
	}
	return decideGCRA(q, s, found, now, n)
}

func decideGCRA(q *Quota, s State, found bool, now, n int64) (State, int64, bool, Result) {
	tat := now
	if found && s.A > now {
		tat = s.A
	}
	tau := q.Interval * q.Burst
	newTat := tat + n*q.Interval
	allowAt := newTat - tau
	if allowAt > now {
		return s, tat, false, Result{
			Remaining:  max(0, (now+tau-tat)/q.Interval),
			Reset:      micros(tat - now),
			RetryAfter: micros(allowAt - now),
		}
	}
	return State{A: newTat}, newTat, true, Result{
		Allowed:   true,
		Remaining: (now + tau - newTat) / q.Interval,
		Reset:     micros(newTat - now),
	}
}

func decideWindow(q *Quota, s State, found bool, now, n int64) (State, int64, bool, Result) {
	w, limit := q.Per, q.Limit
	start := now - now%w
	var prev, curr int64
	if found {
		switch s.A {
		case start:
			prev, curr = s.B, s.C
		case start - w:
			prev = s.C
		}
	}
	elapsed := now - start
	est := float64(prev)*float64(w-elapsed)/float64(w) + float64(curr)
	if est+float64(n) <= float64(limit) {
		curr += n
		return State{A: start, B: prev, C: curr}, start + 2*w, true, Result{
			Allowed:   true,
			Remaining: max(0, int64(math.Floor(float64(limit)-est-float64(n)))),
			Reset:     micros(start + 2*w - now),
		}
	}
	var retry int64
	if curr+n <= limit {
		// Enough room in this window once the previous one has faded.
		need := float64(w) - float64(limit-curr-n)*float64(w)/float64(prev)
		retry = max(1, int64(math.Ceil(need))-elapsed)
	} else {
		// Only the next window has room, once this one has faded enough.
		need := 0.0
		if curr > 0 { // curr is 0 only for n > limit, which callers refuse first
			need = max(0, float64(w)-float64(limit-n)*float64(w)/float64(curr))
		}
		retry = start + w - now + int64(math.Ceil(need))
	}
	var reset int64
	switch {
	case curr > 0:
		reset = start + 2*w - now
	case prev > 0:
		reset = start + w - now
	}
	return s, 0, false, Result{
		Remaining:  max(0, int64(math.Floor(float64(limit)-est))),
		Reset:      micros(reset),
		RetryAfter: micros(retry),
	}
}

func micros(us int64) time.Duration {
	return time.Duration(us) * time.Microsecond
}
