package gateway

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampartsec/rampart/audit/checklist"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/events"
	"github.com/rampartsec/rampart/events/redisfanout"
	"github.com/rampartsec/rampart/headers"
)

// eventHub is the security event stream of a Gateway: the ring of recent
// events and the stats the admin API serves, and the metrics of the event
// sinks. It lives as long as the Gateway, across reloads; the sinks that
// forward events (webhooks, the Redis fan-out) belong to a generation.
type eventHub struct {
	ring  *events.Ring
	stats *events.Stats
	// defName is the instance name without events.instance: host:pid.
	defName string
	log     *slog.Logger

	emitted *prometheus.CounterVec
	dropped *prometheus.CounterVec
	failed  *prometheus.CounterVec

	// streams counts the open /events/stream connections.
	streams atomic.Int64
}

// maxEventStreams bounds the open /events/stream connections of one
// instance.
const maxEventStreams = 64

func newEventHub(c *config.Config, reg prometheus.Registerer, log *slog.Logger) (*eventHub, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "rampart"
	}
	h := &eventHub{
		ring:    events.NewRing(c.Events.RingSize),
		stats:   events.NewStats(),
		defName: events.Scrub(host + ":" + strconv.Itoa(os.Getpid())),
		log:     log,
		emitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_events_total",
			Help: "Security events recorded by this instance, by policy.",
		}, []string{"policy"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_event_sink_dropped_total",
			Help: "Security events a sink dropped (a full queue, or a delivery that failed every retry), by sink.",
		}, []string{"sink"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_event_sink_errors_total",
			Help: "Failed deliveries of security events, by sink.",
		}, []string{"sink"}),
	}
	for _, col := range []prometheus.Collector{h.emitted, h.dropped, h.failed} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// instanceName is the name c gives this instance in its events.
func (h *eventHub) instanceName(c *config.Config) string {
	if c.Events.Instance != "" {
		return c.Events.Instance
	}
	return h.defName
}

// sinkCounters returns the drop and error callbacks of one sink.
func (h *eventHub) sinkCounters(sink string) (func(int), func(error)) {
	d, f := h.dropped.WithLabelValues(sink), h.failed.WithLabelValues(sink)
	return func(n int) { d.Add(float64(n)) }, func(error) { f.Inc() }
}

// remote receives the events other instances published: they join the
// ring (so /events shows the fleet) but not this instance's stats.
func (h *eventHub) remote() events.Sink {
	return events.SinkFunc(func(e *events.Event) { h.ring.Add(*e) })
}

// buildEventSinks makes the sinks of a generation: one per webhook, and
// the Redis fan-out with store.redis. Check builds none (it starts
// nothing).
func (g *Gateway) buildEventSinks(c *config.Config, gen *generation, ns string) error {
	h := g.events
	if h == nil || g.stores.dry {
		return nil
	}
	gen.instance = h.instanceName(c)
	for i, wc := range c.Events.Webhooks {
		sink := "webhook_" + strconv.Itoa(i)
		wc.OnDrop, wc.OnError = h.sinkCounters(sink)
		wc.Logger = g.log
		w, err := events.NewWebhook(wc)
		if err != nil {
			return c.Errorf(fmt.Sprintf("events.webhooks[%d]", i), "%v", err)
		}
		gen.closers = append(gen.closers, w)
		gen.sinks = append(gen.sinks, w)
	}
	if c.Store.Redis == "" {
		return nil
	}
	f, err := gen.lease.eventFanout(c, ns, gen.instance, h)
	if err != nil {
		return err
	}
	gen.sinks = append(gen.sinks, f)
	return nil
}

