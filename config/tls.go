package config

import (
	"errors"
	"slices"

	"github.com/rampartsec/rampart/autotls"
)

// validateTLS checks the tls section: either a certificate and key, or ACME.
func (c *Config) validateTLS() Errors {
	var errs Errors
	add := func(key, format string, args ...any) { errs = append(errs, c.Errorf(key, format, args...)) }
	t := c.TLS
	if t.HTTPSPort < 0 || t.HTTPSPort > 65535 {
		add("tls.https_port", "must be a port from 1 to 65535")
	}
	if t.ACME == nil {
		if t.Cert == "" {
			add("tls.cert", "required when tls is set (or use tls.acme to obtain certificates automatically)")
		}
		if t.Key == "" {
			add("tls.key", "required when tls is set (or use tls.acme to obtain certificates automatically)")
		}
		return errs
	}
	if t.Cert != "" || t.Key != "" {
		add("tls.acme", "cannot be combined with tls.cert and tls.key: remove either the files or the acme section")
	}
	if err := t.ACME.Validate(); err != nil {
		for _, e := range unjoin(err) {
			var fe *autotls.FieldError
			if errors.As(e, &fe) {
				add("tls.acme."+fe.Key, "%s", fe.Msg)
			} else {
				add("tls.acme", "%v", e)
			}
		}
	}
	if c.ListenHTTP == "" && len(t.ACME.Challenges) > 0 && !slices.Contains(t.ACME.Challenges, autotls.TLSALPN01) {
		add("tls.acme.challenges", "http-01 is answered on listen_http: set listen_http (port 80 as the CA sees it) or allow tls-alpn-01")
	}
	if c.ListenHTTP != "" && c.ListenHTTP == c.Listen {
		add("listen_http", "must differ from listen")
	}
	return errs
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
