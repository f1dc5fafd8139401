package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampartsec/rampart/autotls"
	"github.com/rampartsec/rampart/config"
)

// Listeners are the sockets ServeListeners serves. Gateway is required;
// Admin and HTTP may be nil: a nil HTTP listener is opened from listen_http
// when that is configured.
type Listeners struct {
	// Gateway is the public listener (HTTPS when tls is configured).
	Gateway net.Listener
	// Admin is the operator listener, or nil for none.
	Admin net.Listener
	// HTTP is the plain-HTTP listener of listen_http: ACME challenges and
	// the redirect to HTTPS.
	HTTP net.Listener
}

// newACMEMetrics registers the counter of certificate events.
func newACMEMetrics(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rampart_acme_certificates_total",
		Help: "ACME certificate events, by event: obtained, renewed, failed.",
	}, []string{"event"})
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return c, nil
}

// acmeConfig is c's tls.acme with ca_root resolved against the
// configuration file, like every file it names. (tls.acme.storage is a
// directory relative to the working directory, as documented.)
func acmeConfig(c *config.Config) autotls.Config {
	ac := *c.TLS.ACME
	ac.CARoot = c.RelativePath(ac.CARoot)
	return ac
}

// checkACME reports, as a configuration error, what tls.acme names but
// cannot be used (an unreadable ca_root, a storage directory that cannot be
// created), before anything listens.
func checkACME(c *config.Config) error {
	if c.TLS == nil || c.TLS.ACME == nil {
		return nil
	}
	if err := acmeConfig(c).Check(); err != nil {
		if fe, ok := err.(*autotls.FieldError); ok {
			return config.Errors{c.Errorf("tls.acme."+fe.Key, "%s", fe.Msg)}
		}
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// startACME creates the certificate manager for the listeners ls; the caller
// starts it with Manage once the listeners serve, and closes it.
func (g *Gateway) startACME(ls Listeners) (*autotls.Manager, error) {
	cfg := g.Config()
	opt := autotls.Options{
		Logger:  g.log,
		TLSAddr: ls.Gateway.Addr().String(),
		OnEvent: func(event, domain string) { g.acmeEvents.WithLabelValues(event).Inc() },
	}
	if ls.HTTP != nil {
		opt.HTTPAddr = ls.HTTP.Addr().String()
	}
	m, err := autotls.New(acmeConfig(cfg), opt)
	if err != nil {
		if fe, ok := err.(*autotls.FieldError); ok {
			return nil, cfg.Errorf("tls.acme."+fe.Key, "%s", fe.Msg)
		}
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.acme.Store(m)
	return m, nil
}

// manageACME obtains the certificates in the background; failures are
// logged and retried by the manager until ctx is done.
func (g *Gateway) manageACME(ctx context.Context, m *autotls.Manager) {
	if err := m.Manage(ctx); err != nil && ctx.Err() == nil {
		g.log.Error("acme: certificates not obtained yet; retrying in the background", slog.String("error", err.Error()))
		return
	}
	if ctx.Err() == nil {
		g.log.Info("acme: certificates ready", slog.Any("domains", m.Domains()))
	}
}

// serverTLS returns the public listener's TLS configuration: the managed
// certificates with ACME, otherwise the current generation's certificate
// (so a reload rotates it).
func (g *Gateway) serverTLS() *tls.Config {
	suites := g.Config().TLS.CipherSuiteIDs()
	if m := g.acme.Load(); m != nil {
		c := m.TLSConfig()
		c.CipherSuites = suites
		if c.MinVersion < tls.VersionTLS12 {
			c.MinVersion = tls.VersionTLS12
		}
		return c
	}
	return &tls.Config{GetCertificate: g.certificate, MinVersion: tls.VersionTLS12, CipherSuites: suites}
}

// httpHandler is the handler of the listen_http listener: ACME challenges
// when ACME is on, and a redirect to the HTTPS listener's port.
func (g *Gateway) httpHandler(gatewayLn net.Listener) http.Handler {
	port := 443
	if _, p, err := net.SplitHostPort(gatewayLn.Addr().String()); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	}
	if t := g.Config().TLS; t != nil && t.HTTPSPort > 0 {
		port = t.HTTPSPort
	}
	if m := g.acme.Load(); m != nil {
		return m.HTTPHandler(port)
	}
	return autotls.RedirectHandler(port)
}

// acmeReady reports whether ACME, when on, has a certificate for every
// domain.
func (g *Gateway) acmeReady() bool {
	m := g.acme.Load()
	return m == nil || m.Ready()
}
