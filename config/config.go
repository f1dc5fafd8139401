package config

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/issuer"
	"github.com/rampartsec/rampart/auth/login"
	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/autotls"
	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/cookies"
	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/events"
	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/internal/redisconn"
	"github.com/rampartsec/rampart/internal/reserved"
	"github.com/rampartsec/rampart/pages"
	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/shield"
	"github.com/rampartsec/rampart/validate"
)

// Env is the deployment environment. Production refuses unsafe settings;
// development allows them with a warning on every start.
type Env string

// The environments.
const (
	Production  Env = "production"
	Development Env = "development"
)

// Config is Rampart's whole configuration. The zero value of every field is
// the safe default, filled in by Parse and Default; a Config built in code
// must pass Validate before use.
type Config struct {
	// Env is production (the default when empty) or development.
	Env Env `yaml:"env"`
	// Listen is the gateway's address. Default ":8080".
	Listen string `yaml:"listen"`
	// TLS, when set, makes the gateway serve HTTPS (and HTTP/2).
	TLS *TLS `yaml:"tls"`
	// ListenHTTP, when set, is a plain-HTTP address that answers ACME
	// HTTP-01 challenges and redirects every other request to HTTPS.
	// Requires tls. Default: none.
	ListenHTTP string `yaml:"listen_http"`
	// Upstream is the application behind the gateway: one URL or a list,
	// used round-robin. Required.
	Upstream Upstreams `yaml:"upstream"`
	// Admin is the operator listener for metrics and health checks.
	Admin Admin `yaml:"admin"`
	// TrustedProxies are the CIDRs whose forwarding headers are believed.
	// Default none: the TCP peer is the client.
	TrustedProxies []netip.Prefix `yaml:"trusted_proxies"`
	// ClientIPHeader names the header a trusted proxy uses to pass the
	// client address: X-Forwarded-For (default), Forwarded or X-Real-IP.
	ClientIPHeader string `yaml:"client_ip_header"`
	// RequestHeaders says which request headers a client or a proxy may
	// pass to the upstream beyond the ordinary ones.
	RequestHeaders RequestHeaders `yaml:"request_headers"`
	// Store says where state lives: embedded by default, Redis and
	// PostgreSQL for replicas.
	Store Store `yaml:"store"`
	// RateLimits are the global rate limits, applied on every route (and to
	// requests that match none); routes can add their own.
	RateLimits []ratelimit.Rule `yaml:"rate_limits"`
	// LoginProtection is the brute-force protection of logins.
	LoginProtection bruteforce.Config `yaml:"login_protection"`
	// Allow holds the global IP allow and deny lists and the Host
	// allow-list.
	Allow access.Config `yaml:"allow"`
	// Limits bounds what a client may send and how long it may take.
	Limits Limits `yaml:"limits"`
	// Headers sets the security headers on every response (helmet's
	// defaults unless configured otherwise).
	Headers headers.Config `yaml:"headers"`
	// UpstreamCookies hardens the cookies the upstream sets: Secure over
	// HTTPS and SameSite=Lax where absent by default, HttpOnly per cookie.
	UpstreamCookies cookies.Config `yaml:"upstream_cookies"`
	// UpstreamCORS says what happens to the upstream's own CORS headers
	// when cors is not set: "guard" (default) strips a credentialed
	// Access-Control-Allow-Origin for an origin other than the site's
	// own; "pass" passes them unchanged.
	UpstreamCORS string `yaml:"upstream_cors"`
	// Pages brands the pages Rampart serves itself (login, errors).
	Pages pages.Config `yaml:"pages"`
	// CSPReports limits the CSP violation report endpoint,
	// /.rampart/csp-report.
	CSPReports headers.ReportConfig `yaml:"csp_reports"`
	// Errors configures the error shield that keeps upstream errors and
	// stack traces from reaching clients.
	Errors shield.Config `yaml:"errors"`
	// Auth configures authentication: users and sessions, Rampart's own
	// tokens, and external identity providers. Default: none.
	Auth Auth `yaml:"auth"`
	// CORS, when set, makes Rampart answer CORS itself for every route:
	// only the listed origins get cross-origin access, whatever the
	// upstream says. Default: not set, the upstream's own CORS headers pass.
	CORS *cors.Config `yaml:"cors"`
	// CSRF is the CSRF defence. Default: origin checks on unsafe methods.
	CSRF CSRF `yaml:"csrf"`
	// OpenAPI, when set, is the path of an OpenAPI 3.0 or 3.1 document:
	// its operations become routes, every request to them is validated
	// against it, and nothing it does not declare is reachable.
	OpenAPI string `yaml:"openapi"`
	// Validation holds request validation settings shared by every route.
	Validation Validation `yaml:"validation"`
	// Routes, when present, are the only method and path patterns that reach
	// the upstream: everything else is refused (default deny).
	Routes []Route `yaml:"routes"`
	// Log configures logging.
	Log Log `yaml:"log"`
	// Events configures the security event stream: the refusals kept for
	// the admin API and sent to webhooks.
	Events Events `yaml:"events"`

	src *source
	// rawSecret holds the secret settings as written, before ${ENV}
	// expansion, for HoldsInlineSecret.
	rawSecret map[string]string
}

// TLS names the certificate and key the gateway serves — PEM files, read at
// start and again on reload — or, with ACME, the domains whose certificates
// are obtained and renewed automatically.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// CipherSuites are the TLS 1.2 suites offered, by Go's names (TLS 1.3
	// suites are not configurable). Default: only AEAD suites with
	// forward secrecy (ECDHE with AES-GCM or ChaCha20-Poly1305).
	CipherSuites []string `yaml:"cipher_suites"`
	// ACME obtains and renews certificates from an ACME CA instead of
	// cert and key. Default: not set.
	ACME *autotls.Config `yaml:"acme"`
	// HTTPSPort is the port clients reach the HTTPS listener on, for the
	// redirect from listen_http when a port mapping (NAT, a container's
	// published port) differs from listen's. Default: listen's port.
	HTTPSPort int `yaml:"https_port"`
}

