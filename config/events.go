package config

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/rampartsec/rampart/events"
)

// MaxEventsRingSize bounds events.ring_size.
const MaxEventsRingSize = 1_000_000

// AdminOnLoopback reports whether the admin listener only accepts
// connections from this machine: its address is a loopback address or
// localhost (or the listener is off).
func (c *Config) AdminOnLoopback() bool {
	if c.Admin.Listen == "off" {
		return true
	}
	host, _, err := net.SplitHostPort(c.Admin.Listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// AdminAccessError returns the error a production configuration gets when
// its admin listener is reachable from other machines with no access
// control: neither admin.token_file (or admin.token) nor admin.client_ca. It returns nil
// otherwise, and always in development. The gateway refuses to start on
// it; audit config reports it as a finding.
func (c *Config) AdminAccessError() error {
	a := c.Admin
	if c.Env == Development || c.AdminOnLoopback() || a.TokenFile != "" || a.Token != "" || a.ClientCA != "" {
		return nil
	}
	// Fail closed: metrics, events and login locks name clients and
	// routes, and reload and unlock change what the gateway does.
	return c.Errorf("admin.token_file", "the admin listener %s is reachable from other machines: in production it needs admin.token_file (a bearer token) or admin.client_ca (client certificates), or a loopback admin.listen such as 127.0.0.1:9090", truncate(a.Listen, 60))
}

// AdminTLS reports whether the admin listener serves HTTPS.
func (c *Config) AdminTLS() bool { return c.Admin.CertFile != "" }

func (c *Config) validateAdmin() Errors {
	var errs Errors
	a := c.Admin
	if (a.CertFile == "") != (a.KeyFile == "") {
		key := "admin.key_file"
		if a.CertFile == "" {
			key = "admin.cert_file"
		}
		errs = append(errs, c.Errorf(key, "admin.cert_file and admin.key_file go together: set both, or neither"))
	}
	if a.ClientCA != "" && a.CertFile == "" {
		errs = append(errs, c.Errorf("admin.client_ca", "client certificates need the admin listener to serve TLS: set admin.cert_file and admin.key_file"))
	}
	return errs
}

func (c *Config) validateEvents() Errors {
	var errs Errors
	e := c.Events
	if e.RingSize < 0 || e.RingSize > MaxEventsRingSize {
		errs = append(errs, c.Errorf("events.ring_size", "must be between 1 and %d (0 for the default, %d)", MaxEventsRingSize, events.DefaultRingSize))
	}
	if len(e.Instance) > 100 || strings.ContainsFunc(e.Instance, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		errs = append(errs, c.Errorf("events.instance", "at most 100 printable characters"))
	}
	for i, w := range e.Webhooks {
		key := "events.webhooks[" + strconv.Itoa(i) + "]"
		u, err := url.Parse(w.URL)
		switch {
		case w.URL == "":
			errs = append(errs, c.Errorf(key+".url", "required: the URL that receives the events"))
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, c.Errorf(key+".url", "must be an http:// or https:// URL"))
		}
		for k, v := range map[string]bool{"batch_size": w.BatchSize < 0, "queue_size": w.QueueSize < 0,
			"flush_interval": w.FlushInterval < 0, "timeout": w.Timeout < 0, "retries": w.Retries != nil && *w.Retries < 0} {
			if v {
				errs = append(errs, c.Errorf(key+"."+k, "must not be negative"))
			}
		}
		if w.BatchSize > 10000 {
			errs = append(errs, c.Errorf(key+".batch_size", "at most 10000"))
		}
		if w.QueueSize > 1_000_000 {
			errs = append(errs, c.Errorf(key+".queue_size", "at most 1000000"))
		}
		if w.Retries != nil && *w.Retries > 20 {
			errs = append(errs, c.Errorf(key+".retries", "at most 20"))
		}
		for name, v := range w.Headers {
			if name == "" || strings.ContainsAny(name, " \t\r\n:") || strings.ContainsAny(v, "\r\n") {
				errs = append(errs, c.Errorf(key+".headers", "%q is not a valid header", truncate(name, 40)))
			}
		}
	}
	return errs
}
