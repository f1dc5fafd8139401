package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
)

// adminFlags locate the running gateway's admin listener, which holds the
// login-protection counters (in its memory, or in Redis).
type adminFlags struct {
	admin                 string
	clientCert, clientKey string
}

func (a *adminFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.admin, "admin", "", "admin listener `ADDR` of the running gateway (default: admin.listen of --config, else "+config.DefaultAdminListen+")")
	a.registerClientCert(fs)
}

// registerClientCert adds the flags of a client certificate, for an admin
// listener that checks them (admin.client_ca).
func (a *adminFlags) registerClientCert(fs *flag.FlagSet) {
	fs.StringVar(&a.clientCert, "client-cert", "", "PEM `FILE` of a client certificate for an admin listener with admin.client_ca (with --client-key and --config)")
	fs.StringVar(&a.clientKey, "client-key", "", "PEM `FILE` of the client certificate's private key")
}

// resolve returns the admin listener's address, bearer token and, when it
// serves TLS, certificate, from the flags and the configuration file.
func (a *adminFlags) resolve(configFile string) (adminTarget, error) {
	t := adminTarget{addr: a.admin}
	if configFile != "" {
		cfg, err := config.DecodeFile(configFile)
		if err != nil {
			return t, err
		}
		if t.addr == "" {
			t.addr = cfg.Admin.Listen
		}
		t.token = strings.TrimSpace(cfg.Admin.Token)
		if cfg.Admin.TokenFile != "" {
			b, err := os.ReadFile(cfg.RelativePath(cfg.Admin.TokenFile))
			if err != nil {
				return t, fmt.Errorf("admin.token_file: %w", err)
			}
			t.token = strings.TrimSpace(string(b))
		}
		if cfg.Admin.CertFile != "" {
			if t.pin, err = readPin(cfg.RelativePath(cfg.Admin.CertFile)); err != nil {
				return t, fmt.Errorf("admin.cert_file: %w", err)
			}
		}
	}
	if a.clientCert != "" || a.clientKey != "" {
		if a.clientCert == "" || a.clientKey == "" {
			return t, errors.New("--client-cert and --client-key go together")
		}
		if t.pin == nil {
			return t, errors.New("a client certificate is for an admin listener that serves TLS: pass --config with the gateway's configuration, whose admin.cert_file is the certificate to expect")
		}
		cert, err := tls.LoadX509KeyPair(a.clientCert, a.clientKey)
		if err != nil {
			return t, fmt.Errorf("--client-cert: %w", err)
		}
		t.cert = &cert
	}
	if t.addr == "" || t.addr == "off" {
		t.addr = config.DefaultAdminListen
	}
	t.addr = displayAddr(t.addr)
	return t, nil
}

// loginLocks asks the gateway's admin listener for user's locks, lifting
// them first when unlock is set.
func loginLocks(ctx context.Context, t adminTarget, user string, unlock bool) (gateway.LoginLocks, error) {
	var out gateway.LoginLocks
	method, path := http.MethodGet, "/login-locks"
	if unlock {
		method, path = http.MethodPost, "/login-locks/unlock"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	base, client := t.client()
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, method, base+path+"?user="+url.QueryEscape(user), nil)
	if err != nil {
		return out, err
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return out, fmt.Errorf("the gateway's admin listener at %s did not answer: %w", t.addr, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return out, fmt.Errorf("the admin listener at %s answered %d without a lock list", t.addr, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("the admin listener at %s refused: %s", t.addr, out.Error)
	}
	return out, nil
}

func usersLocks(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("users locks", "users locks [NAME] [--config FILE] [--admin ADDR]",
		`Show the login-protection locks of a user (or of every user): locked for
every address it does not know, or for one address, and until when. The
running gateway holds them; it is asked on its admin listener.`)
	var f usersFlags
	f.register(fs)
	var a adminFlags
	a.register(fs)
	pos, done, code := c.parseInterspersed(fs, args)
	if done {
		return code
	}
	if len(pos) > 1 {
		return c.usageError("users locks takes at most one NAME", "run 'rampart users locks' for every user, or 'rampart users locks NAME'")
	}
	if err := f.resolve(); err != nil {
		return c.configError(err)
	}
	target, err := a.resolve(f.config)
	if err != nil {
		return c.configError(err)
	}
	var names []string
	if len(pos) == 1 {
		names = []string{pos[0]}
	} else {
		db, store, err := f.openUsers(ctx, false)
		if err != nil {
			return c.storeError(err)
		}
		list, err := store.List(ctx)
		db.Close()
		if err != nil {
			return c.storeError(err)
		}
		for _, u := range list {
			names = append(names, u.Name)
		}
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tWHERE\tKIND\tUNTIL\tFAILURES")
	n := 0
	for _, name := range names {
		res, err := loginLocks(ctx, target, name, false)
		if err != nil {
			c.errorf(exitFindings, "%v", err)
			c.hintf("start the gateway, or pass --admin ADDR (and --config for admin.token_file)")
			return exitFindings
		}
		for _, l := range res.Locks {
			where := "every address it does not know"
			if l.Client != "" {
				where = l.Client
			}
			kind := "delay"
			if l.Lockout {
				kind = "locked"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", name, where, kind, l.Until.Local().Format(time.DateTime), l.Failures)
			n++
		}
	}
	if n == 0 {
		fmt.Fprintln(c.stdout, "no login locks")
		return exitOK
	}
	_ = tw.Flush()
	return exitOK
}

// liftLoginLocks lifts every login-protection lock of name on the running
// gateway, after `users unlock`. A gateway that does not answer is not an
// error of the unlock itself: the user store is unlocked either way.
func (c *cli) liftLoginLocks(ctx context.Context, f *usersFlags, a *adminFlags, name string) {
	target, err := a.resolve(f.config)
	if err == nil {
		var res gateway.LoginLocks
		if res, err = loginLocks(ctx, target, name, true); err == nil {
			fmt.Fprintf(c.stdout, "lifted the login-protection locks of %s (%d left)\n", name, len(res.Locks))
			return
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) || strings.Contains(err.Error(), "did not answer") {
		c.hintf("login-protection locks were not lifted: %v; when the gateway runs, run 'rampart users unlock %s' again (with --admin ADDR)", err, name)
		return
	}
	c.hintf("login-protection locks were not lifted: %v", err)
}