// DefaultCipherSuites are the TLS 1.2 suites offered by default: ECDHE key
// exchange (forward secrecy) with an AEAD cipher only. Go's own default
// also offers two CBC-SHA1 suites.
var DefaultCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// CipherSuiteID returns the id of the TLS 1.2 cipher suite Go calls name.
func CipherSuiteID(name string) (uint16, bool) {
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			if cs.Name == name && slices.Contains(cs.SupportedVersions, tls.VersionTLS12) {
				return cs.ID, true
			}
		}
	}
	return 0, false
}

// CipherSuiteIDs returns the suites t offers: its cipher_suites, or
// DefaultCipherSuites.
func (t *TLS) CipherSuiteIDs() []uint16 {
	if t == nil || len(t.CipherSuites) == 0 {
		return DefaultCipherSuites
	}
	ids := make([]uint16, 0, len(t.CipherSuites))
	for _, n := range t.CipherSuites {
		if id, ok := CipherSuiteID(n); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// RequestHeaders relaxes the removal of request headers a client must not
// choose. Whatever it says, client copies of the forwarding headers Rampart
// computes (X-Forwarded-For, -Host, -Proto, Forwarded, X-Real-IP), of
// X-Request-Id and of every header Rampart sends upstream itself are never
// passed on.
type RequestHeaders struct {
	// TrustedForwarding are forwarding headers passed on unchanged when
	// the request comes from a trusted proxy, such as X-Forwarded-Prefix
	// from a proxy that strips a path prefix. Default none: every
	// X-Forwarded-*, Forwarded-* and client-address header is removed.
	TrustedForwarding []string `yaml:"trusted_forwarding"`
	// AllowUnusualNames passes header names with characters other than
	// letters, digits and "-", such as "_" or "." (unless they read as a
	// header Rampart removes). Default false: they are
	// removed, as nginx does, because CGI-style servers (PHP, Rack, WSGI,
	// Perl) read them as the "-" spelling of another header.
	AllowUnusualNames bool `yaml:"allow_unusual_names"`
}

// Admin configures the operator listener.
type Admin struct {
	// Listen is the admin address. Default "127.0.0.1:9090"; "off" disables
	// the listener.
	Listen string `yaml:"listen"`
	// Pprof serves Go's profiler at /debug/pprof/ on the admin listener,
	// for diagnosing performance. Default false: profiles reveal internals.
	Pprof bool `yaml:"pprof"`
	// TokenFile is a file holding the bearer token that state-changing
	// admin endpoints (POST /reload) require, and that every endpoint but
	// /healthz and /readyz requires when the admin listener is not on
	// loopback. Default none: only loopback clients may use them.
	TokenFile string `yaml:"token_file"`
	// Token is that bearer token written in the configuration, normally as
	// a reference to the environment (${RAMPART_ADMIN_TOKEN}). It excludes
	// TokenFile. Default none.
	Token string `yaml:"token"`
	// CertFile and KeyFile make the admin listener serve HTTPS with this
	// PEM certificate and key. Default none: plain HTTP.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCA is a PEM file of the CAs whose client certificates the
	// admin listener accepts in place of the token (mutual TLS). Requires
	// cert_file and key_file. Default none.
	ClientCA string `yaml:"client_ca"`
}

// Events configures the security event stream.
type Events struct {
	// RingSize is how many recent events each instance keeps in memory
	// for GET /events and the event stream. Default 10000; at most
	// 1000000.
	RingSize int `yaml:"ring_size"`
	// Instance names this gateway in its events. Default host:pid.
	Instance string `yaml:"instance"`
	// Webhooks receive events in batches. Header values and the URL may
	// reference the environment as ${NAME}. Default none.
	Webhooks []events.WebhookConfig `yaml:"webhooks"`
}

// Limits bounds requests. Zero values take the documented defaults; there is
// no way to make a limit unbounded except where a field says so.
type Limits struct {
	// MaxHeaderBytes caps the request line and headers. Default 32KiB.
	MaxHeaderBytes int64 `yaml:"max_header_bytes"`
	// MaxBodyBytes caps request bodies; larger ones get 413. Default 10MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ReadHeaderTimeout bounds reading the request headers (slowloris).
	// Default 5s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included. Default
	// 5m; an explicit 0 means no limit.
	ReadTimeout *time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response. Default 5m; an explicit 0
	// means no limit. WebSocket connections are exempt once upgraded.
	WriteTimeout *time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 60s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the wait for in-flight requests on shutdown.
	// Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ShutdownDelay is how long, after SIGTERM, the listeners keep serving
	// while /readyz answers 503, so that load balancers stop sending new
	// requests before the graceful shutdown closes the listeners. Default
	// 5s in production, 0 in development; at most 5m.
	ShutdownDelay *time.Duration `yaml:"shutdown_delay"`
	// UpstreamConnectTimeout bounds connecting to the upstream. Default 5s.
	UpstreamConnectTimeout time.Duration `yaml:"upstream_connect_timeout"`
	// UpstreamTimeout bounds the wait for the upstream's response headers.
	// Default 60s.
	UpstreamTimeout time.Duration `yaml:"upstream_timeout"`
	// UpstreamIdleConns is the keep-alive pool size per upstream. Default 256.
	UpstreamIdleConns int `yaml:"upstream_idle_conns"`
	// MaxConnsPerClient caps the TCP connections one client address (IPv6:
	// its /64) holds open on the public listeners; the next is closed as
	// it is accepted. Connections are counted per TCP peer; trusted
	// proxies are exempt. Default 256; an explicit 0 means no limit.
	MaxConnsPerClient *int `yaml:"max_conns_per_client"`
	// MaxInflightPerClient caps the requests one client (as resolved
	// through trusted_proxies; IPv6 by /64) has in flight at once; the next
	// gets 429. Default 128; an explicit 0 means no limit.
	MaxInflightPerClient *int `yaml:"max_inflight_per_client"`
	// MaxInflight caps the requests in flight on the public listeners, all
	// clients together; the next wait in a queue, then get 503. Default
	// 4096; an explicit 0 means no limit.
	MaxInflight *int `yaml:"max_inflight"`
	// MaxUpstreamInflight caps the requests in flight to each upstream;
	// the next wait in a queue, then get 503. Default 512; an explicit 0
	// means no limit.
	MaxUpstreamInflight *int `yaml:"max_upstream_inflight"`
	// MaxQueue is how many requests may wait for a slot of max_inflight,
	// and for each upstream's max_upstream_inflight. Default 256; an
	// explicit 0 means no queue (503 at once).
	MaxQueue *int `yaml:"max_queue"`
	// QueueTimeout bounds a wait in those queues. Default 1s.
	QueueTimeout time.Duration `yaml:"queue_timeout"`
	// MaxStreamResets is how many HTTP/2 streams a client may reset on one
	// connection in 10 seconds before the connection's remaining requests
	// are refused and it is closed with GOAWAY. Default 100.
	MaxStreamResets int `yaml:"max_stream_resets"`
}

// Route is one allowed method and path pattern with its own settings.
type Route struct {
	// Match is a pattern in Go's ServeMux syntax: "[METHOD ][HOST]/PATH",
	// e.g. "GET /api/items/{id}" or "/admin/{path...}". Required.
	Match string `yaml:"match"`
	// MaxBodyBytes overrides limits.max_body_bytes for this route.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Headers overrides the security headers for this route.
	Headers *headers.Override `yaml:"headers"`
	// CORS replaces the global cors settings for this route.
	CORS *cors.Config `yaml:"cors"`
	// CSRF overrides csrf.mode for this route, e.g. off for a webhook
	// called by other servers. Default: the global mode.
	CSRF csrf.Mode `yaml:"csrf"`
	// RateLimits are this route's own limits, on top of the global ones.
	RateLimits []ratelimit.Rule `yaml:"rate_limits"`
	// Route's authentication rule (auth: none|optional|required, roles,
	// scopes). Default: required when authentication is configured, none
	// otherwise.
	auth.Config `yaml:",inline"`
	// UnsafeOverrideSecurity lets auth on a route that is an OpenAPI
	// operation loosen the security the document declares for it (auth:
	// none on an operation that requires a bearer token). Default false: a
	// route may only tighten the document, and loosening it is an error at
	// start. When set, the route's rule wins and a warning is logged.
	UnsafeOverrideSecurity bool `yaml:"unsafe_override_security"`
	// AllowEncodedDelimiters lets this route's paths contain an encoded
	// '?' (%3F) or '#' (%23). Default false: such a path is refused with
	// 400, since an application that decodes the path before splitting it
	// sees another path and query than the one Rampart routed.
	AllowEncodedDelimiters bool `yaml:"allow_encoded_delimiters"`
	// Validate validates this route's requests against inline JSON Schemas
	// and typed parameters. On a route that is also an OpenAPI operation it
	// may only tighten (strict, max_depth).
	Validate *validate.Config `yaml:"validate"`
	// Route's IP lists (allow_ips, deny_ips and their files) narrow the
	// global allow lists for this route.
	access.Route `yaml:",inline"`
}

// Auth configures authentication. Each method is on when its section is
// present.
type Auth struct {
	// Sessions turns on users, the login page (/.rampart/login) and
	// server-side sessions. Both timeouts are required.
	Sessions *session.Config `yaml:"sessions"`
	// Tokens turns on Rampart's access and refresh tokens
	// (/.rampart/token, /.well-known/jwks.json) and Authorization: Bearer.
	Tokens *token.Config `yaml:"tokens"`
	// Issuers are external identity providers whose bearer JWTs are
	// accepted.
	Issuers []issuer.Config `yaml:"issuers"`
	// IdentityHeaders name the headers that carry the identity upstream.
	// Client-supplied copies are always removed.
	IdentityHeaders auth.IdentityHeaders `yaml:"identity_headers"`
	// Login configures the login page's redirects.
	Login login.Config `yaml:"login"`
	// Passwords is the password policy and the argon2id cost.
	Passwords Passwords `yaml:"passwords"`
}

// Enabled reports whether any authentication method is configured.
func (a Auth) Enabled() bool { return a.Sessions != nil || a.Tokens != nil || len(a.Issuers) > 0 }

// Passwords is the password policy and hashing cost.
type Passwords struct {
	password.PolicyConfig `yaml:",inline"`
	// Hash is argon2id's cost. Default: OWASP's minimum (19 MiB, 2 passes,
	// 1 thread); stored hashes made with other costs are redone at login.
	Hash password.Params `yaml:"hash"`
}

// Validation holds request validation settings shared by every route.
type Validation struct {
	// Strict rejects query parameters and body properties the schemas do
	// not declare. Default false.
	Strict bool `yaml:"strict"`
	// MaxDepth bounds the nesting of JSON bodies. Default 32.
	MaxDepth int `yaml:"max_depth"`
	// Responses validates responses against the OpenAPI document and logs
	// mismatches (never blocks). Default: on in development, off in
	// production.
	Responses *bool `yaml:"responses"`
	// BasePath is the path prefix of every OpenAPI operation. Default: the
	// path of the document's servers URLs.
	BasePath string `yaml:"base_path"`
	// MaxBufferedBytes bounds the bytes of request bodies held in memory
	// for validation at once, across all requests; a body that would go
	// over it gets 503 with Retry-After. Default 128MiB.
	MaxBufferedBytes int64 `yaml:"max_buffered_bytes"`
}

// Store says where Rampart keeps state. Each store is opened only when a
// feature needs it.
type Store struct {
	// SQLite is the embedded database file for users, sessions and
	// refresh tokens. Default "rampart.db" beside the configuration file.
	SQLite string `yaml:"sqlite"`
	// Redis, when set, holds rate-limit and login-protection counters (and
	// sessions and revocations) shared by every replica:
	// redis://[user:password@]host:port/db (rediss:// for TLS) for one
	// server, redis-sentinel://[user:password@]host:port[,host:port…]/master[/db]
	// for a master found through Sentinel, or
	// redis-cluster://[user:password@]host:port[,host:port…] for a Redis
	// Cluster's seed nodes.
	Redis string `yaml:"redis"`
	// RedisTimeout bounds every Redis call. Default 100ms.
	RedisTimeout time.Duration `yaml:"redis_timeout"`
	// RedisAutoPipeline batches concurrent rate-limit decisions into shared
	// Redis round trips (go-redis auto-pipelining, which go-redis marks
	// experimental). Each decision stays one atomic script call. Default
	// false.
	RedisAutoPipeline bool `yaml:"redis_auto_pipeline"`
	// SessionCache keeps sessions found in Redis or the embedded SQLite
	// store in a process-local cache for this long. With Redis, deletions
	// (logout, log out everywhere, a locked user) are announced over Redis
	// pub/sub and apply on every replica at once; with SQLite, deletions
	// through this process apply at once and another process's (the
	// rampart users command) within this time. Sessions in PostgreSQL are
	// not cached. Default 5s; an explicit 0 turns the cache off (one store
	// call per request).
	SessionCache *time.Duration `yaml:"session_cache"`
	// Postgres, when set, holds users for many replicas: postgres://….
	// Like Redis it may reference the environment, ${NAME}, so that the
	// password stays out of the file.
	Postgres string `yaml:"postgres"`
	// SQLTimeout bounds every call to the SQL database (PostgreSQL or
	// SQLite): a database that hangs fails the call, and the policy that
	// made it applies its failure behaviour, instead of holding the
	// request and a pooled connection. Default 1s.
	SQLTimeout time.Duration `yaml:"sql_timeout"`
	// RedisFile and PostgresFile name files holding the Redis URL and the
	// PostgreSQL DSN instead (a Kubernetes or Docker secret), read at load
	// and reload. Each excludes its inline form. Default none.
	RedisFile    string `yaml:"redis_file"`
	PostgresFile string `yaml:"postgres_file"`
	// Namespace starts every key Rampart writes to Redis, so that
	// deployments sharing one Redis never read each other's sessions,
	// refresh tokens, rate-limit budgets or lockouts. Letters, digits, '-'
	// and '_', at most 64. Default: derived from key_file when it is set
	// (replicas sharing the key share the namespace), else "default".
	// Two deployments that would share a namespace are refused at start.
	Namespace string `yaml:"namespace"`
	// KeyFile holds the record key (at least 32 bytes, for example from
	// `head -c 32 /dev/urandom > store.key`): every session and refresh
	// token family is stored with an HMAC under it, so a record edited in
	// the store, or written by another deployment, is refused. Replicas
	// sharing a store must share it. Required in production when Redis
	// holds sessions or refresh tokens. Default: none (in development with
	// Redis, a random key per process).
	KeyFile string `yaml:"key_file"`
	// Key is the record key written in the configuration, normally as a
	// reference to the environment (${RAMPART_STORE_KEY}): its bytes, at
	// least 32 (for example `openssl rand -base64 32`). It excludes
	// KeyFile; a file and a variable with the same text are the same key.
	// Default none.
	Key string `yaml:"key"`
}

// NamespaceDefault is the Redis namespace of a deployment with neither
// store.namespace nor store.key_file.
const NamespaceDefault = "default"

// HasRecordKey reports whether c configures a record key (store.key_file
// or store.key).
func (c *Config) HasRecordKey() bool { return c.Store.KeyFile != "" || c.Store.Key != "" }

// StoreNamespace returns c's Redis namespace and its record key (nil
// without store.key_file or store.key): store.namespace, or one derived
// from the key so replicas sharing the key share the namespace, or
// NamespaceDefault.
func (c *Config) StoreNamespace() (ns string, key []byte, err error) {
	ns = c.Store.Namespace
	if c.HasRecordKey() {
		setting := "store.key"
		if f := c.Store.KeyFile; f != "" {
			setting = "store.key_file"
			key, err = os.ReadFile(c.RelativePath(f))
			if err != nil {
				return "", nil, c.Errorf(setting, "%v", err)
			}
		} else {
			key = []byte(c.Store.Key)
		}
		if len(key) < 32 {
			return "", nil, c.Errorf(setting, "the key must be at least 32 bytes, got %d", len(key))
		}
		if ns == "" {
			m := hmac.New(sha256.New, key)
			m.Write([]byte("rampart store namespace v1"))
			ns = "k" + hex.EncodeToString(m.Sum(nil)[:8])
		}
	}
	if ns == "" {
		ns = NamespaceDefault
	}
	return ns, key, nil
}

// RedisPrefix starts every Redis key of namespace ns.
func RedisPrefix(ns string) string { return "rampart:" + ns + ":" }

// ValidNamespace reports whether ns can be a store.namespace.
func ValidNamespace(ns string) bool {
	if ns == "" || len(ns) > 64 {
		return false
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CSRF is the csrf section: the policy's settings plus where its key lives.
type CSRF struct {
	csrf.Config `yaml:",inline"`
	// KeyFile holds the token signing key: at least 32 bytes (for example
	// from `head -c 32 /dev/urandom > csrf.key`), readable by Rampart only.
	// Needed for token and both modes to survive restarts and to work across
	// replicas. Default: a random key per process.
	KeyFile string `yaml:"key_file"`
	// Key is the signing key written in the configuration, normally as a
	// reference to the environment (${RAMPART_CSRF_KEY}): its bytes, at
	// least 32. It excludes KeyFile. Default none.
	Key string `yaml:"key"`
}

// Upstream CORS modes (Config.UpstreamCORS).
const (
	UpstreamCORSGuard = "guard"
	UpstreamCORSPass  = "pass"
)

// Log configures logging.
type Log struct {
	// Format is json or text. Default: text when standard error is a
	// terminal, json otherwise.
	Format string `yaml:"format"`
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Access turns the one-line-per-request access log on or off.
	// Default true.
	Access *bool `yaml:"access"`
}

// Upstreams is one or more upstream base URLs. In YAML it is a string or a
// list of strings.
type Upstreams []*url.URL

// DecodeYAMLNode implements NodeDecoder.
func (u *Upstreams) DecodeYAMLNode(n *yaml.Node) error {
	var raw []string
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		raw = []string{n.Value}
	case n.Kind == yaml.SequenceNode:
		for _, e := range n.Content {
			if e.Kind != yaml.ScalarNode || e.ShortTag() != "!!str" {
				return fmt.Errorf("line %d: expected an upstream URL, got %s", e.Line, kindName(e))
			}
			raw = append(raw, e.Value)
		}
	case isNull(n):
		*u = nil
		return nil
	default:
		return fmt.Errorf("expected a URL or a list of URLs, got %s", kindName(n))
	}
	out := make(Upstreams, 0, len(raw))
	var errs []error
	for _, s := range raw {
		parsed, err := ParseUpstream(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, parsed)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*u = out
	return nil
}

// ParseUpstream parses and checks one upstream base URL: http or https, a
// host, no credentials, query or fragment.
func ParseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("invalid upstream URL %q", truncate(s, 80))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("upstream URL %q must start with http:// or https://", truncate(s, 80))
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("upstream URL %q has no host", truncate(s, 80))
	case u.User != nil:
		return nil, fmt.Errorf("upstream URL %q must not carry credentials", truncate(s, 80))
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, fmt.Errorf("upstream URL %q must not have a query or fragment", truncate(s, 80))
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return nil, fmt.Errorf("upstream URL %q has an invalid port", truncate(s, 80))
		}
	}
	return u, nil
}

// Default returns the zero-config configuration: every setting at its safe
// default and no upstream. Set Upstream before Validate.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

// Defaults of the documented settings.
const (
	DefaultListen      = ":8080"
	DefaultAdminListen = "127.0.0.1:9090"

	DefaultMaxConnsPerClient    = 256
	DefaultMaxInflightPerClient = 128
	DefaultMaxInflight          = 4096
	DefaultMaxUpstreamInflight  = 512
	DefaultMaxQueue             = 256
)

func (c *Config) applyDefaults() {
	if c.Env == "" {
		c.Env = Production
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Admin.Listen == "" {
		c.Admin.Listen = DefaultAdminListen
	}
	if c.ClientIPHeader == "" {
		c.ClientIPHeader = "X-Forwarded-For"
	}
	l := &c.Limits
	setDefault(&l.MaxHeaderBytes, 32<<10)
	setDefault(&l.MaxBodyBytes, 10<<20)
	setDefault(&l.ReadHeaderTimeout, 5*time.Second)
	if l.ReadTimeout == nil {
		l.ReadTimeout = durationPtr(5 * time.Minute)
	}
	if l.WriteTimeout == nil {
		l.WriteTimeout = durationPtr(5 * time.Minute)
	}
	setDefault(&l.IdleTimeout, 60*time.Second)
	setDefault(&l.ShutdownTimeout, 30*time.Second)
	if l.ShutdownDelay == nil {
		d := time.Duration(0)
		if c.Env == Production {
			d = DefaultShutdownDelay
		}
		l.ShutdownDelay = &d
	}
	setDefault(&l.UpstreamConnectTimeout, 5*time.Second)
	setDefault(&l.UpstreamTimeout, 60*time.Second)
	setDefault(&l.UpstreamIdleConns, 256)
	setDefaultPtr(&l.MaxConnsPerClient, DefaultMaxConnsPerClient)
	setDefaultPtr(&l.MaxInflightPerClient, DefaultMaxInflightPerClient)
	setDefaultPtr(&l.MaxInflight, DefaultMaxInflight)
	setDefaultPtr(&l.MaxUpstreamInflight, DefaultMaxUpstreamInflight)
	setDefaultPtr(&l.MaxQueue, DefaultMaxQueue)
	setDefault(&l.QueueTimeout, time.Second)
	setDefault(&l.MaxStreamResets, 100)
	setDefault(&c.Validation.MaxBufferedBytes, 128<<20)
	setDefault(&c.Store.RedisTimeout, 100*time.Millisecond)
	setDefault(&c.Store.SQLTimeout, time.Second)
	if c.Store.SessionCache == nil {
		c.Store.SessionCache = durationPtr(5 * time.Second)
	}
	if c.Store.SQLite == "" {
		c.Store.SQLite = "rampart.db"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Access == nil {
		on := true
		c.Log.Access = &on
	}
}

func durationPtr(d time.Duration) *time.Duration { return &d }

// Read returns the whole-request read timeout; 0 means no limit.
func (l Limits) Read() time.Duration { return derefDuration(l.ReadTimeout, 5*time.Minute) }

// DefaultShutdownDelay is limits.shutdown_delay in production.
const DefaultShutdownDelay = 5 * time.Second

// Delay returns limits.shutdown_delay: how long listeners serve on after
// SIGTERM with /readyz answering 503.
func (l Limits) Delay() time.Duration { return derefDuration(l.ShutdownDelay, 0) }

// Write returns the response write timeout; 0 means no limit.
func (l Limits) Write() time.Duration { return derefDuration(l.WriteTimeout, 5*time.Minute) }

// ConnsPerClient returns limits.max_conns_per_client; 0 means no limit.
func (l Limits) ConnsPerClient() int { return derefInt(l.MaxConnsPerClient, DefaultMaxConnsPerClient) }

// InflightPerClient returns limits.max_inflight_per_client; 0 means no
// limit.
func (l Limits) InflightPerClient() int {
	return derefInt(l.MaxInflightPerClient, DefaultMaxInflightPerClient)
}

// Inflight returns limits.max_inflight; 0 means no limit.
func (l Limits) Inflight() int { return derefInt(l.MaxInflight, DefaultMaxInflight) }

// UpstreamInflight returns limits.max_upstream_inflight; 0 means no limit.
func (l Limits) UpstreamInflight() int {
	return derefInt(l.MaxUpstreamInflight, DefaultMaxUpstreamInflight)
}

// Queue returns limits.max_queue; 0 means no queue.
func (l Limits) Queue() int { return derefInt(l.MaxQueue, DefaultMaxQueue) }

func derefInt(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func setDefaultPtr[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}

func derefDuration(p *time.Duration, def time.Duration) time.Duration {
	if p == nil {
		return def
	}
	return *p
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Load reads, decodes, defaults and validates the configuration file at
// path. Every problem found is returned at once as Errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// MaxFileBytes is the largest configuration file Parse accepts.
const MaxFileBytes = 4 << 20

// Parse decodes, defaults and validates a configuration. name is used in
// error messages. Unknown keys, duplicate keys, wrong types and invalid
// values are all reported, each with file, line and key.
func Parse(name string, data []byte) (*Config, error) {
	c, errs := decode(name, data)
	if c != nil {
		if verr := c.Validate(); verr != nil {
			var ve Errors
			if errors.As(verr, &ve) {
				errs = append(errs, ve...)
			}
		}
	}
	if len(errs) > 0 {
		return nil, dedupe(errs)
	}
	return c, nil
}

// Decode decodes and defaults a configuration without validating its
// values, for callers that complete it (for example from command-line flags)
// before calling Validate. Decoding errors — syntax, unknown keys, wrong
// types — are returned as Errors.
func Decode(name string, data []byte) (*Config, error) {
	c, errs := decode(name, data)
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// DecodeFile is Decode for the file at path.
func DecodeFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Decode(path, data)
}

func decode(name string, data []byte) (*Config, Errors) {
	if len(data) > MaxFileBytes {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileBytes)}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: name, Msg: "file is empty"}}
		}
		return nil, Errors{syntaxError(name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: name, Line: extra.Line, Msg: "more than one YAML document; put the whole configuration in one"}}
	}
	if len(doc.Content) > 0 && doc.Content[0].Kind != yaml.MappingNode {
		return nil, Errors{{File: name, Line: doc.Content[0].Line, Msg: "expected a mapping of configuration keys at the top level"}}
	}
	c := &Config{}
	d := &decoder{file: name, lines: map[string]position{}}
	d.decode(&doc, reflect.ValueOf(c).Elem(), "")
	c.src = &source{file: name, lines: d.lines}
	d.errs = append(d.errs, c.resolveSecrets(os.LookupEnv)...)
	c.applyDefaults()
	return c, d.errs
}

