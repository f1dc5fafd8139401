package autotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
)

// LetsEncrypt is the directory URL of Let's Encrypt's production CA, the
// default of Config.CA.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// DefaultStorage is the default of Config.Storage, relative to the working
// directory (the state directory under systemd and in the container image).
const DefaultStorage = "acme"

// The challenge types of Config.Challenges.
const (
	HTTP01    = "http-01"
	TLSALPN01 = "tls-alpn-01"
)

// DefaultCheckInterval is the default of Config.CheckInterval.
const DefaultCheckInterval = 10 * time.Minute

// Config is the `tls.acme` section of the configuration. The zero value of
// each optional field is the documented default.
type Config struct {
	// Email is the contact address of the ACME account; the CA writes to it
	// about expiring certificates and policy changes. Optional but
	// recommended.
	Email string `yaml:"email" json:"email,omitempty"`
	// Domains are the host names to obtain certificates for; required.
	// Handshakes for other names fail.
	Domains []string `yaml:"domains" json:"domains"`
	// CA is the ACME directory URL. Default LetsEncrypt (production); it
	// must be https.
	CA string `yaml:"ca" json:"ca,omitempty"`
	// CARoot is a PEM file of root certificates trusted for the CA's own
	// HTTPS endpoint, for a private CA. Default: the system's roots.
	CARoot string `yaml:"ca_root" json:"ca_root,omitempty"`
	// Storage is the directory holding the account key, certificates and
	// their keys, and the lock files that let replicas sharing it obtain
	// each certificate once. Default "acme" (relative to the working
	// directory).
	Storage string `yaml:"storage" json:"storage,omitempty"`
	// Profile names the CA's certificate profile (draft-ietf-acme-profiles),
	// for example "shortlived" or "tlsserver" at Let's Encrypt. Default: the
	// CA's default profile.
	Profile string `yaml:"profile" json:"profile,omitempty"`
	// Challenges are the ACME challenge types to answer: "http-01" (on
	// listen_http, port 80 to the CA) and "tls-alpn-01" (on the HTTPS
	// listener, port 443 to the CA). Default: both, or tls-alpn-01 alone
	// without listen_http.
	Challenges []string `yaml:"challenges" json:"challenges,omitempty"`
	// CheckInterval is how often certificates are checked for renewal, and
	// how often stapled OCSP responses are refreshed. Default 10m.
	CheckInterval time.Duration `yaml:"check_interval" json:"check_interval,omitempty"`
}

// FieldError is a problem with one key of Config, named relative to the
// `tls.acme` section (for example "domains[1]").
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return "autotls: " + e.Key + ": " + e.Msg }

// Validate checks c and returns every problem as a *FieldError, joined.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if len(c.Domains) == 0 {
		add("domains", "required: the host names to obtain certificates for, e.g. [\"app.example.com\"]")
	}
	seen := map[string]int{}
	for i, d := range c.Domains {
		key := "domains[" + strconv.Itoa(i) + "]"
		name := strings.ToLower(strings.TrimSuffix(d, "."))
		switch {
		case name == "":
			add(key, "must not be empty")
		case strings.Contains(name, "*"):
			add(key, "wildcard names need the DNS-01 challenge, which is not supported: list each host name")
		case net.ParseIP(name) != nil:
			add(key, "%q is an IP address: list host names", truncate(d, 80))
		case !validHost(name):
			add(key, "%q is not a valid host name", truncate(d, 80))
		default:
			if j, dup := seen[name]; dup {
				add(key, "same name as domains[%d]", j)
			}
			seen[name] = i
		}
	}
	if c.CA != "" {
		if !strings.HasPrefix(c.CA, "https://") || len(c.CA) == len("https://") {
			add("ca", "must be an https:// ACME directory URL, got %q", truncate(c.CA, 80))
		}
	}
	if c.Email != "" && (!strings.Contains(c.Email, "@") || strings.ContainsAny(c.Email, " \t\r\n<>")) {
		add("email", "%q is not an email address", truncate(c.Email, 80))
	}
	for i, ch := range c.Challenges {
		if ch != HTTP01 && ch != TLSALPN01 {
			add("challenges["+strconv.Itoa(i)+"]", "must be %s or %s, got %q", HTTP01, TLSALPN01, truncate(ch, 40))
		}
	}
	if len(c.Profile) > 64 || strings.ContainsAny(c.Profile, " \t\r\n\"") {
		add("profile", "%q is not a profile name", truncate(c.Profile, 80))
	}
	if c.CheckInterval < 0 || (c.CheckInterval > 0 && c.CheckInterval < time.Second) {
		add("check_interval", "must be at least 1s")
	}
	if c.CheckInterval > 24*time.Hour {
		add("check_interval", "must be at most 24h: a longer interval can let a certificate expire unrenewed")
	}
	return errors.Join(errs...)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// validHost reports whether name is a DNS host name: labels of letters,
