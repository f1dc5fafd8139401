package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rampartsec/rampart/dashboard"
	"github.com/rampartsec/rampart/limits"
)

// Run listens on the configured addresses and serves until ctx is done, then
// shuts down gracefully: listeners close, requests in flight get up to
// limits.shutdown_timeout to finish.
func (g *Gateway) Run(ctx context.Context) error {
	cfg := g.Config()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway: listen: %w", err)
	}
	var adminLn net.Listener
	if cfg.Admin.Listen != "off" {
		adminLn, err = net.Listen("tcp", cfg.Admin.Listen)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("gateway: admin listen: %w", err)
		}
	}
	return g.Serve(ctx, ln, adminLn)
}

// Serve is Run on listeners the caller opened. adminLn may be nil.
func (g *Gateway) Serve(ctx context.Context, ln, adminLn net.Listener) error {
	return g.ServeListeners(ctx, Listeners{Gateway: ln, Admin: adminLn})
}

// ServeListeners is Run on listeners the caller opened; see Listeners. With
// tls.acme, certificates are obtained once the listeners serve, and renewed
// until ctx is done.
func (g *Gateway) ServeListeners(ctx context.Context, ls Listeners) error {
	cfg := g.Config()
	ln, adminLn := ls.Gateway, ls.Admin
	if ls.HTTP == nil && cfg.ListenHTTP != "" && cfg.TLS != nil {
		var err error
		if ls.HTTP, err = net.Listen("tcp", cfg.ListenHTTP); err != nil {
			return fmt.Errorf("gateway: listen_http: %w", err)
		}
	}
	if cfg.TLS != nil && cfg.TLS.ACME != nil {
		m, err := g.startACME(ls)
		if err != nil {
			if ls.HTTP != nil {
				_ = ls.HTTP.Close()
			}
			return err
		}
		defer func() {
			g.acme.Store(nil)
			_ = m.Close()
		}()
	}
	l := cfg.Limits
	errLog := slog.NewLogLogger(g.log.Handler(), slog.LevelDebug)
	ln = g.limitConns(ln)
	if ls.HTTP != nil {
		ls.HTTP = g.limitConns(ls.HTTP)
	}
	srv := &http.Server{
		Handler:           g.closeWhileDraining(g),
		ConnContext:       limits.ConnContext,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.Read(),
		WriteTimeout:      l.Write(),
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    int(l.MaxHeaderBytes),
		ErrorLog:          errLog,
	}
	errc := make(chan error, 3)
	if cfg.TLS != nil {
		srv.TLSConfig = g.serverTLS()
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	g.log.Info("gateway listening", slog.String("addr", ln.Addr().String()), slog.Bool("tls", cfg.TLS != nil),
		slog.String("env", string(cfg.Env)))

	var admin *http.Server
	if adminLn != nil {
		if listenerPublic(adminLn) {
			g.adminPublic.Store(true)
		}
		if tc := g.current.Load().adminTLS; tc != nil {
			adminLn = tls.NewListener(adminLn, tc)
		}
		// Event streams never go idle: they end when the admin server
		// shuts down, rather than hold the shutdown for its timeout.
		adminCtx, endStreams := context.WithCancel(context.Background())
		defer endStreams()
		admin = &http.Server{
			BaseContext:       func(net.Listener) context.Context { return adminCtx },
			Handler:           g.AdminHandler(),
			ReadHeaderTimeout: l.ReadHeaderTimeout,
			ReadTimeout:       l.Read(),
			WriteTimeout:      l.Write(),
			IdleTimeout:       l.IdleTimeout,
			ErrorLog:          errLog,
		}
		admin.RegisterOnShutdown(endStreams)
		go func() { errc <- admin.Serve(adminLn) }()
		g.log.Info("admin listening", slog.String("addr", adminLn.Addr().String()))
	}

	var plain *http.Server
	if ls.HTTP != nil {
		plain = &http.Server{
			Handler:           g.httpHandler(ln),
			ReadHeaderTimeout: l.ReadHeaderTimeout,
			ReadTimeout:       l.ReadHeaderTimeout,
			WriteTimeout:      l.ReadHeaderTimeout,
			IdleTimeout:       l.IdleTimeout,
			MaxHeaderBytes:    int(l.MaxHeaderBytes),
			ErrorLog:          errLog,
		}
		go func() { errc <- plain.Serve(ls.HTTP) }()
		g.log.Info("plain HTTP listening (ACME challenges, redirect to HTTPS)", slog.String("addr", ls.HTTP.Addr().String()))
	}
	if m := g.acme.Load(); m != nil {
		go g.manageACME(ctx, m)
	}

	var runErr error
	select {
	case <-ctx.Done():
		runErr = g.drain(errc)
	case err := <-errc:
		runErr = err
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), g.Config().Limits.ShutdownTimeout)
	defer cancel()
	g.log.Info("shutting down", slog.String("timeout", g.Config().Limits.ShutdownTimeout.String()))
	if err := srv.Shutdown(shutdownCtx); err != nil {
		g.log.Warn("shutdown did not finish in time; closing remaining connections", slog.String("error", err.Error()))
		_ = srv.Close()
	}
	if admin != nil {
		_ = admin.Shutdown(shutdownCtx)
	}
	if plain != nil {
		_ = plain.Shutdown(shutdownCtx)
	}
	if runErr != nil && !errors.Is(runErr, http.ErrServerClosed) {
		return fmt.Errorf("gateway: serve: %w", runErr)
	}
	return nil
}

