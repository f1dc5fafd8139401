package checklist_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/audit/checklist"
	"github.com/rampartsec/rampart/config"
)

// base is a configuration that triggers no rule; cases add to it.
const base = `env: production
upstream: http://127.0.0.1:3000
tls: {cert: /etc/rampart/tls.crt, key: /etc/rampart/tls.key}
allow: {hosts: [app.example.com]}
rate_limits: [{key: ip, limit: 100, per: 1m}]
routes:
  - match: "GET /{$}"
`

// readableKey and privateKey are key files made by TestMain: mode 0644
// and 0600.
var (
	readableKey = filepath.Join(os.TempDir(), "rampart-checklist-"+strconv.Itoa(os.Getpid())+"-readable.key")
	privateKey  = filepath.Join(os.TempDir(), "rampart-checklist-"+strconv.Itoa(os.Getpid())+"-private.key")
)

// ruleCases holds, for every rule, a configuration that triggers it and one
// that does not. TestEveryRuleIsTested keeps it complete.
var ruleCases = map[string]struct {
	trigger, clean string
	key            string // the key the finding must name, if any
	// mode, when set, writes each config to a file with this mode and
	// loads it from there, for rules about the file itself.
	mode os.FileMode
}{
	"config-file-readable-secret": {
		trigger: base + "store: {redis: \"redis://:hunter2hunter2@127.0.0.1:6379/0\"}\n",
		clean:   base + "store: {redis: \"redis://:${RAMPART_TEST_REDIS_PASSWORD}@127.0.0.1:6379/0\"}\n",
		key:     "store.redis", mode: 0o644,
	},
	"env-missing": {
		trigger: "upstream: http://127.0.0.1:3000\ntls: {cert: a, key: b}\nroutes: [{match: /}]\nallow: {hosts: [a]}\n",
		clean:   base,
	},
	"development-mode": {
		trigger: "env: development\nupstream: http://127.0.0.1:3000\nroutes: [{match: /}]\n",
		clean:   base, key: "env",
	},
	"trusted-proxies-everything": {
		trigger: base + "trusted_proxies: [10.0.0.0/8, 0.0.0.0/0]\n",
		clean:   base + "trusted_proxies: [10.0.0.0/8]\n", key: "trusted_proxies[1]",
	},
	"trusted-proxies-broad": {
		trigger: base + "trusted_proxies: [\"2001::/16\"]\n",
		clean:   base + "trusted_proxies: [\"2001:db8::/48\", 10.0.0.0/8]\n", key: "trusted_proxies[0]",
	},
	"admin-public": {
		trigger: base + "admin: {listen: \":9090\"}\n",
		clean:   base + "admin: {listen: \"[::1]:9090\"}\n", key: "admin.listen",
	},
	"routes-undeclared": {
		trigger: "env: production\nupstream: http://127.0.0.1:3000\ntls: {cert: a, key: b}\n",
		clean:   base,
	},
	"tls-missing": {
		trigger: "env: production\nupstream: http://127.0.0.1:3000\nroutes: [{match: /}]\n",
		clean:   "env: production\nupstream: http://127.0.0.1:3000\nroutes: [{match: /}]\ntrusted_proxies: [10.0.0.0/8]\n",
	},
	"limits-body-large": {
		trigger: base + "limits: {max_body_bytes: 1GiB}\n",
		clean:   base + "limits: {max_body_bytes: 50MiB}\n", key: "limits.max_body_bytes",
	},
	"limits-timeouts-off": {
		trigger: base + "limits: {read_timeout: 0}\n",
		clean:   base + "limits: {read_timeout: 30s, read_header_timeout: 10s}\n", key: "limits.read_timeout",
	},
	"limits-overload-off": {
		trigger: base + "limits: {max_conns_per_client: 0}\n",
		clean:   base + "limits: {max_conns_per_client: 1000}\n", key: "limits.max_conns_per_client",
	},
	"hosts-unrestricted": {
		trigger: "env: production\nupstream: http://127.0.0.1:3000\ntls: {cert: a, key: b}\nroutes: [{match: /}]\n",
		clean:   base,
	},
	"headers-off": {
		trigger: base + "headers: {preset: none}\n",
		clean:   base + "headers: {preset: strict}\n", key: "headers.preset",
	},
	"csp-missing": {
		trigger: base + "headers: {remove: [X-Debug, Content-Security-Policy]}\n",
		clean:   base + "headers: {remove: [X-Debug]}\n", key: "headers.remove[1]",
	},
	"csp-unsafe-inline": {
		trigger: base + "headers: {csp: {script-src: [\"'self'\", \"'unsafe-inline'\"]}}\n",
		clean:   base + "headers: {nonce: true, csp: {script-src: [\"'self'\", \"'unsafe-inline'\"]}}\n", key: "headers.csp",
	},
	"hsts-missing": {
		trigger: base + "headers: {remove: [Strict-Transport-Security]}\n",
		clean:   base + "headers: {hsts: {max_age: 365d}}\n", key: "headers.remove[0]",
	},
	"hsts-short": {
		trigger: base + "headers: {hsts: {max_age: 1d}}\n",
		clean:   base + "headers: {hsts: {max_age: 200d}}\n", key: "headers.hsts.max_age",
	},
	"error-shield-off": {
		trigger: base + "errors: {shield: false}\n",
		clean:   base + "errors: {shield: true}\n", key: "errors.shield",
	},
	"error-inspection-off": {
		trigger: base + "errors: {inspect: false}\n",
		clean:   base + "errors: {inspect: true}\n", key: "errors.inspect",
	},
	"csrf-off": {
		trigger: base + "csrf: {mode: \"off\"}\n",
		clean:   base + "csrf: {mode: both, key_file: /etc/rampart/csrf.key}\n", key: "csrf.mode",
	},
	"csrf-route-off": {
		trigger: base + "  - match: \"POST /hooks/{name}\"\n    csrf: \"off\"\n",
		clean:   base + "  - match: \"POST /hooks/{name}\"\n    csrf: origin\n", key: "routes[1].csrf",
	},
	"csrf-key-ephemeral": {
		trigger: base + "csrf: {mode: token}\n",
		clean:   base + "csrf: {mode: token, key_file: /etc/rampart/csrf.key}\n", key: "csrf.mode",
	},
	"cors-any-origin": {
		trigger: base + "cors: {origins: [\"*\"]}\n",
		clean:   base + "cors: {origins: [\"https://app.example.com\"]}\n", key: "cors.origins[0]",
	},
	"cors-null-origin": {
		trigger: base + "cors: {origins: [\"https://app.example.com\", \"null\"]}\n",
		clean:   base + "cors: {origins: [\"https://app.example.com\"]}\n", key: "cors.origins[1]",
	},
	"cors-insecure-origin": {
		trigger: base + "cors: {origins: [\"http://app.example.com\"]}\n",
		clean:   base + "cors: {origins: [\"http://localhost:5173\", \"https://app.example.com\"]}\n", key: "cors.origins[0]",
	},
	"cors-shared-hosting-pattern": {
		trigger: base + "  - match: \"GET /api\"\n    cors: {origins: [\"https://*.herokuapp.com\"]}\n",
		clean:   base + "cors: {origins: [\"https://*.example.com\", \"https://myapp.herokuapp.com\"]}\n", key: "routes[1].cors.origins[0]",
	},
	"ratelimit-none": {
		trigger: "env: production\nupstream: http://127.0.0.1:3000\ntls: {cert: a, key: b}\nallow: {hosts: [a]}\nroutes: [{match: /}]\n",
		clean:   "env: production\nupstream: http://127.0.0.1:3000\ntls: {cert: a, key: b}\nallow: {hosts: [a]}\nroutes: [{match: /, rate_limits: [{limit: 1, per: 1s}]}]\n",
	},
	"ratelimit-login-route": {
		trigger: "env: production\nupstream: http://127.0.0.1:3000\ntls: {cert: a, key: b}\nallow: {hosts: [a]}\nroutes:\n  - {match: \"GET /\", rate_limits: [{limit: 1, per: 1s}]}\n  - {match: \"POST /api/login\"}\n",
		clean:   "env: production\nupstream: http://127.0.0.1:3000\ntls: {cert: a, key: b}\nallow: {hosts: [a]}\nroutes:\n  - {match: \"GET /\", rate_limits: [{limit: 1, per: 1s}]}\n  - {match: \"POST /api/login\", rate_limits: [{limit: 5, per: 1m}]}\n",
		key:     "routes[1].match",
	},
	"ratelimit-dry-run": {
		trigger: base + "  - {match: \"POST /x\", rate_limits: [{limit: 1, per: 1s, dry_run: true}]}\n",
		clean:   base + "  - {match: \"POST /x\", rate_limits: [{limit: 1, per: 1s}]}\n", key: "routes[1].rate_limits[0].dry_run",
	},
	"login-protection-fail-open": {
		trigger: base + "login_protection: {on_store_error: fail_open}\n",
		clean:   base + "login_protection: {on_store_error: fail_closed}\n", key: "login_protection.on_store_error",
	},
	"validation-missing": {
		trigger: base + "  - match: \"POST /api/items\"\n",
		clean:   base + "  - match: \"POST /api/items\"\n    validate: {body_schema: item.json}\n", key: "routes[1].match",
	},
	"validation-lenient": {
		trigger: base + "openapi: api.yaml\n",
		clean:   base + "openapi: api.yaml\nvalidation: {strict: true}\n",
	},
	"session-lifetime": {
		trigger: base + "auth: {sessions: {idle_timeout: 30m, absolute_timeout: 365d}}\n",
		clean:   base + "auth: {sessions: {idle_timeout: 30m, absolute_timeout: 12h}}\n", key: "auth.sessions.absolute_timeout",
	},
	"session-insecure-cookie": {
		trigger: base + "auth: {sessions: {idle_timeout: 30m, absolute_timeout: 12h, unsafe_insecure_cookie: true}}\n",
		clean:   base + "auth: {sessions: {idle_timeout: 30m, absolute_timeout: 12h}}\n", key: "auth.sessions.unsafe_insecure_cookie",
	},
	"token-signing-key": {
		trigger: base + "auth: {tokens: {access_ttl: 15m, refresh_ttl: 720h, signing_key: /nonexistent/key.pem}}\n",
		clean:   base + "auth: {tokens: {access_ttl: 15m, refresh_ttl: 720h, signing_key: {{key}}}}\n", key: "auth.tokens.signing_key",
	},
	"store-record-key": {
		trigger: base + "store: {redis: \"redis://127.0.0.1:6379/0\"}\nauth: {sessions: {idle_timeout: 30m, absolute_timeout: 12h}}\n",
		clean:   base + "store: {redis: \"redis://127.0.0.1:6379/0\", key_file: store.key}\nauth: {sessions: {idle_timeout: 30m, absolute_timeout: 12h}}\n", key: "store",
	},
	"token-lifetime-long": {
		trigger: base + "auth: {tokens: {access_ttl: 1h, refresh_ttl: 720h, signing_key: {{key}}}}\n",
		clean:   base + "auth: {tokens: {access_ttl: 15m, refresh_ttl: 720h, signing_key: {{key}}}}\n", key: "auth.tokens.access_ttl",
	},
	"auth-nothing-protected": {
		trigger: "env: production\nupstream: http://127.0.0.1:3000\ntls: {cert: a, key: b}\nallow: {hosts: [a]}\nrate_limits: [{limit: 1, per: 1s}]\nauth: {sessions: {idle_timeout: 30m, absolute_timeout: 12h}}\nroutes: [{match: /, auth: none}]\n",
		clean:   "env: production\nupstream: http://127.0.0.1:3000\ntls: {cert: a, key: b}\nallow: {hosts: [a]}\nrate_limits: [{limit: 1, per: 1s}]\nauth: {sessions: {idle_timeout: 30m, absolute_timeout: 12h}}\nroutes: [{match: /public, auth: none}, {match: /}]\n",
	},
	"admin-pprof": {
		trigger: base + "admin: {pprof: true}\n",
		clean:   base + "admin: {pprof: false}\n", key: "admin.pprof",
	},
	"admin-pprof-public": {
		trigger: base + "admin: {listen: \"0.0.0.0:9090\", pprof: true}\n",
		clean:   base + "admin: {listen: \"127.0.0.1:9090\", pprof: true}\n", key: "admin.pprof",
	},
	"credentials-insecure-origin": {
		trigger: base + "cors: {origins: [\"http://app.example.com\"], credentials: true}\n",
		clean:   base + "cors: {origins: [\"https://app.example.com\"], credentials: true}\n", key: "cors.origins[0]",
	},
	"secret-file-readable": {
		trigger: base + "csrf: {key_file: " + readableKey + "}\n",
		clean:   base + "csrf: {key_file: " + privateKey + "}\n", key: "csrf.key_file",
	},
	"access-log-off": {
		trigger: base + "log: {access: false}\n",
		clean:   base + "log: {access: true}\n", key: "log.access",
	},
}