// digits and inner hyphens, at most 63 bytes each and 253 in all.
func validHost(name string) bool {
	if len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			b := label[i]
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-') {
				return false
			}
		}
	}
	return true
}

// Options are the parts of a Manager that do not come from the
// configuration.
type Options struct {
	// Logger receives issuance, renewal and OCSP messages. Nil uses slog.Default(), so nothing is lost silently.
	Logger *slog.Logger
	// HTTPAddr is the address of the listener that answers HTTP-01
	// challenges (the gateway's listen_http). Empty disables HTTP-01.
	HTTPAddr string
	// TLSAddr is the address of the HTTPS listener, which answers
	// TLS-ALPN-01 challenges. Required.
	TLSAddr string
	// OnEvent, if not nil, is called with "obtained", "renewed" or
	// "failed" and the domain, for metrics.
	OnEvent func(event, domain string)
}

// Manager obtains, renews and serves the certificates of one Config. It is
// safe for concurrent use.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	cache   *certmagic.Cache
	magic   *certmagic.Config
	issuer  *certmagic.ACMEIssuer
	domains []string

	mu      sync.Mutex
	managed bool
	closed  bool
}

// New returns a Manager for c. It reads Config.CARoot and creates the
// storage directory, but contacts no CA: Manage does.
func New(c Config, opt Options) (*Manager, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	if c.CA == "" {
		c.CA = LetsEncrypt
	}
	if c.Storage == "" {
		c.Storage = DefaultStorage
	}
	if c.CheckInterval == 0 {
		c.CheckInterval = DefaultCheckInterval
	}
	roots, err := c.prepare()
	if err != nil {
		return nil, err
	}
	tlsHost, tlsPort, err := splitAddr(opt.TLSAddr)
	if err != nil {
		return nil, fmt.Errorf("autotls: TLS listener address: %w", err)
	}
	var httpHost string
	var httpPort int
	if opt.HTTPAddr != "" {
		if httpHost, httpPort, err = splitAddr(opt.HTTPAddr); err != nil {
			return nil, fmt.Errorf("autotls: HTTP listener address: %w", err)
		}
	}

	httpOn := opt.HTTPAddr != "" && (len(c.Challenges) == 0 || slices.Contains(c.Challenges, HTTP01))
	alpnOn := len(c.Challenges) == 0 || slices.Contains(c.Challenges, TLSALPN01)
	if !httpOn && !alpnOn {
		return nil, &FieldError{Key: "challenges", Msg: "http-01 needs listen_http: add listen_http or allow tls-alpn-01"}
	}
	zlog := zapLogger(log)
	m := &Manager{cfg: c, log: log}
	for _, d := range c.Domains {
		m.domains = append(m.domains, strings.ToLower(strings.TrimSuffix(d, ".")))
	}
	var magic *certmagic.Config
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return magic, nil },
		RenewCheckInterval: c.CheckInterval,
		OCSPCheckInterval:  c.CheckInterval,
		Logger:             zlog,
	})
	magic = certmagic.New(m.cache, certmagic.Config{
		Storage: &certmagic.FileStorage{Path: c.Storage},
		Logger:  zlog,
		// Clients that send no server name (IP literals) get the first
		// domain's certificate, as a single-site server would send.
		DefaultServerName: strings.ToLower(strings.TrimSuffix(c.Domains[0], ".")),
		OnEvent: func(ctx context.Context, event string, data map[string]any) error {
			m.event(event, data, opt.OnEvent)
			return nil
		},
	})
	m.issuer = certmagic.NewACMEIssuer(magic, certmagic.ACMEIssuer{
		CA:           c.CA,
		Profile:      c.Profile,
		TestCA:       c.CA, // never fall back to Let's Encrypt's staging CA
		Email:        c.Email,
		Agreed:       true,
		TrustedRoots: roots,
		// The challenges are answered by the gateway's listeners: CertMagic
		// finds the ports in use and relies on HandleHTTPChallenge and
		// GetCertificate, which also serve challenges that another replica
		// sharing the storage started.
		ListenHost:              tlsHost,
		AltTLSALPNPort:          tlsPort,
		AltHTTPPort:             httpPort,
		DisableHTTPChallenge:    !httpOn,
		DisableTLSALPNChallenge: !alpnOn,
		Logger:                  zlog,
	})
	if opt.HTTPAddr != "" && httpHost != tlsHost {
		// CertMagic listens on one host for both challenges; the ports it
		// finds in use are what matter, so a different host only matters
		// when a port is free, which cannot happen: the gateway holds both.
		m.log.Debug("acme: HTTP and TLS listeners on different hosts", slog.String("http", opt.HTTPAddr), slog.String("tls", opt.TLSAddr))
	}
	magic.Issuers = []certmagic.Issuer{m.issuer}
	m.magic = magic
	return m, nil
}

