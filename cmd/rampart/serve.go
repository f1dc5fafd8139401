package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/logging"
	"github.com/redis/go-redis/v9"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// serveFlags are the flags that override or replace a configuration file.
type serveFlags struct {
	configFile string
	upstreams  stringList
	listen     string
	admin      string
	watch      bool
}

func runServe(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("serve",
		"serve --upstream URL [--listen ADDR] [--admin ADDR|off]\n       rampart serve --config FILE [--listen ADDR] [--admin ADDR|off]",
		`Run the gateway. With --upstream alone, rampart protects that app with safe
defaults (zero-config); with --config it reads the YAML configuration.
Flags given on the command line override the file. SIGHUP, POST /reload on
the admin listener, or --watch reload the file: the new configuration is
validated and built completely before it replaces the running one. SIGINT or
SIGTERM shut down gracefully.`)
	var f serveFlags
	fs.StringVar(&f.configFile, "config", "", "configuration `FILE` (YAML)")
	fs.Var(&f.upstreams, "upstream", "upstream `URL` to protect; repeat for several (round-robin)")
	fs.StringVar(&f.listen, "listen", "", "gateway listen `ADDR` (default \":8080\")")
	fs.StringVar(&f.admin, "admin", "", "admin listen `ADDR` for /metrics /healthz /readyz, or off (default \"127.0.0.1:9090\")")
	fs.BoolVar(&f.watch, "watch", false, "reload when the configuration file or a file it names changes (needs --config)")
	if done, code := c.parseFlags(fs, args); done {
		return code
	}
	if done, code := c.noArgs(fs); done {
		return code
	}
	if f.configFile == "" && len(f.upstreams) == 0 {
		return c.usageError("serve needs --upstream URL or --config FILE",
			"try 'rampart serve --upstream http://127.0.0.1:3000', or 'rampart demo' to see it work")
	}
	if f.watch && f.configFile == "" {
		return c.usageError("--watch needs --config FILE", "zero-config mode has no file to watch")
	}
	cfg, err := f.load()
	if err != nil {
		return c.configError(err)
	}
	var watch *watcher
	if f.watch {
		watch = &watcher{file: f.configFile, interval: time.Second}
	}
	return c.serveWatch(ctx, cfg, f.load, f.configFile != "", nil, watch)
}

// load builds the configuration from the file (if any) and the flags,
// through the loader `rampart audit config` uses too.
func (f *serveFlags) load() (*config.Config, error) {
	return loadConfig(f.configFile, f.apply)
}

// apply overrides the configuration with the flags given.
func (f *serveFlags) apply(cfg *config.Config) config.Errors {
	var errs config.Errors
	if len(f.upstreams) > 0 {
		cfg.Upstream = nil
		for _, s := range f.upstreams {
			if !strings.Contains(s, "://") {
				errs = append(errs, &config.FieldError{File: "command line", Key: "--upstream",
					Msg: fmt.Sprintf("%q has no scheme: add http:// (or https://), as in --upstream http://%s", s, s)})
				continue
			}
			u, err := config.ParseUpstream(s)
			if err != nil {
				errs = append(errs, &config.FieldError{File: "command line", Key: "--upstream", Msg: err.Error()})
				continue
			}
			cfg.Upstream = append(cfg.Upstream, u)
		}
	}
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.admin != "" {
		cfg.Admin.Listen = f.admin
	}
	return errs
}

// isConfigError reports whether err is a mistake in the configuration
// (file:line: key: message), as opposed to a failure to start with a valid
// one.
func isConfigError(err error) bool {
	var errs config.Errors
	var fe *config.FieldError
	return errors.As(err, &errs) || errors.As(err, &fe)
}

// configError prints every configuration error on its own line and returns
// the usage exit code.
func (c *cli) configError(err error) int {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			c.errorf(exitUsage, "%s", e.Error())
		}
		c.hintf("fix the %s above; 'rampart help config' describes every key", plural(len(errs), "problem", "problems"))
		return exitUsage
	}
	return c.errorf(exitUsage, "%v", err)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// serve runs the gateway for cfg until ctx is done. reload, when the
// configuration came from a file, is called on SIGHUP. ready, if not nil, is
// called once the gateway is built, before it listens.
func (c *cli) serve(ctx context.Context, cfg *config.Config, reload func() (*config.Config, error), fromFile bool, ready func(*gateway.Gateway)) int {
	return c.serveWatch(ctx, cfg, reload, fromFile, ready, nil)
}

