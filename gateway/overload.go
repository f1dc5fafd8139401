package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/upgrade"
	"github.com/rampartsec/rampart/limits"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

// Limit names, as in the configuration and in
// rampart_limit_rejections_total{limit}.
const (
	limitConnsPerClient    = "max_conns_per_client"
	limitInflightPerClient = "max_inflight_per_client"
	limitInflight          = "max_inflight"
	limitUpstreamInflight  = "max_upstream_inflight"
	limitStreamResets      = "max_stream_resets"
)

// resetPeriod is the period of limits.max_stream_resets.
const resetPeriod = 10 * time.Second

// overload is what the gateway counts to keep one client from holding too
// much of it and all clients from overloading it or the upstreams:
// connections per client, requests in flight per client and overall, and
// requests in flight per upstream. It lives as long as the Gateway, so a
// reload applies new limits to what the old configuration admitted.
type overload struct {
	log      *slog.Logger
	conns    *limits.Counter
	requests *limits.State

	mu        sync.Mutex
	upstreams map[string]*upstreamGate

	rejections       *prometheus.CounterVec
	denials          *prometheus.CounterVec
	upstreamInflight *prometheus.GaugeVec
	// connLog samples the log lines of refused connections: a client
	// opening connections in a loop must not turn into a log flood.
	connLog sampler
}

// upstreamGate bounds the requests in flight to one upstream.
type upstreamGate struct {
	gate     limits.Gate
	inflight prometheus.Gauge
}

func newOverload(reg prometheus.Registerer, log *slog.Logger, m *metrics) (*overload, error) {
	o := &overload{
		log:       log,
		conns:     limits.NewCounter(),
		requests:  limits.NewState(),
		upstreams: map[string]*upstreamGate{},
		denials:   m.denials,
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_limit_rejections_total",
			Help: "Connections and requests refused by an overload or abuse limit, by limit: max_conns_per_client, max_inflight_per_client, max_inflight, max_upstream_inflight, max_stream_resets.",
		}, []string{"limit"}),
		upstreamInflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rampart_upstream_requests_in_flight",
			Help: "Requests in flight to each upstream (bounded by limits.max_upstream_inflight).",
		}, []string{"upstream"}),
	}
	open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rampart_connections_open",
		Help: "Connections open on the public listeners (bounded per client by limits.max_conns_per_client).",
	}, func() float64 { return float64(o.conns.Total()) })
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rampart_requests_queued",
		Help: "Requests waiting in the queues of limits.max_inflight and limits.max_upstream_inflight.",
	}, func() float64 { return float64(o.waiting()) })
	for _, c := range []prometheus.Collector{o.rejections, o.upstreamInflight, open, queued} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, l := range []string{limitConnsPerClient, limitInflightPerClient, limitInflight, limitUpstreamInflight, limitStreamResets} {
		o.rejections.WithLabelValues(l)
	}
	return o, nil
}

// waiting returns the requests waiting in every queue.
func (o *overload) waiting() int {
	n := o.requests.Waiting()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, u := range o.upstreams {
		n += u.gate.Waiting()
	}
	return n
}

// upstreamGate returns the gate of the upstream labelled label.
func (o *overload) upstreamGate(label string) *upstreamGate {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.upstreams[label]
	if u == nil {
		u = &upstreamGate{inflight: o.upstreamInflight.WithLabelValues(label)}
		o.upstreams[label] = u
	}
	return u
}