var (
	keyOnce sync.Once
	keyPath string
)

// signingKey writes a fresh Ed25519 key, readable by its owner only, for
// the rules that check key files.
func signingKey(t *testing.T) string {
	t.Helper()
	keyOnce.Do(func() {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		dir, err := os.MkdirTemp("", "checklist-key-")
		if err != nil {
			t.Fatal(err)
		}
		keyPath = filepath.Join(dir, "ed25519.pem")
		if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	return keyPath
}

func parse(t *testing.T, src string) *config.Config {
	t.Helper()
	src = strings.ReplaceAll(src, "{{key}}", signingKey(t))
	c, err := config.Parse("rampart.yaml", []byte(src))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}

// loadFile writes src to a file with mode and loads it.
func loadFile(t *testing.T, src string, mode os.FileMode) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rampart.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(src, "{{key}}", signingKey(t))), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}

// TestReadableSecretOnlyWhenOthersCanRead: the same inline password in a
// file only its owner reads is not a finding.
func TestReadableSecretOnlyWhenOthersCanRead(t *testing.T) {
	c := loadFile(t, base+"store: {redis: \"redis://:hunter2hunter2@127.0.0.1:6379/0\"}\n", 0o600)
	if got := findingsFor(checklist.Run(c), "config-file-readable-secret"); len(got) != 0 {
		t.Errorf("mode 600: got %+v, want no finding", got)
	}
}

