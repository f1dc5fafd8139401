package gateway

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampartsec/rampart/autotls"
	"github.com/rampartsec/rampart/config"
)

// Options are the parts of a Gateway that do not come from the
// configuration file.
type Options struct {
	// Logger receives the access log and operational messages. Nil uses slog.Default(), so nothing is lost silently.
	Logger *slog.Logger
	// Registry receives the gateway's metrics. Nil creates a private
	// registry (see Gateway.Registry).
	Registry *prometheus.Registry
	// Now is the clock. Nil uses time.Now.
	Now func() time.Time
	// ProbeInterval is how often upstreams are probed for readiness.
	// Default 5s.
	ProbeInterval time.Duration
	// Build describes the binary, for rampart_build_info. Zero reports
	// version "devel", commit "unknown".
	Build BuildInfo
	// Loader, when set, loads the configuration again for POST /reload on
	// the admin listener (validate-then-swap, as Reload). Nil answers
	// POST /reload with 409: there is no file to read.
	Loader func() (*config.Config, error)
	// App, when set, serves in-process what passes the policies, instead
	// of a proxy to the configuration's upstream (which may then be left
	// out, and is ignored when given). It receives the request an upstream
	// would: identity and forwarding headers set, the client's copies
	// removed, the identity also in the context (see Identity).
	// Streaming, http.Flusher and WebSocket hijacking work. Everything else
	// — the whole chain, reloads, the admin listener — is the same.
	App http.Handler
}

// Gateway is a running configuration: a handler for the public listener and
// one for the admin listener. Create it with New, serve it with Run or as an
// http.Handler, and stop it with Close.
type Gateway struct {
	log      *slog.Logger
	reg      *prometheus.Registry
	metrics  *metrics
	now      func() time.Time
	interval time.Duration
	bufs     *bufferPool
	stores   *stores
	overload *overload

	mu      sync.Mutex // serialises Reload and Close
	current atomic.Pointer[generation]
	closed  bool

	stopProbe context.CancelFunc
	probeDone chan struct{}

	// acme is the certificate manager while ServeListeners runs with
	// tls.acme; nil otherwise.
	acme       atomic.Pointer[autotls.Manager]
	acmeEvents *prometheus.CounterVec

	loader     func() (*config.Config, error)
	app        http.Handler
	adminToken atomic.Pointer[[32]byte] // SHA-256 of admin.token_file's token
	// adminKey signs the admin listener's session cookies; a restart
	// ends every session.
	adminKey [32]byte
	// adminPublic: the admin listener is not on loopback, so every
	// endpoint but the health checks needs credentials.
	adminPublic atomic.Bool
	// events is the security event stream (ring, stats, sink metrics).
	events *eventHub
	// lastReload is the outcome of the last configuration load.
	lastReload atomic.Pointer[reloadState]

	// forwards reports forwarding headers from untrusted private peers.
	forwards *forwardWatch

	// health is what the last store health check found.
	health storeHealth

	// draining is set at SIGTERM: /readyz answers 503 from then on.
	draining atomic.Bool

	// pending are databases that did not answer at start, by DSN.
	pendingMu sync.Mutex
	pending   map[string]*pendingSQL
	// life ends at Close; background goroutines (connection retries,
	// store health checks) stop with it and are waited for.
	life       context.Context
	endLife    context.CancelFunc
	background sync.WaitGroup
}

var _ http.Handler = (*Gateway)(nil)