// listener limits the connections per client of a public listener. The
// limit is read from the configuration being served at each accept, so a
// reload changes it; trusted proxies are exempt, since one carries the
// connections of many clients (their requests are still limited per
// client, by the address they forward).
func (g *Gateway) limitConns(ln net.Listener) net.Listener {
	o := g.overload
	return limits.NewListener(ln, limits.ConnConfig{
		Counter: o.conns,
		Limit: func(peer netip.Addr) int {
			gen := g.current.Load()
			if gen.ips.Trusted(peer) {
				return 0
			}
			return gen.cfg.Limits.ConnsPerClient()
		},
		OnRefuse: func(peer netip.Addr) {
			o.rejections.WithLabelValues(limitConnsPerClient).Inc()
			if ok, suppressed := o.connLog.allow(time.Now()); ok {
				o.log.LogAttrs(context.Background(), slog.LevelWarn, "connection refused by limit",
					slog.String("limit", limitConnsPerClient),
					slog.String("peer", peer.String()),
					slog.Int("suppressed", suppressed))
			}
		},
	})
}

// requestLimits are one generation's settings over the gateway's overload
// counts.
type requestLimits struct {
	o *overload
	// gates are the upstreams' gates, looked up without a lock.
	gates       map[string]*upstreamGate
	limiter     *limits.Limiter
	resets      *limits.ResetGuard
	upstreamCap limits.Capacity
	retryAfter  []string
}

// newRequestLimits builds the request limits of configuration c.
func (o *overload) newRequestLimits(c *config.Config, ips *clientip.Resolver) (*requestLimits, error) {
	l := c.Limits
	rl := &requestLimits{
		o: o,
		upstreamCap: limits.Capacity{
			Max:     l.UpstreamInflight(),
			Queue:   l.Queue(),
			Timeout: l.QueueTimeout,
		},
		retryAfter: []string{"1"},
		gates:      map[string]*upstreamGate{},
	}
	for _, u := range c.Upstream {
		label := u.Scheme + "://" + u.Host // as the proxy's pool labels it
		rl.gates[label] = o.upstreamGate(label)
	}
	var err error
	rl.limiter, err = limits.New(limits.Config{
		MaxInflightPerClient: noLimitIsNegative(l.InflightPerClient()),
		MaxInflight:          noLimitIsNegative(l.Inflight()),
		MaxQueue:             noLimitIsNegative(l.Queue()),
		QueueTimeout:         l.QueueTimeout,
		ClientIP:             ips.ClientIP,
		State:                o.requests,
		OnRefuse: func(r *http.Request, err error) {
			limit := limitInflight
			if errors.Is(err, limits.ErrClientBusy) {
				limit = limitInflightPerClient
			}
			o.refused(r, ips, limit)
		},
	})
	if err != nil {
		return nil, c.Errorf("limits", "%v", err)
	}
	rl.resets, err = limits.NewResetGuard(limits.ResetConfig{
		MaxResets: l.MaxStreamResets,
		Per:       resetPeriod,
		OnExceeded: func(r *http.Request) {
			o.rejections.WithLabelValues(limitStreamResets).Inc()
			o.log.LogAttrs(r.Context(), slog.LevelWarn, "closing connection: too many streams reset",
				slog.String("request_id", requestid.FromContext(r.Context())),
				slog.String("limit", limitStreamResets),
				slog.String("client_ip", ips.ClientIP(r).String()),
				slog.String("peer", clientip.Peer(r).String()))
		},
	})
	if err != nil {
		return nil, c.Errorf("limits.max_stream_resets", "%v", err)
	}
	return rl, nil
}

