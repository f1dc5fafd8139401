package config_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
)

func TestParseValid(t *testing.T) {
	t.Parallel()
	src := `
env: development
listen: "127.0.0.1:8081"
upstream:
  - http://127.0.0.1:3000
  - https://app.internal:8443/base
admin:
  listen: "off"
trusted_proxies: ["10.0.0.0/8", "192.0.2.1", "::ffff:198.51.100.0/120"]
limits:
  max_body_bytes: 1MiB
  max_header_bytes: 16384
  read_header_timeout: 2s
  idle_timeout: 1d
routes:
  - match: "GET /public/{path...}"
  - match: "POST /hooks/{path...}"
    max_body_bytes: 64KiB
log:
  format: text
  level: debug
  access: false
`
	c, err := config.Parse("rampart.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"env", c.Env, config.Development},
		{"listen", c.Listen, "127.0.0.1:8081"},
		{"upstreams", len(c.Upstream), 2},
		{"upstream 2 path", c.Upstream[1].Path, "/base"},
		{"admin", c.Admin.Listen, "off"},
		{"proxy 0", c.TrustedProxies[0], netip.MustParsePrefix("10.0.0.0/8")},
		{"proxy 1", c.TrustedProxies[1], netip.MustParsePrefix("192.0.2.1/32")},
		{"mapped proxy", c.TrustedProxies[2], netip.MustParsePrefix("198.51.100.0/24")},
		{"body", c.Limits.MaxBodyBytes, int64(1 << 20)},
		{"header", c.Limits.MaxHeaderBytes, int64(16384)},
		{"read header", c.Limits.ReadHeaderTimeout, 2 * time.Second},
		{"idle", c.Limits.IdleTimeout, 24 * time.Hour},
		{"default write", c.Limits.Write(), 5 * time.Minute},
		{"route body", c.Routes[1].MaxBodyBytes, int64(64 << 10)},
		{"access", *c.Log.Access, false},
		{"client ip header", c.ClientIPHeader, "X-Forwarded-For"},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if got, want := c.Line("routes[1].max_body_bytes"), 18; got != want {
		t.Errorf("Line: got %d, want %d", got, want)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Parse("min.yaml", []byte("upstream: http://127.0.0.1:3000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != config.Production {
		t.Errorf("env: got %q, want production", c.Env)
	}
	if c.Listen != ":8080" || c.Admin.Listen != "127.0.0.1:9090" {
		t.Errorf("listen/admin: got %q %q", c.Listen, c.Admin.Listen)
	}
	if c.Limits.MaxBodyBytes != 10<<20 || c.Limits.MaxHeaderBytes != 32<<10 || c.Limits.ReadHeaderTimeout != 5*time.Second {
		t.Errorf("limits: got %+v", c.Limits)
	}
	if len(c.TrustedProxies) != 0 {
		t.Errorf("trusted proxies: got %v, want none", c.TrustedProxies)
	}
}

// TestThreeMistakes is the promise made to users: every mistake is reported
// in one run, each with file, line and key.
func TestThreeMistakes(t *testing.T) {
	t.Parallel()
	src := `upstream: http://127.0.0.1:3000
limits:
  read_header_timeout: 5 seconds
  max_body_byte: 1MiB
trusted_proxies: ["10.0.0.0/33"]
`
	_, err := config.Parse("bad.yaml", []byte(src))
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want config.Errors", err)
	}
	want := []string{
		`bad.yaml:3: limits.read_header_timeout: invalid duration "5 seconds"`,
		`bad.yaml:4: limits.max_body_byte: unknown key (did you mean "max_body_bytes"?)`,
		`bad.yaml:5: trusted_proxies[0]: invalid CIDR "10.0.0.0/33"`,
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d: got %q, want prefix %q", i, errs[i].Error(), w)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want string // substring of the joined error, including file:line
	}{
		{"empty", "", "x.yaml: file is empty"},
		{"not a mapping", "- a\n- b\n", "x.yaml:1: expected a mapping"},
		{"syntax", "upstream: [\n", "x.yaml"},
		{"tab indentation", "limits:\n\tmax_body_bytes: 1\n", "x.yaml:2: invalid YAML"},
		{"upstream scheme", "upstream: ftp://x\n", "x.yaml:1: upstream: upstream URL \"ftp://x\" must start with http"},
		{"upstream creds", "upstream: http://u:p@x\n", "must not carry credentials"},
		{"upstream list item type", "upstream: [1]\n", "x.yaml:1: upstream: line 1: expected an upstream URL"},
		{"env", "upstream: http://x\nenv: prod\n", "x.yaml:2: env: must be production or development"},
		{"bool as yes", "upstream: http://x\nlog:\n  access: yes\n", "x.yaml:3: log.access: expected true or false"},
		{"int as string", "upstream: http://x\nlimits:\n  upstream_idle_conns: many\n", "x.yaml:3: limits.upstream_idle_conns: expected an integer"},
		{"bare number duration", "upstream: http://x\nlimits:\n  idle_timeout: 60\n", "x.yaml:3: limits.idle_timeout: invalid duration \"60\""},
		{"negative duration", "upstream: http://x\nlimits:\n  idle_timeout: -1s\n", "must not be negative"},
		{"bad size", "upstream: http://x\nlimits:\n  max_body_bytes: ten\n", "x.yaml:3: limits.max_body_bytes: invalid size"},
		{"host bits", "upstream: http://x\ntrusted_proxies: [10.1.2.3/8]\n", "has host bits set (did you mean 10.0.0.0/8?)"},
		{"cidr not list", "upstream: http://x\ntrusted_proxies: 10.0.0.0/8\n", "x.yaml:2: trusted_proxies: expected a list"},
		{"duplicate key", "upstream: http://x\nupstream: http://y\n", "x.yaml:2: upstream: duplicate key"},
		{"unknown top key", "upstream: http://x\ncorz: {}\n", "x.yaml:2: corz: unknown key"},
		{"bad listen", "upstream: http://x\nlisten: 8080\n", "x.yaml:2: listen: expected a string, got integer 8080 (quote it"},
		{"bad listen addr", "upstream: http://x\nlisten: 'localhost'\n", "x.yaml:2: listen: invalid address"},
		{"route pattern", "upstream: http://x\nroutes:\n  - match: 'GET /a/{x'\n", "x.yaml:3: routes[0].match: invalid pattern"},
		{"route missing match", "upstream: http://x\nroutes:\n  - max_body_bytes: 1\n", "x.yaml:3: routes[0].match: required"},
		{"route duplicate", "upstream: http://x\nroutes:\n  - match: /a\n  - match: /a\n", "x.yaml:4: routes[1].match: same pattern as routes[0]"},
		{"tls half", "upstream: http://x\ntls:\n  cert: a.pem\n", "x.yaml:2: tls.key: required"},
		{"two documents", "upstream: http://x\n---\nlisten: ':1'\n", "more than one YAML document"},
		{"log level", "upstream: http://x\nlog: {level: loud}\n", "x.yaml:2: log.level: must be"},
		{"client ip header", "upstream: http://x\nclient_ip_header: True-Client-IP\n", "client_ip_header: must be"},
		{"anchor alias ok but wrong type", "a: &a 1\nupstream: http://x\n", "x.yaml:1: a: unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("x.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("got no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err.Error(), tc.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"30s", 30 * time.Second, true},
		{"365d", 365 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"1.5h", 90 * time.Minute, true},
		{"15", 0, false},
		{"", 0, false},
		{"-1s", 0, false},
		{"1y", 0, false},
		{"d", 0, false},
		{"99999999999999999999d", 0, false},
	}
	for _, tc := range tests {
		got, err := config.ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q): got %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512", 512, true},
		{"32KiB", 32 << 10, true},
		{"10MiB", 10 << 20, true},
		{"1mb", 1000 * 1000, true},
		{"2 GiB", 2 << 30, true},
		{"1_000", 1000, true},
		{"-1", 0, false},
		{"1.5MiB", 0, false},
		{"ten", 0, false},
		{"99999999999GiB", 0, false},
	}
	for _, tc := range tests {
		got, err := config.ParseBytes(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseBytes(%q): got %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"192.0.2.7", "192.0.2.7/32"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"::1", "::1/128"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"::ffff:10.0.0.1", "10.0.0.1/32"},
		{"fe80::1%eth0", ""},
		{"10.0.0.1/8", ""},
		{"10.0.0.0/33", ""},
		{"example.com", ""},
		{"::ffff:0:0/90", ""},
	}
	for _, tc := range tests {
		p, err := config.ParsePrefix(tc.in)
		got := ""
		if err == nil {
			got = p.String()
		}
		if got != tc.want {
			t.Errorf("ParsePrefix(%q): got %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	t.Parallel()
	c := config.Default()
	// No upstream is not a configuration error: a Go program may serve its
	// application in-process (the gateway reports a missing one).
	if err := c.Validate(); err != nil {
		t.Fatalf("default configuration: %v", err)
	}
	u, err := config.ParseUpstream("http://127.0.0.1:3000")
	if err != nil {
		t.Fatal(err)
	}
	c.Upstream = config.Upstreams{u}
	if err := c.Validate(); err != nil {
		t.Fatalf("got %v, want valid", err)
	}
}

// TestUpstreamLoop refuses an upstream that is Rampart's own listener.
func TestUpstreamLoop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		listen, upstream string
		loop             bool
	}{
		{":8080", "http://127.0.0.1:8080", true},
		{":8080", "http://localhost:8080", true},
		{":8080", "http://[::1]:8080", true},
		{"0.0.0.0:80", "http://127.0.0.1", true},
		{"127.0.0.1:8080", "http://localhost:8080/app", true},
		{"127.0.0.1:8080", "http://127.0.0.1:3000", false},
		{":8080", "http://10.1.2.3:8080", false},
		{":8080", "http://app.internal:8080", false},
		{"127.0.0.1:8443", "https://127.0.0.1:8443", true},
	} {
		c, err := config.Parse("rampart.yaml", []byte("listen: \""+tc.listen+"\"\nupstream: "+tc.upstream+"\n"))
		switch {
		case tc.loop && (err == nil || !strings.Contains(err.Error(), "rampart.yaml:2: upstream: ") || !strings.Contains(err.Error(), "loop")):
			t.Errorf("listen %s upstream %s: got %v, want a loop error at upstream", tc.listen, tc.upstream, err)
		case !tc.loop && err != nil:
			t.Errorf("listen %s upstream %s: got %v, want no error", tc.listen, tc.upstream, err)
		}
		_ = c
	}
}