// TestReadableSecretNamesEverySecret: a key, token or client secret
// written into a readable file is a finding naming its key; the same
// settings as environment references are not.
func TestReadableSecretNamesEverySecret(t *testing.T) {
	for key, body := range map[string]string{
		"store.key":   "store: {key: \"0123456789abcdef0123456789abcdef\"}\n",
		"csrf.key":    "csrf: {key: \"0123456789abcdef0123456789abcdef\"}\n",
		"admin.token": "admin: {token: \"0123456789abcdef\"}\n",
	} {
		got := findingsFor(checklist.Run(loadFile(t, base+body, 0o644)), "config-file-readable-secret")
		if len(got) != 1 || got[0].Key != key {
			t.Errorf("%s written out: got %+v, want one finding naming it", key, got)
		}
		ref := "store: {key: \"${RAMPART_TEST_REDIS_PASSWORD}\"}\n"
		if got := findingsFor(checklist.Run(loadFile(t, base+ref, 0o644)), "config-file-readable-secret"); len(got) != 0 {
			t.Errorf("a reference: got %+v, want no finding", got)
		}
	}
}

func findingsFor(fs []checklist.Finding, id string) []checklist.Finding {
	var out []checklist.Finding
	for _, f := range fs {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

func TestRules(t *testing.T) {
	t.Parallel()
	for id, tc := range ruleCases {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			load := func(src string) *config.Config { return parse(t, src) }
			if tc.mode != 0 {
				load = func(src string) *config.Config { return loadFile(t, src, tc.mode) }
			}
			got := findingsFor(checklist.Run(load(tc.trigger)), id)
			if len(got) == 0 {
				t.Fatalf("trigger config: no %s finding", id)
			}
			if tc.key != "" {
				if got[0].Key != tc.key || got[0].Line == 0 || filepath.Base(got[0].File) != "rampart.yaml" {
					t.Errorf("finding location: got %q line %d in %q, want key %q with a line", got[0].Key, got[0].Line, got[0].File, tc.key)
				}
			}
			if got[0].Title == "" || got[0].Fix == "" || got[0].Item == 0 {
				t.Errorf("incomplete finding %+v", got[0])
			}
			if clean := findingsFor(checklist.Run(load(tc.clean)), id); len(clean) != 0 {
				t.Errorf("clean config: got %+v", clean)
			}
		})
	}
}