// noLimitIsNegative maps the configuration's "0: no limit" to the limits
// package's "negative: no limit".
func noLimitIsNegative(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// refused counts and logs a request refused by limit.
func (o *overload) refused(r *http.Request, ips *clientip.Resolver, limit string) {
	o.rejections.WithLabelValues(limit).Inc()
	o.denials.WithLabelValues("limits", limit).Inc()
	o.log.LogAttrs(r.Context(), slog.LevelWarn, "request refused by limit",
		slog.String("request_id", requestid.FromContext(r.Context())),
		slog.String("limit", limit),
		slog.String("client_ip", ips.ClientIP(r).String()))
}

// handler applies the per-connection reset budget and the in-flight limits
// before next. A request whose client is already gone goes no further.
func (rl *requestLimits) handler(ips *clientip.Resolver, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			ex := exchangeOf(w)
			rl.resets.Finish(w, r, ex != nil && ex.sentUpstream)
		}()
		switch err := rl.resets.Check(r); err {
		case nil:
		case limits.ErrTooManyResets:
			rl.o.denials.WithLabelValues("limits", limitStreamResets).Inc()
			rl.resets.Refuse(w, r)
			return
		default:
			clientGone(w)
			return
		}
		t, err := rl.limiter.Admit(r)
		if err != nil {
			if errors.Is(err, limits.ErrClientBusy) || errors.Is(err, limits.ErrOverloaded) {
				rl.limiter.Refuse(w, r, err)
			} else {
				clientGone(w)
			}
			return
		}
		if upgrade.IsWebSocket(r) {
			if ex := exchangeOf(w); ex != nil {
				hs := &heldSlots{ticket: t}
				ex.slots = hs
				defer hs.release()
				next.ServeHTTP(w, r)
				return
			}
		}
		defer t.Release()
		next.ServeHTTP(w, r)
	})
}

// admitUpstream takes a slot of upstream u for r, waiting in its queue if it
// must, and returns the gate to release (nil when the request's WebSocket
// upgrade releases it). It answers r itself and returns nil, false when r
// must not go
// upstream: 503 when the upstream is at its limit, nothing when the client
// is already gone — the last check before a connection is dialled or a
// request written upstream.
func (rl *requestLimits) admitUpstream(w http.ResponseWriter, r *http.Request, u *upstream, ips *clientip.Resolver) (*upstreamGate, bool) {
	if rl.resets.Check(r) == limits.ErrTooManyResets {
		// The connection started closing while this request made its way
		// here: it goes no further than the others.
		rl.o.denials.WithLabelValues("limits", limitStreamResets).Inc()
		rl.resets.Refuse(w, r)
		return nil, false
	}
	ug := rl.gates[u.label]
	if ug == nil {
		ug = rl.o.upstreamGate(u.label)
	}
	err := ug.gate.Acquire(r.Context(), rl.upstreamCap)
	switch {
	case err == nil:
		ug.inflight.Inc()
		if e := exchangeOf(w); e != nil {
			e.sentUpstream = true
			if e.slots != nil {
				// A WebSocket handshake: the slot is given back with the
				// others when the connection is upgraded.
				e.slots.upstream = ug
				return nil, true
			}
		}
		return ug, true
	case errors.Is(err, limits.ErrOverloaded):
		rl.o.refused(r, ips, limitUpstreamInflight)
		w.Header()["Retry-After"] = rl.retryAfter
		problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "limits", Reason: limitUpstreamInflight})
	default:
		clientGone(w)
	}
	return nil, false
}

// release gives back a slot taken by admitUpstream.
func (ug *upstreamGate) release() {
	ug.inflight.Dec()
	ug.gate.Release()
}

// heldSlots are the in-flight slots of a WebSocket handshake, given back
// once: when the connection is upgraded, or when the request ends. Only
// the request's own goroutine uses them.
type heldSlots struct {
	ticket   limits.Ticket
	upstream *upstreamGate
	done     bool
}

func (h *heldSlots) release() {
	if h.done {
		return
	}
	h.done = true
	h.ticket.Release()
	if h.upstream != nil {
		h.upstream.release()
	}
}

// clientGone records, for the access log and metrics, a request whose
// client went away before it was answered. Nobody reads a response.
func clientGone(w http.ResponseWriter) {
	if e := exchangeOf(w); e != nil {
		e.status = 499
		e.RecordDecision("client")
	}
}

// sampler lets one event through per second and counts the rest.
type sampler struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether an event at now may be logged, and how many were
// suppressed since the last one that was.
func (s *sampler) allow(now time.Time) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.last) < time.Second {
		s.suppressed++
		return false, 0
	}
	n := s.suppressed
	s.last, s.suppressed = now, 0
	return true, n
}