// dedupe drops validation errors for keys that already failed to decode: a
// key with a wrong type is reported once, not again as "required".
func dedupe(errs Errors) Errors {
	failed := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		if failed[e.Key] && e.Key != "" {
			continue
		}
		failed[e.Key] = true
		out = append(out, e)
	}
	return out
}

// syntaxError turns a YAML parser error into a FieldError with its line.
func syntaxError(name string, err error) *FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	fe := &FieldError{File: name, Msg: "invalid YAML: " + msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		var line int
		if _, scanErr := fmt.Sscanf(rest, "%d:", &line); scanErr == nil {
			fe.Line = line
			if _, after, found := strings.Cut(rest, ": "); found {
				fe.Msg = "invalid YAML: " + after
			}
		}
	}
	return fe
}

// source remembers where each key of a parsed file was, so that checks made
// after decoding can still name file and line.
type source struct {
	file  string
	lines map[string]position
}

// File returns the name of the file the configuration came from, or
// "configuration" for one built in code.
func (c *Config) File() string {
	if c.src == nil {
		return "configuration"
	}
	return c.src.file
}

// Line returns the line of key (a dotted path such as "routes[1].match") in
// the file, or of its nearest parent present in the file; 0 if unknown.
func (c *Config) Line(key string) int {
	if c.src == nil {
		return 0
	}
	for key != "" {
		if p, ok := c.src.lines[key]; ok {
			return p.line
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// RelativePath resolves a file path written in the configuration: a
// relative path is relative to the configuration file's directory (or the
// working directory for a configuration built in code). Empty stays empty.
func (c *Config) RelativePath(p string) string {
	if p == "" || filepath.IsAbs(p) || c.src == nil {
		return p
	}
	return filepath.Join(filepath.Dir(c.src.file), p)
}

// RouteAuth returns the authentication mode of routes[i]: as written, or
// by default required when authentication is configured and none when it
// is not.
func (c *Config) RouteAuth(i int) auth.Mode {
	explicit := c.Has(fmt.Sprintf("routes[%d].auth", i))
	if !explicit && !c.Auth.Enabled() {
		return auth.ModeNone
	}
	return c.Routes[i].Auth
}

// Has reports whether key (a dotted path) was written in the file. It is
// false for configurations built in code.
func (c *Config) Has(key string) bool {
	if c.src == nil {
		return false
	}
	_, ok := c.src.lines[key]
	return ok
}

// Errorf returns a FieldError for key with the file and line where the key
// is, for problems found after decoding (for example by a policy's
// constructor). A Go package prefix at the start of the message ("cors: ",
// "session: ") is dropped: the key already says where the problem is.
func (c *Config) Errorf(key, format string, args ...any) *FieldError {
	msg := trimPackagePrefix(fmt.Sprintf(format, args...))
	// A policy names the field it rejects ("origins[0]: …"); when that
	// field is in the file, the error points at it.
	if sub, rest, ok := strings.Cut(msg, ": "); ok && key != "" && subKey(sub) && c.Has(key+"."+sub) {
		key, msg = key+"."+sub, rest
	}
	return &FieldError{File: c.File(), Line: c.Line(key), Key: key, Msg: msg}
}

// subKey reports whether s looks like a key path: "origins[0]",
// "absolute_timeout", "login.redirect_origins".
func subKey(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '[' || r == ']') {
			return false
		}
	}
	return true
}

// packagePrefixes are the prefixes of Rampart's packages' error messages,
// which speak Go; a configuration error speaks of keys.
var packagePrefixes = map[string]bool{
	"access": true, "auth": true, "bruteforce": true, "canonical": true, "clientip": true,
	"config": true, "cors": true, "csrf": true, "gateway": true, "headers": true,
	"issuer": true, "login": true, "password": true, "ratelimit": true, "redisconn": true,
	"redisstore": true, "requestid": true, "session": true, "shield": true, "sqldb": true,
	"sqlstore": true, "token": true, "users": true, "validate": true,
}

// trimPackagePrefix drops leading "pkg: " prefixes of Rampart's packages.
func trimPackagePrefix(msg string) string {
	for {
		word, rest, ok := strings.Cut(msg, ": ")
		if !ok || !packagePrefixes[word] || rest == "" {
			return msg
		}
		msg = rest
	}
}

// Read reads and decodes the file at path, as far as it can, and returns
// the defaulted configuration with every decoding error. The configuration
// is nil only when nothing could be decoded (the file is missing, empty, or
// not YAML). Callers complete it (for example from command-line flags) and
// add the errors of later checks, so that one report lists every mistake.
func Read(path string) (*Config, Errors) {
	data, err := readFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	return decode(path, data)
}

// readFile reads a configuration file: a regular file of at most
// MaxFileBytes.
func readFile(path string) ([]byte, error) {
	// A FIFO or a device would block or never end: only regular files
	// are opened.
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		if errors.Is(err, os.ErrPermission) {
			return nil, errors.New("permission denied")
		}
		return nil, fmt.Errorf("cannot open: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	return data, nil
}

// Validate checks the values of a decoded or hand-built configuration. It
// returns Errors listing every problem.
func (c *Config) Validate() error {
	var errs Errors
	add := func(key, format string, args ...any) { errs = append(errs, c.Errorf(key, format, args...)) }

	switch c.Env {
	case "", Production, Development:
	default:
		add("env", "must be production or development, got %q", truncate(string(c.Env), 40))
	}
	switch c.UpstreamCORS {
	case "", UpstreamCORSGuard, UpstreamCORSPass:
	default:
		add("upstream_cors", "must be guard or pass, got %q", truncate(c.UpstreamCORS, 40))
	}
	if err := checkListen(c.Listen); err != nil {
		add("listen", "%v", err)
	}
	if c.Admin.Listen != "off" {
		if err := checkListen(c.Admin.Listen); err != nil {
			add("admin.listen", "%v (or \"off\")", err)
		}
	}
	errs = append(errs, c.validateAdmin()...)
	errs = append(errs, c.validateEvents()...)
	if c.TLS != nil {
		errs = append(errs, c.validateTLS()...)
	}
	if c.ListenHTTP != "" {
		if err := checkListen(c.ListenHTTP); err != nil {
			add("listen_http", "%v", err)
		} else if c.TLS == nil {
			add("listen_http", "redirects to HTTPS and answers ACME challenges, so it needs tls (tls.cert and tls.key, or tls.acme)")
		}
	}
	// A missing upstream is reported when the gateway is built: a Go
	// program may serve its application in-process instead
	// (gateway.Options.App).
	for i, u := range c.Upstream {
		if u != nil && ownListener(c.Listen, u) {
			key := "upstream"
			if len(c.Upstream) > 1 {
				key = fmt.Sprintf("upstream[%d]", i)
			}
			add(key, "%s is Rampart's own listener (listen %q): every request would loop back into the gateway; point upstream at the application", u.Redacted(), c.Listen)
		}
	}
	switch strings.ToLower(c.ClientIPHeader) {
	case "x-forwarded-for", "forwarded", "x-real-ip":
	default:
		add("client_ip_header", "must be X-Forwarded-For, Forwarded or X-Real-IP, got %q", truncate(c.ClientIPHeader, 40))
	}
	if c.Store.Namespace != "" && !ValidNamespace(c.Store.Namespace) {
		add("store.namespace", "%q: use letters, digits, '-' and '_' (at most 64)", truncate(c.Store.Namespace, 80))
	}
	if c.TLS != nil {
		for i, name := range c.TLS.CipherSuites {
			if _, ok := CipherSuiteID(name); !ok {
				add(fmt.Sprintf("tls.cipher_suites[%d]", i), "unknown cipher suite %q (use Go's names, such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)", truncate(name, 80))
			}
		}
	}
	for i, name := range c.RequestHeaders.TrustedForwarding {
		if _, err := reserved.NewFilter(reserved.FilterConfig{TrustedForwarding: []string{name}}); err != nil {
			_, msg, _ := strings.Cut(err.Error(), ": ")
			add(fmt.Sprintf("request_headers.trusted_forwarding[%d]", i), "%s", msg)
		}
	}
	l := c.Limits
	if l.MaxHeaderBytes < 1<<10 || l.MaxHeaderBytes > 1<<20 {
		add("limits.max_header_bytes", "must be between 1KiB and 1MiB")
	}
	if l.MaxBodyBytes < 0 {
		add("limits.max_body_bytes", "must not be negative")
	}
	if c.Validation.MaxBufferedBytes < 0 {
		add("validation.max_buffered_bytes", "must not be negative")
	}
	if l.Delay() > 5*time.Minute {
		add("limits.shutdown_delay", "must be at most 5m: a replica told to stop must stop")
	}
	if l.UpstreamIdleConns < 0 || l.UpstreamIdleConns > 100000 {
		add("limits.upstream_idle_conns", "must be between 1 and 100000")
	}
	for _, f := range []struct {
		key string
		v   *int
	}{
		{"limits.max_conns_per_client", l.MaxConnsPerClient},
		{"limits.max_inflight_per_client", l.MaxInflightPerClient},
		{"limits.max_inflight", l.MaxInflight},
		{"limits.max_upstream_inflight", l.MaxUpstreamInflight},
		{"limits.max_queue", l.MaxQueue},
	} {
		if f.v != nil && (*f.v < 0 || *f.v > 1000000) {
			add(f.key, "must be between 0 (no limit) and 1000000")
		}
	}
	if l.QueueTimeout < 0 || l.QueueTimeout > time.Minute {
		add("limits.queue_timeout", "must be at most 1m: a queue is for bursts, not for holding requests")
	}
	if l.MaxStreamResets < 0 || l.MaxStreamResets > 100000 {
		add("limits.max_stream_resets", "must be between 1 and 100000")
	}
	if c.Store.Redis != "" {
		if _, err := redisconn.Parse(c.Store.Redis); err != nil {
			add("store.redis", "%s", strings.TrimPrefix(err.Error(), "redisconn: "))
		}
	}
	if c.Store.SQLTimeout < 0 || c.Store.SQLTimeout > time.Minute {
		add("store.sql_timeout", "must be between 0 (the default, 1s) and 1m")
	}
	if sc := c.Store.SessionCache; sc != nil && *sc > time.Minute {
		add("store.session_cache", "must be at most 1m: it bounds how long a lost revocation announcement can go unseen")
	}
	if c.Store.Postgres != "" {
		if u, err := url.Parse(c.Store.Postgres); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			add("store.postgres", "must be a postgres:// URL with a host")
		}
	}
	seen := map[string]int{}
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		if strings.TrimSpace(r.Match) == "" {
			add(key+".match", "required: a pattern such as \"GET /api/items/{id}\"")
		} else if err := CheckPattern(r.Match); err != nil {
			add(key+".match", "%v", err)
		} else if j, dup := seen[r.Match]; dup {
			add(key+".match", "same pattern as routes[%d]", j)
		} else {
			seen[r.Match] = i
		}
		if r.MaxBodyBytes < 0 {
			add(key+".max_body_bytes", "must not be negative")
		}
		if !c.Auth.Enabled() && c.Has(key+".auth") && r.Auth != auth.ModeNone {
			add(key+".auth", "is %s, but no authentication is configured (add auth.sessions, auth.tokens or auth.issuers)", r.Auth)
		}
	}
	switch c.Log.Format {
	case "", "json", "text":
	default:
		add("log.format", "must be json or text, got %q", truncate(c.Log.Format, 40))
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		add("log.level", "must be debug, info, warn or error, got %q", truncate(c.Log.Level, 40))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// ownListener reports whether the upstream u is the gateway's own listen
// address: the same port on the same host, or on any local address when the
// gateway listens on every interface.
func ownListener(listen string, u *url.URL) bool {
	lhost, lport, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	uport := u.Port()
	if uport == "" {
		switch u.Scheme {
		case "http", "ws":
			uport = "80"
		case "https", "wss":
			uport = "443"
		}
	}
	if uport != lport {
		return false
	}
	uhost := strings.ToLower(u.Hostname())
	local := func(h string) (netip.Addr, bool) {
		if h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return netip.IPv6Loopback(), true
		}
		a, err := netip.ParseAddr(h)
		return a.Unmap(), err == nil
	}
	ua, uok := local(uhost)
	if lhost == "" {
		lhost = "::"
	}
	la, lok := local(strings.ToLower(lhost))
	if !uok || !lok {
		return uhost == strings.ToLower(lhost)
	}
	if la.IsUnspecified() {
		// Listening on every interface: any address of this machine
		// reaches the gateway.
		return ua.IsLoopback() || ua.IsUnspecified() || localAddress(ua)
	}
	if la.IsLoopback() && ua.IsLoopback() {
		return true
	}
	return la == ua
}

// localAddress reports whether a is an address of one of this machine's
// interfaces.
func localAddress(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, x := range addrs {
		if n, ok := x.(*net.IPNet); ok {
			if b, ok := netip.AddrFromSlice(n.IP); ok && b.Unmap() == a {
				return true
			}
		}
	}
	return false
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port or :port", truncate(addr, 60))
	}
	if _, err := net.LookupPort("tcp", port); err != nil || port == "" {
		return fmt.Errorf("invalid port in %q", truncate(addr, 60))
	}
	if host != "" && host != "localhost" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("listen host in %q must be an IP address or localhost", truncate(addr, 60))
		}
	}
	return nil
}

// CheckPattern reports whether p is a valid route pattern in Go's ServeMux
// syntax, without registering it anywhere.
func CheckPattern(p string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			// ServeMux panics with "parsing %q: <reason>"; keep the reason.
			if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "parsing") {
				msg = msg[i+2:]
			}
			err = fmt.Errorf("invalid pattern %q: %s", truncate(p, 80), msg)
		}
	}()
	http.NewServeMux().Handle(p, http.NotFoundHandler())
	return nil
}

// MarshalYAML writes upstreams as URL strings.
func (u Upstreams) MarshalYAML() (any, error) {
	out := make([]string, len(u))
	for i, x := range u {
		out[i] = x.String()
	}
	return out, nil
}