func TestEveryRuleIsTested(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range checklist.Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		seen[r.ID] = true
		if _, ok := ruleCases[r.ID]; !ok {
			t.Errorf("rule %s has no test case", r.ID)
		}
		if r.Title == "" || r.Fix == "" || r.Rationale == "" || checklist.Items[r.Item] == "" || r.Severity == 0 {
			t.Errorf("rule %s is incomplete", r.ID)
		}
	}
	for id := range ruleCases {
		if !seen[id] {
			t.Errorf("test case for unknown rule %s", id)
		}
	}
}

func TestBaseIsClean(t *testing.T) {
	t.Parallel()
	if fs := checklist.Run(parse(t, base)); len(fs) != 0 {
		t.Errorf("base config has findings: %+v", fs)
	}
}

func TestBlockingOnlyInProduction(t *testing.T) {
	t.Parallel()
	prod := parse(t, base+"trusted_proxies: [0.0.0.0/0]\n")
	if b := checklist.Blocking(prod, checklist.Run(prod)); len(b) != 1 || b[0].Rule != "trusted-proxies-everything" {
		t.Errorf("production: got %+v, want the critical finding to block", b)
	}
	dev := parse(t, "env: development\nupstream: http://127.0.0.1:3000\ntrusted_proxies: [0.0.0.0/0]\n")
	if b := checklist.Blocking(dev, checklist.Run(dev)); len(b) != 0 {
		t.Errorf("development: got %+v, want nothing to block", b)
	}
}