// New builds every policy for c and returns a Gateway serving it. It starts
// one goroutine that probes the upstreams; Close stops it. c must have been
// produced by config.Parse or have passed Validate.
func New(c *config.Config, opt Options) (*Gateway, error) {
	g := &Gateway{log: opt.Logger, reg: opt.Registry, now: opt.Now, interval: opt.ProbeInterval, bufs: &bufferPool{}, loader: opt.Loader, app: opt.App,
		pending: map[string]*pendingSQL{}}
	g.life, g.endLife = context.WithCancel(context.Background())
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.reg == nil {
		g.reg = prometheus.NewRegistry()
		registerRuntime(g.reg)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.interval <= 0 {
		g.interval = 5 * time.Second
	}
	m, err := newMetrics(g.reg)
	if err != nil {
		return nil, fmt.Errorf("gateway: registering metrics: %w", err)
	}
	g.metrics = m
	g.forwards = newForwardWatch(g.log, m, g.now)
	g.metrics.buildInfo.WithLabelValues(opt.Build.labels()).Set(1)
	if g.acmeEvents, err = newACMEMetrics(g.reg); err != nil {
		return nil, fmt.Errorf("gateway: registering metrics: %w", err)
	}
	if g.overload, err = newOverload(g.reg, g.log, m); err != nil {
		return nil, fmt.Errorf("gateway: registering metrics: %w", err)
	}
	if g.events, err = newEventHub(c, g.reg, g.log); err != nil {
		return nil, fmt.Errorf("gateway: registering metrics: %w", err)
	}
	_, _ = rand.Read(g.adminKey[:])
	if g.stores, err = newStores(); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	token, err := loadAdminToken(c)
	if err == nil {
		err = checkACME(c)
	}
	if err != nil {
		_ = g.stores.close()
		return nil, err
	}
	gen, err := g.build(c)
	if err != nil {
		g.endLife()
		g.background.Wait()
		_ = g.stores.close()
		return nil, err
	}
	g.adminToken.Store(token)
	g.current.Store(gen)
	g.noteReload(true)
	g.metrics.reloadTime.Set(float64(g.now().Unix()))
	ctx, cancel := context.WithCancel(context.Background())
	g.stopProbe, g.probeDone = cancel, make(chan struct{})
	go g.probeLoop(ctx)
	return g, nil
}

// Registry returns the registry holding the gateway's metrics.
func (g *Gateway) Registry() *prometheus.Registry { return g.reg }

// Config returns the configuration being served.
func (g *Gateway) Config() *config.Config { return g.current.Load().cfg }

// ServeHTTP serves one request with the current chain.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	gen := g.acquire()
	defer gen.release()
	gen.ServeHTTP(w, r)
}

// acquire returns the current generation, counted in flight. A request
// counts itself first and only then checks that the generation it counted
// in has not been retired: retire marks a generation retired before it
// looks at the count, so either retire sees the request and waits for it,
// or the request sees the mark and moves to the generation that replaced
// it. A retired generation is never used after it closed.
func (g *Gateway) acquire() *generation {
	for {
		gen := g.current.Load()
		gen.inflight.Add(1)
		if !gen.retired.Load() {
			return gen
		}
		gen.release()
	}
}

// Reload builds a new chain from c and swaps it in atomically. If building
// fails, the error is returned and the current chain keeps serving. Settings
// that only take effect at start (listen addresses, TLS on or off, server
// limits and timeouts) are reported as warnings in the log.
func (g *Gateway) Reload(c *config.Config) error {
	_, err := g.reload(c)
	return err
}

// reload is Reload returning the keys that need a restart.
func (g *Gateway) reload(c *config.Config) ([]string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, errors.New("gateway: reload after close")
	}
	token, err := loadAdminToken(c)
	if err == nil {
		err = checkACME(c)
	}
	if err != nil {
		g.metrics.reloads.WithLabelValues("failure").Inc()
		g.noteReload(false)
		return nil, err
	}
	gen, err := g.build(c)
	if err != nil {
		g.metrics.reloads.WithLabelValues("failure").Inc()
		g.noteReload(false)
		return nil, err
	}
	g.adminToken.Store(token)
	old := g.current.Swap(gen)
	keys := restartOnly(old.cfg, c)
	for _, key := range keys {
		g.log.Warn("setting changed but needs a restart to take effect", slog.String("key", key))
	}
	g.metrics.reloads.WithLabelValues("success").Inc()
	g.noteReload(true)
	g.metrics.reloadTime.Set(float64(g.now().Unix()))
	go g.retire(old)
	// Probe the new upstreams at once so readiness reflects them.
	go gen.proxy.pool.probe(context.Background(), c.Limits.UpstreamConnectTimeout)
	return keys, nil
}

