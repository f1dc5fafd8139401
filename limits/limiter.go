package limits

import (
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/rampartsec/rampart/problem"
)

// Defaults of Config.
const (
	DefaultMaxInflightPerClient = 128
	DefaultMaxInflight          = 4096
	DefaultMaxQueue             = 256
	DefaultQueueTimeout         = time.Second
)

// ErrClientBusy is returned by Limiter.Admit when the request's client
// already has its limit of requests in flight. Servers answer it with 429
// and Retry-After.
var ErrClientBusy = errors.New("limits: too many requests in flight for this client")

// Config configures a Limiter. The zero value of each field is its
// documented default.
type Config struct {
	// MaxInflightPerClient is how many requests one client may have in
	// flight at once; the next gets 429 at once. Default 128, more than a
	// browser keeps running on one page; negative means no limit.
	MaxInflightPerClient int
	// MaxInflight is how many requests all clients together may have in
	// flight at once; the next ones wait in the queue. Default 4096;
	// negative means no limit.
	MaxInflight int
	// MaxQueue is how many requests may wait for one of MaxInflight's
	// slots; the next gets 503 at once. Default 256; negative means no
	// queue.
	MaxQueue int
	// QueueTimeout bounds a wait in the queue; then 503. Default 1s.
	QueueTimeout time.Duration
	// RetryAfter is the Retry-After of refusals, rounded up to whole
	// seconds. Default 1s.
	RetryAfter time.Duration
	// ClientIP returns a request's client address. Default: the TCP peer.
	// Pass a clientip.Resolver's ClientIP behind trusted proxies.
	ClientIP func(*http.Request) netip.Addr
	// OnRefuse, when set, is called for each request refused, with
	// ErrClientBusy or ErrOverloaded, before the response is written.
	OnRefuse func(r *http.Request, err error)
	// State holds the counts. Limiters built from successive
	// configurations of one server share one State, so the new limits
	// apply to what the old ones admitted. Nil: the Limiter's own.
	State *State
}

// State is what a Limiter counts: requests in flight per client and the
// global gate with its queue. It is safe for concurrent use.
type State struct {
	clients *Counter
	global  Gate
}

// NewState returns an empty State.
func NewState() *State { return &State{clients: NewCounter()} }

// InFlight returns the requests in flight now, all clients together.
func (s *State) InFlight() int { return s.clients.Total() }

// Waiting returns the requests waiting in the global queue now.
func (s *State) Waiting() int { return s.global.Waiting() }

// Limiter bounds the requests in flight per client and overall. Create it
// with New; it is safe for concurrent use.
type Limiter struct {
	perClient  int
	global     Capacity
	clientIP   func(*http.Request) netip.Addr
	onRefuse   func(*http.Request, error)
	state      *State
	retryAfter []string
}

// New returns a Limiter for c. It returns an error if c is invalid.
func New(c Config) (*Limiter, error) {
	if c.QueueTimeout < 0 || c.RetryAfter < 0 {
		return nil, errors.New("limits: durations must not be negative")
	}
	l := &Limiter{
		perClient: orDefault(c.MaxInflightPerClient, DefaultMaxInflightPerClient),
		global: Capacity{
			Max:     orDefault(c.MaxInflight, DefaultMaxInflight),
			Queue:   orDefault(c.MaxQueue, DefaultMaxQueue),
			Timeout: c.QueueTimeout,
		},
		clientIP: c.ClientIP,
		onRefuse: c.OnRefuse,
		state:    c.State,
	}
	if l.global.Timeout == 0 {
		l.global.Timeout = DefaultQueueTimeout
	}
	if l.global.Queue < 0 {
		l.global.Queue = 0
	}
	if l.state == nil {
		l.state = NewState()
	}
	if l.clientIP == nil {
		l.clientIP = peerOf
	}
	ra := c.RetryAfter
	if ra == 0 {
		ra = time.Second
	}
	l.retryAfter = []string{strconv.FormatInt(int64((ra+time.Second-1)/time.Second), 10)}
	return l, nil
}

// orDefault maps zero to def and a negative value to 0 (no limit).
func orDefault(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func peerOf(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// Ticket is an admitted request's hold on a Limiter; Release it when the
// request is done. The zero Ticket holds nothing.
type Ticket struct {
	l   *Limiter
	key netip.Addr
}

// Release gives back what the request held. It must be called once.
func (t Ticket) Release() {
	if t.l == nil {
		return
	}
	t.l.state.global.Release()
	t.l.state.clients.Release(t.key)
}

// Admit counts r in flight for its client and overall, waiting in the
// global queue if it must. It returns ErrClientBusy when the client is at
// its limit (nothing waits: the client's own requests are what hold it
// up), ErrOverloaded when the global queue is full or the wait timed out,
// and the request context's error when the client went away first. It
// writes no response.
func (l *Limiter) Admit(r *http.Request) (Ticket, error) {
	if err := r.Context().Err(); err != nil {
		return Ticket{}, err
	}
	key := ClientKey(l.clientIP(r))
	if !l.state.clients.Acquire(key, l.perClient) {
		return Ticket{}, ErrClientBusy
	}
	if err := l.state.global.Acquire(r.Context(), l.global); err != nil {
		l.state.clients.Release(key)
		return Ticket{}, err
	}
	return Ticket{l: l, key: key}, nil
}

// Refuse writes the answer to an Admit error: 429 for ErrClientBusy, 503
// for ErrOverloaded, both with Retry-After, as neutral problem responses
// (policy "limits"). For any other error — the client is gone — it writes
// nothing.
func (l *Limiter) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	// The reasons are the settings that refused, as metrics name them.
	status, reason := http.StatusServiceUnavailable, "max_inflight"
	switch err {
	case ErrClientBusy:
		status, reason = http.StatusTooManyRequests, "max_inflight_per_client"
	case ErrOverloaded:
	default:
		return
	}
	if l.onRefuse != nil {
		l.onRefuse(r, err)
	}
	w.Header()["Retry-After"] = l.retryAfter
	problem.Write(w, r, problem.Problem{Status: status, Policy: "limits", Reason: reason})
}

// Handler returns a handler that admits each request before calling next,
// refuses it as Refuse describes, and skips next for a client that is
// already gone.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := l.Admit(r)
		if err != nil {
			l.Refuse(w, r, err)
			return
		}
		defer t.Release()
		next.ServeHTTP(w, r)
	})
}