func TestMain(m *testing.M) {
	// The environment reference of config-file-readable-secret's clean case.
	_ = os.Setenv("RAMPART_TEST_REDIS_PASSWORD", "from-the-environment")
	key := []byte("0123456789abcdef0123456789abcdef")
	if err := os.WriteFile(readableKey, key, 0o600); err != nil {
		panic(err)
	}
	if err := os.Chmod(readableKey, 0o644); err != nil {
		panic(err)
	}
	if err := os.WriteFile(privateKey, key, 0o600); err != nil {
		panic(err)
	}
	code := m.Run()
	_ = os.Remove(readableKey)
	_ = os.Remove(privateKey)
	if keyPath != "" {
		_ = os.RemoveAll(filepath.Dir(keyPath))
	}
	os.Exit(code)
}

// TestGuardHoles holds the production guard to the union of what is
// configured, not to each piece: every case must be critical (the start is
// refused) under the named rule.
func TestGuardHoles(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ yaml, rule string }{
		"IPv4 halves":             {base + "trusted_proxies: [0.0.0.0/1, 128.0.0.0/1]\n", "trusted-proxies-everything"},
		"IPv4 quarters":           {base + "trusted_proxies: [0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/2, 192.0.0.0/2]\n", "trusted-proxies-everything"},
		"IPv4 uneven pieces":      {base + "trusted_proxies: [0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/3, 224.0.0.0/3]\n", "trusted-proxies-everything"},
		"IPv6 global unicast":     {base + "trusted_proxies: [\"2000::/3\"]\n", "trusted-proxies-everything"},
		"IPv6 halves of 2000::/3": {base + "trusted_proxies: [\"2000::/4\", \"3000::/4\"]\n", "trusted-proxies-everything"},
		"pprof on all interfaces": {base + "admin: {listen: \":9090\", pprof: true}\n", "admin-pprof-public"},
		"http origin credentials": {base + "  - match: \"GET /api\"\n    cors: {origins: [\"http://a.example.com\"], credentials: true}\n", "credentials-insecure-origin"},
		"http login redirect":     {base + "auth:\n  sessions: {idle_timeout: 30m, absolute_timeout: 8h}\n  login: {redirect_origins: [\"http://app.example.com\"]}\n", "credentials-insecure-origin"},
		"any origin credentials":  {base + "cors: {origins: [\"*\"], credentials: true}\n", "cors-any-origin"},
		"github.io credentials":   {base + "cors: {origins: [\"https://*.github.io\"], credentials: true}\n", "cors-shared-hosting-pattern"},
		"PSL private section":     {base + "cors: {origins: [\"https://*.blogspot.com\"], credentials: true}\n", "cors-shared-hosting-pattern"},
		"CSRF trusted shared":     {base + "csrf: {trusted_origins: [\"https://*.vercel.app\"]}\n", "cors-shared-hosting-pattern"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := parse(t, tc.yaml)
			var got []string
			for _, f := range checklist.Blocking(c, checklist.Run(c)) {
				got = append(got, f.Rule)
				if f.Rule == tc.rule {
					return
				}
			}
			t.Errorf("blocking rules: got %v, want %s", got, tc.rule)
		})
	}
	clean := map[string]string{
		"IPv4 three quarters":   base + "trusted_proxies: [0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/2]\n",
		"private ranges":        base + "trusted_proxies: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, \"fd00::/8\"]\n",
		"pprof on loopback":     base + "admin: {listen: \"127.0.0.1:9090\", pprof: true}\n",
		"own domain pattern":    base + "cors: {origins: [\"https://*.example.co.uk\"], credentials: true}\n",
		"one github.io site":    base + "cors: {origins: [\"https://me.github.io\"], credentials: true}\n",
		"github.io, no cookies": base + "cors: {origins: [\"https://*.github.io\"]}\n",
	}
	for name, y := range clean {
		t.Run("clean/"+name, func(t *testing.T) {
			t.Parallel()
			c := parse(t, y)
			if b := checklist.Blocking(c, checklist.Run(c)); len(b) != 0 {
				t.Errorf("got blocking %v, want none", b[0].Rule)
			}
		})
	}
}