// Check reads what c names — the CA roots, the storage directory (created
// if missing) — so that a mistake is reported when the configuration is
// loaded, not when the listeners start. It returns a *FieldError.
func (c Config) Check() error {
	if c.Storage == "" {
		c.Storage = DefaultStorage
	}
	_, err := c.prepare()
	return err
}

// prepare reads the CA roots and creates the storage directory.
func (c Config) prepare() (*x509.CertPool, error) {
	var roots *x509.CertPool
	if c.CARoot != "" {
		pem, err := os.ReadFile(c.CARoot)
		if err != nil {
			return nil, &FieldError{Key: "ca_root", Msg: fmt.Sprintf("reading the CA roots: %v", pathError(err))}
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, &FieldError{Key: "ca_root", Msg: "no PEM certificate in " + c.CARoot}
		}
	}
	if err := os.MkdirAll(c.Storage, 0o700); err != nil {
		return nil, &FieldError{Key: "storage", Msg: fmt.Sprintf("creating the storage directory: %v", pathError(err))}
	}
	return roots, nil
}

func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// splitAddr returns the host and port of a listener address.
func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	return host, port, nil
}

// event logs CertMagic's certificate events and reports the ones callers
// count.
func (m *Manager) event(event string, data map[string]any, report func(event, domain string)) {
	id, _ := data["identifier"].(string)
	var kind string
	switch event {
	case "cert_obtained":
		kind = "obtained"
		if renewal, _ := data["renewal"].(bool); renewal {
			kind = "renewed"
		}
		m.log.Info("acme: certificate "+kind, slog.String("domain", id))
	case "cert_failed":
		kind = "failed"
		msg := ""
		if err, ok := data["error"].(error); ok {
			msg = err.Error()
		}
		m.log.Error("acme: obtaining a certificate failed; will retry", slog.String("domain", id), slog.String("error", msg))
	default:
		return
	}
	if report != nil {
		report(kind, id)
	}
}

// Manage loads the certificates from storage, obtains the missing ones and
// starts renewing them in the background. It returns when each domain has a
// certificate or ctx is done; obtaining goes on in the background after an
// error, with back-off, until Close.
//
// The listeners named in Options must be serving (the HTTP one with
// HTTPHandler, the TLS one with TLSConfig) before Manage is called, since
// the CA connects to them.
func (m *Manager) Manage(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errors.New("autotls: manage after close")
	}
	m.managed = true
	m.mu.Unlock()
	// ManageAsync retries a failed first attempt with back-off in the
	// background; waiting for the names here makes Manage synchronous for
	// the caller without losing the retries.
	if err := m.magic.ManageAsync(ctx, m.domains); err != nil {
		return fmt.Errorf("autotls: %w", err)
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !m.Ready() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("autotls: waiting for certificates: %w", context.Cause(ctx))
		case <-t.C:
		}
	}
	return nil
}

// Ready reports whether a valid certificate for every domain is in memory.
func (m *Manager) Ready() bool {
	now := time.Now()
	for _, d := range m.domains {
		ok := false
		for _, c := range m.cache.AllMatchingCertificates(d) {
			if leaf := c.Leaf; leaf != nil && now.Before(leaf.NotAfter) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Domains returns the names the Manager obtains certificates for,
// lower-cased.
func (m *Manager) Domains() []string { return append([]string(nil), m.domains...) }

// GetCertificate returns the current certificate for the handshake's server
// name (or answers a TLS-ALPN-01 challenge). A name that is not one of the
// domains gets an error, and so the handshake fails.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.magic.GetCertificate(hello)
}

// TLSConfig returns a server TLS configuration serving the managed
// certificates: TLS 1.2 or later, HTTP/2 and HTTP/1.1, and the acme-tls/1
// protocol for TLS-ALPN-01 challenges.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: m.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1", "acme-tls/1"}, // acme-tls/1: RFC 8737 §6.2
		MinVersion:     tls.VersionTLS12,
	}
}

// HandleHTTPChallenge answers r if it is an HTTP-01 challenge request this
// Manager (or a replica sharing its storage) started, and reports whether it
// did.
func (m *Manager) HandleHTTPChallenge(w http.ResponseWriter, r *http.Request) bool {
	return m.issuer.HandleHTTPChallenge(w, r)
}

// Close stops renewals. Certificates already obtained stay in storage.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.cache.Stop()
	return nil
}