// eventFanout returns the Redis fan-out of c's namespace, shared by the
// generations that use it, so that a reload does not interrupt it.
func (l *lease) eventFanout(c *config.Config, ns, instance string, h *eventHub) (*redisfanout.Fanout, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	cl, err := l.client(c)
	if err != nil {
		return nil, err
	}
	v, err := l.get("events\x00"+redisKey(c, ns)+"\x00"+instance, func() (any, func() error, error) {
		onDrop, onError := h.sinkCounters("redis")
		f, err := redisfanout.New(redisfanout.Config{Client: cl, Channel: redisPrefix(c, ns) + "events",
			Instance: instance, Receive: h.remote(), Timeout: c.Store.RedisTimeout,
			OnDrop: onDrop, OnError: onError, Logger: h.log})
		if err != nil {
			return nil, nil, c.Errorf("store.redis", "%v", err)
		}
		return f, f.Close, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*redisfanout.Fanout), nil
}

// recordEvent counts one finished request and, when it was refused, records
// the event: in the ring and stats, the metrics and every sink. It is
// called once per request from finish, with the same policy and reason the
// access log writes. An allowed request costs two atomic additions.
func (gen *generation) recordEvent(ex *exchange, r *http.Request, id string, status int, policy string, end time.Time) {
	h := gen.events
	if h == nil {
		return
	}
	h.stats.Request(end)
	if status < 400 || policy == "upstream" || policy == "client" {
		return
	}
	reason := ex.reason
	if reason == "" {
		reason = policy + "_" + codeLabel(status)
	}
	e := &events.Event{
		Time:     end,
		ID:       id,
		Instance: gen.instance,
		Policy:   policy,
		Decision: events.DecisionDeny,
		Status:   status,
		Route:    ex.route,
		Method:   events.Scrub(r.Method),
	}
	switch policy {
	case "shield":
		e.Decision = events.DecisionShielded
	case "panic":
		e.Decision = events.DecisionError
	}
	if client := gen.ips.ClientIP(r); client.IsValid() {
		e.ClientIP, e.Network = client.String(), events.Network(client)
	}
	if ex.identity != nil {
		e.User = events.Scrub(ex.identity.Principal())
	}
	e.Reason, e.Rule, e.Fields = splitReason(reason)
	if a, ok := e.Fields["account"]; ok {
		// A refused sign-in: the account it named is the event's user.
		if e.User == "" {
			e.User = a
		}
		delete(e.Fields, "account")
	}
	if policy == "cors" {
		if o := r.Header.Get("Origin"); o != "" {
			e.Fields = setField(e.Fields, "origin", events.Scrub(o))
		}
	}
	h.emit(e, gen.sinks)
}

// emit records e, made by this instance.
func (h *eventHub) emit(e *events.Event, sinks events.Sinks) {
	h.stats.Refusal(e)
	h.emitted.WithLabelValues(e.Policy).Inc()
	stored := h.ring.Add(*e)
	e.Seq = stored.Seq
	sinks.Emit(e)
}

// cspEvent returns the callback that records a CSP violation report as an
// event of policy "headers". A report carries no request id of the page
// that caused it; the blocked and document URLs lose their query strings.
func (gen *generation) cspEvent(next func(headers.Violation)) func(headers.Violation) {
	return func(v headers.Violation) {
		next(v)
		h := gen.events
		if h == nil {
			return
		}
		e := &events.Event{Time: gen.now(), Instance: gen.instance, Policy: "headers", Rule: "csp",
			Decision: events.DecisionReport, Reason: "csp_violation"}
		for k, val := range map[string]string{"directive": v.Directive, "blocked_url": v.BlockedURL,
			"document_url": v.DocumentURL, "disposition": v.Disposition} {
			if val != "" {
				e.Fields = setField(e.Fields, k, events.Scrub(val))
			}
		}
		h.emitted.WithLabelValues(e.Policy).Inc()
		stored := h.ring.Add(*e)
		e.Seq = stored.Seq
		gen.sinks.Emit(e)
	}
}

func setField(f map[string]string, k, v string) map[string]string {
	if f == nil {
		f = map[string]string{}
	}
	f[k] = v
	return f
}

// splitReason turns the reason the access log writes into the event's short
// reason, rule and fields. Reasons are a word, then details the policies
// append: "rule=NAME" (rate limits), "body=/pointer" or "query=name"
// (validation), "(Origin: https://…)" (CSRF). Every value is scrubbed: the
// Referer a CSRF refusal quotes loses its query string.
func splitReason(reason string) (short, rule string, fields map[string]string) {
	rest := reason
	if i := strings.Index(rest, " ("); i >= 0 && strings.HasSuffix(rest, ")") {
		// "origin_mismatch (Origin: https://evil.example)"
		inner := rest[i+2 : len(rest)-1]
		rest = rest[:i]
		if name, val, ok := strings.Cut(inner, ": "); ok {
			fields = setField(fields, headerField(name), events.Scrub(val))
		}
	}
	for i, word := range strings.Fields(rest) {
		k, v, ok := strings.Cut(word, "=")
		switch {
		case !ok && i == 0:
			short = word
		case !ok:
			// An unexpected word: kept as part of the reason.
			short += " " + word
		case k == "rule":
			rule = events.Scrub(v)
		case k == "body":
			fields = setField(fields, "pointer", events.Scrub(v))
		case k == "account":
			// The account a refused sign-in named (auth.AccountReason).
			if name, err := url.QueryUnescape(v); err == nil {
				fields = setField(fields, "account", events.Scrub(name))
			}
		default:
			// query=name, header=name, path=name, cookie=name: the
			// parameter's location and name, never its value.
			fields = setField(fields, "in", events.Scrub(k))
			fields = setField(fields, "parameter", events.Scrub(v))
		}
	}
	short = events.Scrub(short)
	switch {
	case short == "" && rule != "":
		// "rule=NAME" alone: the rule denied the request, as
		// rampart_rate_limit_decisions_total names the outcome.
		short = "denied"
	case short == "":
		short = "refused"
	}
	return short, rule, fields
}

// headerField names the event field of a request header quoted in a reason.
func headerField(h string) string {
	switch h {
	case "Origin":
		return "origin"
	case "Referer":
		return "referer"
	case "Sec-Fetch-Site":
		return "sec_fetch_site"
	}
	return "header"
}

// EventsResponse is the answer of GET /events.
type EventsResponse struct {
	Events []events.Event `json:"events"`
}

// eventsHandler serves GET /events: the events of the ring, newest first,
// filtered by the query. With store.redis the ring holds the fleet's.
func (g *Gateway) eventsHandler(w http.ResponseWriter, r *http.Request) {
	f, err := events.ParseFilter(r.URL.Query(), g.now())
	if err != nil {
		writeAdminJSON(w, http.StatusBadRequest, adminError{Error: strings.TrimPrefix(err.Error(), "events: ")})
		return
	}
	writeAdminJSON(w, http.StatusOK, EventsResponse{Events: g.events.ring.Query(f)})
}

// Stream timing: a tick with the counts every 2 seconds, a comment every
// 15 so that proxies and browsers keep an idle stream open.
const (
	streamTick = 2 * time.Second
	streamPing = 15 * time.Second
)

// streamHandler serves GET /events/stream as Server-Sent Events: each new
// event that matches the filters as "event: event" with its sequence number
// as id, a "tick" with the counts since the previous one every 2 seconds,
// and a ping comment every 15. A client that reconnects with Last-Event-ID
// first gets what it missed, as far as the ring still holds it.
func (g *Gateway) streamHandler(w http.ResponseWriter, r *http.Request) {
	h := g.events
	f, err := events.ParseFilter(r.URL.Query(), g.now())
	if err != nil {
		writeAdminJSON(w, http.StatusBadRequest, adminError{Error: strings.TrimPrefix(err.Error(), "events: ")})
		return
	}
	if h.streams.Add(1) > maxEventStreams {
		h.streams.Add(-1)
		w.Header().Set("Retry-After", "10")
		writeAdminJSON(w, http.StatusServiceUnavailable, adminError{Error: "too many event streams open"})
		return
	}
	defer h.streams.Add(-1)
	rc := http.NewResponseController(w)
	// The admin server's write timeout would cut the stream; a dead
	// client is noticed by the next failed write instead (a tick every 2s).
	_ = rc.SetWriteDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	sub, _ := h.ring.Subscribe()
	defer sub.Close()
	var sent uint64
	buf := make([]byte, 0, 1024)
	write := func(e *events.Event) bool {
		if e.Seq <= sent || !f.Match(e) {
			return true
		}
		sent = e.Seq
		b, err := json.Marshal(e)
		if err != nil {
			return true
		}
		buf = append(buf[:0], "id: "...)
		buf = strconv.AppendUint(buf, e.Seq, 10)
		buf = append(buf, "\nevent: event\ndata: "...)
		buf = append(buf, b...)
		buf = append(buf, "\n\n"...)
		_, err = w.Write(buf)
		return err == nil
	}
	if _, err := w.Write([]byte("retry: 2000\n\n")); err != nil {
		return
	}
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		if seq, err := strconv.ParseUint(last, 10, 64); err == nil {
			for _, e := range h.ring.After(seq, f) {
				if !write(&e) {
					return
				}
			}
		}
	}
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(streamTick)
	defer tick.Stop()
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	prev := h.stats.Totals()
	for {
		select {
		case <-r.Context().Done():
			return
		case e := <-sub.C():
			if !write(&e) {
				return
			}
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return
			}
		case now := <-tick.C:
			cur := h.stats.Totals()
			d := cur.Since(prev)
			prev = cur
			b, _ := json.Marshal(struct {
				Time string `json:"time"`
				events.Totals
			}{now.UTC().Format(time.RFC3339Nano), d})
			buf = append(buf[:0], "event: tick\ndata: "...)
			buf = append(buf, b...)
			buf = append(buf, "\n\n"...)
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// StatsResponse is the answer of GET /stats: this instance's counts, top
// offenders and refusal series (events.Snapshot), its configuration status
// and the upstream's health.
type StatsResponse struct {
	events.Snapshot
	Instance string         `json:"instance"`
	Config   ConfigStatus   `json:"config"`
	Upstream UpstreamStatus `json:"upstream"`
	// Upstreams lists every upstream when there are several.
	Upstreams []UpstreamStatus `json:"upstreams,omitempty"`
}

// ConfigStatus is the configuration part of /stats.
type ConfigStatus struct {
	LastReload time.Time      `json:"last_reload"`
	ReloadOK   bool           `json:"reload_ok"`
	Findings   []FindingBrief `json:"findings"`
}

// FindingBrief is one checklist finding of the configuration being served.
type FindingBrief struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Key      string `json:"key,omitempty"`
}

// UpstreamStatus is one upstream's health as the last probe saw it.
type UpstreamStatus struct {
	URL       string `json:"url"`
	Healthy   bool   `json:"healthy"`
	LastError string `json:"last_error"`
}

// reloadState is the outcome of the last configuration load.
type reloadState struct {
	at time.Time
	ok bool
}

// noteReload records the outcome of a configuration load for /stats.
func (g *Gateway) noteReload(ok bool) {
	g.lastReload.Store(&reloadState{at: g.now(), ok: ok})
}

func (g *Gateway) statsHandler(w http.ResponseWriter, r *http.Request) {
	gen := g.acquire()
	defer gen.release()
	res := StatsResponse{Snapshot: g.events.stats.Snapshot(g.now()), Instance: gen.instance}
	if st := g.lastReload.Load(); st != nil {
		res.Config.LastReload, res.Config.ReloadOK = st.at.UTC(), st.ok
	}
	res.Config.Findings = gen.findingBriefs()
	if gen.proxy.app != nil {
		res.Upstream = UpstreamStatus{URL: "in-process", Healthy: true}
	} else {
		for _, u := range gen.proxy.pool.members {
			s := UpstreamStatus{URL: u.label, Healthy: u.state.Load() == stateUp}
			switch u.state.Load() {
			case stateDown:
				s.LastError = "not answering: the last connection attempt failed"
			case stateUnknown:
				s.LastError = "not probed yet"
			}
			res.Upstreams = append(res.Upstreams, s)
		}
		if len(res.Upstreams) > 0 {
			res.Upstream = res.Upstreams[0]
			for _, s := range res.Upstreams {
				if s.Healthy {
					res.Upstream = s
					break
				}
			}
		}
		if len(res.Upstreams) < 2 {
			res.Upstreams = nil
		}
	}
	writeAdminJSON(w, http.StatusOK, res)
}

// findingBriefs returns the checklist findings of the generation's
// configuration, computed once.
func (gen *generation) findingBriefs() []FindingBrief {
	gen.findingsOnce.Do(func() {
		fs := checklist.Run(gen.cfg)
		gen.findings = make([]FindingBrief, 0, len(fs))
		for _, f := range fs {
			gen.findings = append(gen.findings, FindingBrief{ID: f.Rule, Severity: f.Severity.String(), Title: f.Title, Key: f.Key})
		}
	})
	return gen.findings
}

// findingsCache holds a generation's checklist findings for /stats.
type findingsCache struct {
	findingsOnce sync.Once
	findings     []FindingBrief
}

type adminError struct {
	Error string `json:"error"`
}

func writeAdminJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