// TestSecretFilesOfEveryKind: every setting whose file holds a secret is
// checked for its mode, not only the CSRF key.
func TestSecretFilesOfEveryKind(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"csrf.key_file", "store.key_file", "admin.token_file", "tls.key"} {
		section, field, _ := strings.Cut(key, ".")
		extra := fmt.Sprintf("%s: {%s: %s}\n", section, field, readableKey)
		src := strings.Replace(base, "tls: {cert: /etc/rampart/tls.crt, key: /etc/rampart/tls.key}\n", "", 1)
		if section != "tls" {
			src += "tls: {cert: /etc/rampart/tls.crt, key: /etc/rampart/tls.key}\n"
		} else {
			extra = fmt.Sprintf("tls: {cert: /etc/rampart/tls.crt, key: %s}\n", readableKey)
		}
		fs := findingsFor(checklist.Run(parse(t, src+extra)), "secret-file-readable")
		if len(fs) != 1 || fs[0].Key != key {
			t.Errorf("%s readable by others: got %+v, want one finding naming %s", key, fs, key)
		}
	}
}

// TestWebhookSecretInReadableConfig: a webhook credential written into a
// configuration file that others can read is the same finding as a store
// password, pointing at the webhook's line.
func TestWebhookSecretInReadableConfig(t *testing.T) {
	t.Parallel()
	c := loadFile(t, base+"events:\n  webhooks:\n    - url: https://siem.example/ingest\n      headers: {Authorization: \"Bearer literal-token\"}\n", 0o644)
	fs := findingsFor(checklist.Run(c), "config-file-readable-secret")
	if len(fs) != 1 || fs[0].Key != "events.webhooks[0].headers.Authorization" {
		t.Fatalf("got %+v, want one finding for the webhook's Authorization header", fs)
	}
	if strings.Contains(fmt.Sprintf("%+v", fs[0]), "literal-token") {
		t.Errorf("the finding shows the secret: %+v", fs[0])
	}
}