// serveWatch is serve that also reloads when watch, if not nil, sees a file
// change.
func (c *cli) serveWatch(ctx context.Context, cfg *config.Config, reload func() (*config.Config, error), fromFile bool, ready func(*gateway.Gateway), watch *watcher) int {
	out := logging.NewWriter(c.stderr, 64<<10, 200*time.Millisecond)
	defer out.Close()
	terminal := false
	if f, ok := c.stderr.(*os.File); ok {
		terminal = logging.IsTerminal(f)
	}
	log, err := logging.New(out, cfg.Log.Format, cfg.Log.Level, terminal)
	if err != nil {
		return c.errorf(exitUsage, "%v", err)
	}
	// go-redis reports connection trouble through a global logger; route it
	// to ours at debug level (store failures are logged and counted by the
	// stores themselves).
	redis.SetLogger(redisLogger{log})
	if cfg.Env == config.Development {
		log.Warn("running in development mode: production safeguards are relaxed; never expose this instance")
	}
	opt := gateway.Options{Logger: log}
	if fromFile {
		opt.Loader = reload
	}
	b := currentBuild()
	opt.Build = gateway.BuildInfo{Version: b.Version, Commit: b.Commit}
	g, err := gateway.New(cfg, opt)
	if err != nil {
		out.Flush()
		if !isConfigError(err) {
			// A valid configuration that could not be put to work: a
			// different exit status, so that a supervisor that gives up
			// on configuration errors still restarts this one.
			return c.errorf(exitStart, "could not start: %v", err)
		}
		return c.configError(err)
	}
	defer g.Close()
	ls, err := listen(cfg)
	if err != nil {
		out.Flush()
		c.errorf(exitStart, "%v", err)
		if strings.Contains(err.Error(), "address already in use") {
			c.hintf("another process uses that port; choose another with --listen (or --admin)")
		}
		return exitStart
	}
	if ready != nil {
		ready(g)
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if !fromFile {
					log.Info("SIGHUP: no configuration file to reload (zero-config mode)")
					continue
				}
				sdNotify(c.getenv, "RELOADING=1")
				err := g.ReloadFrom(reload)
				sdNotify(c.getenv, "READY=1")
				if err != nil {
					log.Error("configuration reload failed; keeping the current configuration",
						slog.String("error", err.Error()))
					continue
				}
				log.Info("configuration reloaded")
			}
		}
	}()

	if watch != nil {
		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go watch.run(watchCtx, cfg, func() []string {
			res := g.ReloadReport(reload)
			if res.OK() {
				log.Info("configuration reloaded (file changed)", slog.Any("restart_required", res.RestartRequired))
				return g.Config().Files()
			}
			log.Error("configuration reload failed (file changed); keeping the current configuration", slog.Any("errors", res.Errors))
			return nil
		})
	}
	// The ports are bound and the configuration is built: tell systemd
	// (Type=notify), and that we are stopping once ctx is done.
	sdNotify(c.getenv, "READY=1")
	served, notified := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(notified)
		select {
		case <-ctx.Done():
			sdNotify(c.getenv, "STOPPING=1")
		case <-served:
		}
	}()
	err = g.ServeListeners(ctx, ls)
	close(served)
	<-notified // STOPPING=1 is sent before the process exits
	if err != nil {
		log.Error("gateway stopped", slog.String("error", err.Error()))
		out.Flush()
		return c.errorf(exitFindings, "%v", err)
	}
	return exitOK
}

// redisLogger adapts go-redis's internal logger to slog.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// listen opens the gateway's, the admin's and the plain-HTTP listeners, so
// that the ports are bound before anything is announced.
func listen(cfg *config.Config) (ls gateway.Listeners, err error) {
	if ls.Gateway, err = net.Listen("tcp", cfg.Listen); err != nil {
		return ls, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	closeAll := func() {
		for _, l := range []net.Listener{ls.Gateway, ls.Admin, ls.HTTP} {
			if l != nil {
				_ = l.Close()
			}
		}
	}
	if cfg.Admin.Listen != "off" {
		if ls.Admin, err = net.Listen("tcp", cfg.Admin.Listen); err != nil {
			closeAll()
			return gateway.Listeners{}, fmt.Errorf("admin listen on %s: %w", cfg.Admin.Listen, err)
		}
	}
	if cfg.ListenHTTP != "" && cfg.TLS != nil {
		if ls.HTTP, err = net.Listen("tcp", cfg.ListenHTTP); err != nil {
			closeAll()
			return gateway.Listeners{}, fmt.Errorf("listen_http on %s: %w", cfg.ListenHTTP, err)
		}
	}
	return ls, nil
}
