package limits

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampartsec/rampart/problem"
)

// Defaults of ResetConfig.
const (
	DefaultMaxResets = 100
	DefaultResetPer  = 10 * time.Second
)

// ErrClientGone is returned by ResetGuard.Check for a request whose client
// went away (reset its HTTP/2 stream or closed its connection) before the
// request was started. Nobody reads an answer; none is written.
var ErrClientGone = errors.New("limits: client gone before the request started")

// ErrTooManyResets is returned by ResetGuard.Check for a request on a
// connection whose client reset more streams than its budget allows. The
// connection is being closed; servers answer 429 with Connection: close.
var ErrTooManyResets = errors.New("limits: too many streams reset on this connection")

// ResetConfig configures a ResetGuard. The zero value of each field is its
// documented default.
type ResetConfig struct {
	// MaxResets is how many streams a client may reset on one HTTP/2
	// connection within Per (a token bucket: MaxResets at once, refilled
	// evenly over Per); the reset that spends it makes the connection's
	// remaining requests refused and closes it with GOAWAY (the client may
	// open another). A reset of a request that had started costly work
	// (see Finish) counts as an eighth of MaxResets, so at most eight such
	// requests are abandoned per connection. Default 100.
	MaxResets int
	// Per is the period over which MaxResets refills. Default 10s.
	Per time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// OnExceeded, when set, is called once per connection, with the
	// request that used up the budget, when the guard starts closing it.
	OnExceeded func(r *http.Request)
}

// ResetGuard bounds the work one HTTP/2 connection can cause by resetting
// streams (rapid reset): it counts, per connection, the requests whose
// client went away before they finished, and past the budget refuses the
// connection's remaining requests and closes it with GOAWAY. Connections
// must be tracked with ConnContext. It is safe for concurrent use.
type ResetGuard struct {
	max        float64
	rate       float64 // tokens per second
	now        func() time.Time
	onExceeded func(*http.Request)
}

// NewResetGuard returns a ResetGuard for c.
func NewResetGuard(c ResetConfig) (*ResetGuard, error) {
	if c.MaxResets < 0 || c.Per < 0 {
		return nil, errors.New("limits: reset budget must not be negative")
	}
	n := c.MaxResets
	if n == 0 {
		n = DefaultMaxResets
	}
	per := c.Per
	if per == 0 {
		per = DefaultResetPer
	}
	g := &ResetGuard{max: float64(n), rate: float64(n) / per.Seconds(), now: c.Now, onExceeded: c.OnExceeded}
	if g.now == nil {
		g.now = time.Now
	}
	return g, nil
}

type connKey struct{}

// connState is one connection's reset budget.
type connState struct {
	mu      sync.Mutex
	tokens  float64
	last    time.Time
	started bool
	closing atomic.Bool
}

// ConnContext returns ctx carrying the reset budget of connection c. Use it
// as (or call it from) http.Server.ConnContext; every HTTP/2 stream of the
// connection shares it. Guards of successive configurations read the same
// budget.
func ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{})
}

func stateOf(r *http.Request) *connState {
	st, _ := r.Context().Value(connKey{}).(*connState)
	return st
}

// Check reports whether r should be served: ErrClientGone when its client
// is already gone, and ErrTooManyResets when its connection is being
// closed for resets. It writes no response and counts nothing; Finish,
// which must follow every Check, counts.
func (g *ResetGuard) Check(r *http.Request) error {
	if r.Context().Err() != nil {
		return ErrClientGone
	}
	if st := stateOf(r); st != nil && st.closing.Load() {
		return ErrTooManyResets
	}
	return nil
}

// Finish is called when r's handler is done. A request whose client went
// away while it ran counts as a reset on an HTTP/2 connection; costly
// reports whether r had started work that costs more than the server's
// own — in a proxy, a request sent to the upstream — and such a reset
// counts as an eighth of the budget. When the connection is being closed
// for resets and w has not sent its header yet, Finish sets Connection:
// close, which makes Go's HTTP/2 server send GOAWAY (and an HTTP/1 server
// close the connection).
func (g *ResetGuard) Finish(w http.ResponseWriter, r *http.Request, costly bool) {
	st := stateOf(r)
	if st == nil {
		return
	}
	if r.Context().Err() != nil && r.ProtoMajor == 2 {
		cost := 1.0
		if costly {
			cost = max(g.max/8, 1)
		}
		g.count(st, r, cost)
	}
	if st.closing.Load() {
		w.Header().Set("Connection", "close")
	}
}

// count takes cost from st's budget and marks the connection closing when
// the budget is spent.
func (g *ResetGuard) count(st *connState, r *http.Request, cost float64) {
	now := g.now()
	st.mu.Lock()
	if !st.started {
		st.started, st.tokens = true, g.max
	} else if el := now.Sub(st.last).Seconds(); el > 0 {
		st.tokens = min(g.max, st.tokens+el*g.rate)
	}
	st.last = now
	st.tokens -= cost
	exceeded := st.tokens <= 0 && !st.closing.Load()
	if exceeded {
		st.closing.Store(true)
	}
	st.mu.Unlock()
	if exceeded && g.onExceeded != nil {
		g.onExceeded(r)
	}
}

// Handler returns a handler that applies Check before next and Finish
// after it: a request whose client is gone is not started, and one on a
// connection over its reset budget gets 429 with Connection: close.
func (g *ResetGuard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer g.Finish(w, r, false)
		switch g.Check(r) {
		case nil:
		case ErrTooManyResets:
			g.Refuse(w, r)
			return
		default:
			return
		}
		next.ServeHTTP(w, r)
	})
}

var retryAfterOne = []string{"1"}

// Refuse answers a request refused with ErrTooManyResets: 429 with
// Retry-After and Connection: close, as a neutral problem response (policy
// "limits").
func (g *ResetGuard) Refuse(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Connection", "close")
	h["Retry-After"] = retryAfterOne
	problem.Write(w, r, problem.Problem{Status: http.StatusTooManyRequests, Policy: "limits", Reason: "max_stream_resets"})
}