// retire closes a replaced generation once its in-flight requests are done,
// or after the shutdown timeout.
func (g *Gateway) retire(old *generation) {
	deadline := time.NewTimer(old.cfg.Limits.ShutdownTimeout)
	defer deadline.Stop()
	old.retired.Store(true)
	if old.inflight.Load() == 0 {
		old.signalDrained()
	}
	select {
	case <-old.drained:
	case <-deadline.C:
		g.log.Warn("closing replaced configuration with requests still in flight",
			slog.Int64("in_flight", old.inflight.Load()))
	}
	old.close()
}

// Ready reports whether the gateway has a configuration, is not shutting
// down, at least one upstream answered its last probe, every store it
// needs is reachable and, with tls.acme, every domain has a certificate.
func (g *Gateway) Ready() bool { return g.notReady() == "" }

// notReady says why the gateway is not ready, or "" when it is: what
// /readyz answers.
func (g *Gateway) notReady() string {
	gen := g.current.Load()
	switch {
	case g.draining.Load():
		return "shutting down"
	case gen == nil:
		return "no configuration"
	case gen.proxy.app == nil && !gen.proxy.pool.ready():
		return "no upstream reachable"
	case !g.acmeReady():
		return "waiting for certificates"
	}
	if why := g.pendingNotReady(); why != "" {
		return why
	}
	return g.storesNotReady()
}

// Close stops the prober and releases the current chain's resources. It does
// not stop listeners started by Run; cancel Run's context for that.
func (g *Gateway) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	g.stopProbe()
	<-g.probeDone
	g.endLife()
	g.background.Wait()
	g.current.Load().close()
	return g.stores.close()
}

func (g *Gateway) probeLoop(ctx context.Context) {
	defer close(g.probeDone)
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		gen := g.current.Load()
		gen.proxy.pool.probe(ctx, gen.cfg.Limits.UpstreamConnectTimeout)
		g.checkStores(ctx)
		g.recordCertExpiry()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// certificate returns the TLS certificate of the current generation, so a
// reload can rotate certificates without a restart.
func (g *Gateway) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	gen := g.current.Load()
	if gen.cert == nil {
		return nil, errors.New("gateway: no TLS certificate configured")
	}
	return gen.cert, nil
}

// restartOnly lists the keys whose change a reload cannot apply.
func restartOnly(old, cur *config.Config) []string {
	var keys []string
	if old.Listen != cur.Listen {
		keys = append(keys, "listen")
	}
	if old.Admin.Listen != cur.Admin.Listen {
		keys = append(keys, "admin.listen")
	}
	if old.Admin.CertFile != cur.Admin.CertFile || old.Admin.KeyFile != cur.Admin.KeyFile || old.Admin.ClientCA != cur.Admin.ClientCA {
		keys = append(keys, "admin (TLS)")
	}
	if old.Events.RingSize != cur.Events.RingSize {
		keys = append(keys, "events.ring_size")
	}
	if (old.TLS == nil) != (cur.TLS == nil) {
		keys = append(keys, "tls")
	} else if old.TLS != nil {
		if !reflect.DeepEqual(old.TLS.ACME, cur.TLS.ACME) {
			keys = append(keys, "tls.acme")
		}
		if old.TLS.HTTPSPort != cur.TLS.HTTPSPort {
			keys = append(keys, "tls.https_port")
		}
	}
	if old.ListenHTTP != cur.ListenHTTP {
		keys = append(keys, "listen_http")
	}
	ol, cl := old.Limits, cur.Limits
	if ol.MaxHeaderBytes != cl.MaxHeaderBytes {
		keys = append(keys, "limits.max_header_bytes")
	}
	if ol.ReadHeaderTimeout != cl.ReadHeaderTimeout || ol.Read() != cl.Read() ||
		ol.Write() != cl.Write() || ol.IdleTimeout != cl.IdleTimeout {
		keys = append(keys, "limits (server timeouts)")
	}
	if old.Log.Format != cur.Log.Format || old.Log.Level != cur.Log.Level {
		keys = append(keys, "log")
	}
	return keys
}

// ReloadFrom loads a configuration with load and reloads it. A load or build
// failure is counted in metrics, returned, and leaves the current chain
// serving.
func (g *Gateway) ReloadFrom(load func() (*config.Config, error)) error {
	c, err := load()
	if err != nil {
		g.metrics.reloads.WithLabelValues("failure").Inc()
		g.noteReload(false)
		return err
	}
	return g.Reload(c)
}
