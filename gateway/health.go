package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/sqldb"
)

// storeHealth is what the gateway last learnt of its stores, by kind
// ("redis", "postgres", "sqlite"): /readyz and rampart_store_up read it.
type storeHealth struct {
	mu    sync.Mutex
	kinds map[string]*kindHealth
}

type kindHealth struct {
	up      bool   // every store of the kind answered its last check
	everUp  bool   // it answered at least once since start
	lastErr string // why it did not, for logs and /readyz
}

// minHealthCheckTimeout is the least time a store's health check gets.
// A check may have to dial a fresh connection, which a request on a warm
// pool does not pay; one slow dial on a busy host must not mark a store
// down that every request still reaches.
const minHealthCheckTimeout = time.Second

// checkStores pings every store the gateway has opened — whether or not a
// request has used it yet — and records the result: rampart_store_up, a
// log line at each change, and what /readyz says. Each check is a PING or
// a database ping bounded by the store's own timeout (store.redis_timeout,
// store.sql_timeout; at least minHealthCheckTimeout), and the stores are
// checked concurrently, so one that hangs delays no other. A store that
// never answered since start keeps the gateway from being ready; one that
// answered before and fails now is reported (metric, log, /readyz body)
// but leaves the replica ready, because every replica shares it and a load
// balancer that ejected them all would turn a partial outage — anonymous
// traffic, degraded sessions, local rate-limit counters — into a total
// one.
func (g *Gateway) checkStores(ctx context.Context) {
	if g.stores.dry {
		return
	}
	g.stores.mu.Lock()
	var clients []redis.UniversalClient
	var dbs []*sqldb.DB
	for _, p := range g.stores.pool {
		switch v := p.val.(type) {
		case redis.UniversalClient:
			clients = append(clients, v)
		case *sqldb.DB:
			dbs = append(dbs, v)
		}
	}
	g.stores.mu.Unlock()

	storeCfg := g.Config().Store
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		results = map[string]error{}
	)
	check := func(kind string, timeout time.Duration, ping func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, max(timeout, minHealthCheckTimeout))
			defer cancel()
			err := ping(cctx)
			mu.Lock()
			defer mu.Unlock()
			// One failing store of a kind makes the kind down.
			if prev, seen := results[kind]; !seen || prev == nil {
				results[kind] = err
			}
		}()
	}
	for _, cl := range clients {
		check("redis", storeCfg.RedisTimeout, func(ctx context.Context) error { return cl.Ping(ctx).Err() })
	}
	for _, db := range dbs {
		kind := "sqlite"
		if db.Dialect == sqldb.Postgres {
			kind = "postgres"
		}
		check(kind, storeCfg.SQLTimeout, db.PingContext)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return // stopping: the failures are ours
	}
	degraded := 0.0
	if err, ok := results["redis"]; ok && err != nil {
		if sc := g.Config().Auth.Sessions; sc != nil && sc.OnStoreError == "cache" {
			degraded = 1
		}
	}
	g.metrics.degraded.WithLabelValues("sessions").Set(degraded)
	g.health.mu.Lock()
	defer g.health.mu.Unlock()
	if g.health.kinds == nil {
		g.health.kinds = map[string]*kindHealth{}
	}
	for kind, err := range results {
		h, ok := g.health.kinds[kind]
		if !ok {
			h = &kindHealth{}
			g.health.kinds[kind] = h
		}
		wasUp, known := h.up, ok
		h.up = err == nil
		if h.up {
			h.everUp, h.lastErr = true, ""
			g.metrics.storeUp.WithLabelValues(kind).Set(1)
			if known && !wasUp {
				g.log.Info("store recovered", slog.String("store", kind))
			}
			continue
		}
		h.lastErr = err.Error()
		g.metrics.storeUp.WithLabelValues(kind).Set(0)
		if !known || wasUp {
			g.log.Warn("store unreachable", slog.String("store", kind), slog.String("error", h.lastErr))
		}
	}
}

// recordCertExpiry sets rampart_tls_certificate_expiry_timestamp_seconds
// for the certificate of tls.cert.
func (g *Gateway) recordCertExpiry() {
	set := func(name string, c *tls.Certificate) {
		if c == nil || len(c.Certificate) == 0 {
			return
		}
		leaf := c.Leaf
		if leaf == nil {
			var err error
			if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
				return
			}
		}
		if name == "" {
			name = leaf.Subject.CommonName
			if len(leaf.DNSNames) > 0 {
				name = leaf.DNSNames[0]
			}
		}
		g.metrics.certExpiry.WithLabelValues(name).Set(float64(leaf.NotAfter.Unix()))
	}
	if gen := g.current.Load(); gen != nil {
		set("", gen.cert)
	}
	// tls.acme certificates are not read here: the ACME library's
	// handshake path cannot be called outside a handshake. Their renewal
	// is watched through rampart_acme_certificates_total{event="failed"}.
}

// storesNotReady names a store that has not answered since start, or "".
func (g *Gateway) storesNotReady() string {
	g.health.mu.Lock()
	defer g.health.mu.Unlock()
	for _, kind := range sortedKinds(g.health.kinds) {
		if h := g.health.kinds[kind]; !h.everUp {
			return "store " + kind + " unreachable since start: " + h.lastErr
		}
	}
	return ""
}

// storesDegraded names the stores that answered once and fail now, for
// the /readyz body of a replica that stays ready.
func (g *Gateway) storesDegraded() string {
	g.health.mu.Lock()
	defer g.health.mu.Unlock()
	var down []string
	for _, kind := range sortedKinds(g.health.kinds) {
		if h := g.health.kinds[kind]; h.everUp && !h.up {
			down = append(down, kind)
		}
	}
	if len(down) == 0 {
		return ""
	}
	return "degraded: store " + strings.Join(down, ", ") + " unreachable"
}

func sortedKinds(m map[string]*kindHealth) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// BuildInfo describes the running binary, for rampart_build_info.
type BuildInfo struct {
	// Version is the release ("v1.2.3"), or "devel".
	Version string
	// Commit is the VCS revision, or "unknown".
	Commit string
}

func (b BuildInfo) labels() (version, commit, goVersion string) {
	version, commit = b.Version, b.Commit
	if version == "" {
		version = "devel"
	}
	if commit == "" {
		commit = "unknown"
	}
	return version, commit, runtime.Version()
}