// drain runs limits.shutdown_delay: /readyz answers 503 from now on, and
// the listeners keep serving for the delay so that load balancers, which
// only notice a replica leaving by its failing health checks, stop
// sending it requests before it stops accepting them. Each response from
// now on closes its connection (closeWhileDraining), so that clients and
// proxies holding connections open move them to another replica with
// their next request. Idle connections are deliberately not closed here
// (http.Server.SetKeepAlivesEnabled(false) would): a proxy may be sending
// a request on one at that very moment, and one that does not retry
// (nginx with proxy_next_upstream off) then fails it with 502. They are
// closed at the end of the delay, by when the load balancer has stopped
// using them. It returns early with the error of a server that stopped on
// its own.
func (g *Gateway) drain(errc <-chan error) error {
	g.draining.Store(true)
	d := g.Config().Limits.Delay()
	if d <= 0 {
		return nil
	}
	g.log.Info("draining: /readyz answers 503, listeners serve on before shutting down", slog.String("delay", d.String()))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case err := <-errc:
		return err
	}
}

// closeWhileDraining makes every HTTP/1 response sent during the drain
// carry Connection: close, so the connection closes after it — an orderly
// close the client sees coming, unlike an idle connection closed under it.
// HTTP/2 connections get GOAWAY from the graceful shutdown instead.
func (g *Gateway) closeWhileDraining(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && g.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// Draining reports whether the gateway is shutting down: /readyz answers
// 503 while the listeners serve out limits.shutdown_delay.
func (g *Gateway) Draining() bool { return g.draining.Load() }

// AdminHandler returns the operator endpoints: /metrics (Prometheus),
// /healthz (the process is serving), /readyz (a configuration is loaded
// and an upstream is reachable), the security events (/events,
// /events/stream, /stats), the login locks, POST /reload and the browser
// session (/session). Off loopback, every endpoint but /healthz and /readyz
// needs the admin token, its session cookie or a client certificate.
func (g *Gateway) AdminHandler() http.Handler {
	if !g.Config().AdminOnLoopback() {
		g.adminPublic.Store(true)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", g.eventsHandler)
	mux.HandleFunc("GET /events/stream", g.streamHandler)
	mux.HandleFunc("GET /stats", g.statsHandler)
	mux.HandleFunc("POST /session", g.sessionHandler)
	mux.HandleFunc("DELETE /session", g.sessionHandler)
	mux.HandleFunc("POST /session/logout", g.sessionHandler)
	// The dashboard: the page and its files. Other paths stay the mux's
	// (a GET of /reload is a 405, an unknown path a 404).
	ui := dashboard.Handler()
	mux.Handle("GET /{$}", ui)
	mux.Handle("GET /ui/", ui)
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
		EnableOpenMetrics: true,
	}))
	if g.Config().Admin.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("POST /reload", g.reloadHandler())
	g.mountLoginLocks(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if why := g.notReady(); why != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + why + "\n"))
			return
		}
		if d := g.storesDegraded(); d != "" {
			_, _ = w.Write([]byte("ready (" + d + ")\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return g.adminAccess(mux)
}
