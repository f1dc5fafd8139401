package config_test

import (
	"strings"
	"testing"

	"github.com/rampartsec/rampart/config"
)

func TestTLSACME(t *testing.T) {
	t.Parallel()
	const base = "upstream: http://127.0.0.1:3000\n"
	tests := []struct {
		name string
		yaml string
		errs []string // substrings of the errors, in any order; none means valid
	}{
		{"acme", "tls:\n  acme:\n    email: ops@example.com\n    domains: [app.example.com]\n    ca: https://ca.example/dir\n    storage: /var/lib/rampart/acme\n    profile: tlsserver\n    challenges: [tls-alpn-01]\n    check_interval: 5m\n", nil},
		{"acme with listen_http", "listen_http: \":80\"\ntls:\n  acme:\n    domains: [app.example.com, www.example.com]\n", nil},
		{"static with listen_http", "listen_http: \":80\"\ntls:\n  cert: a.pem\n  key: b.pem\n", nil},
		{"no domains", "tls:\n  acme:\n    email: ops@example.com\n", []string{":3: tls.acme.domains: required"}},
		{"bad domains", "tls:\n  acme:\n    domains: [\"*.example.com\", 10.0.0.1, \"bad name\", a.example, A.example.]\n",
			[]string{"tls.acme.domains[0]: wildcard", "tls.acme.domains[1]: \"10.0.0.1\" is an IP address", "tls.acme.domains[2]: \"bad name\" is not a valid host name", "tls.acme.domains[4]: same name as domains[3]"}},
		{"plain ca", "tls:\n  acme:\n    domains: [a.example]\n    ca: http://ca.example/dir\n", []string{"tls.acme.ca: must be an https://"}},
		{"bad email", "tls:\n  acme:\n    domains: [a.example]\n    email: nobody\n", []string{"tls.acme.email"}},
		{"bad challenge", "tls:\n  acme:\n    domains: [a.example]\n    challenges: [dns-01]\n", []string{"tls.acme.challenges[0]: must be http-01 or tls-alpn-01"}},
		{"http-01 without listen_http", "tls:\n  acme:\n    domains: [a.example]\n    challenges: [http-01]\n", []string{"tls.acme.challenges: http-01 is answered on listen_http"}},
		{"fast interval", "tls:\n  acme:\n    domains: [a.example]\n    check_interval: 10ms\n", []string{"tls.acme.check_interval: must be at least 1s"}},
		{"slow interval", "tls:\n  acme:\n    domains: [a.example]\n    check_interval: 2d\n", []string{"tls.acme.check_interval: must be at most 24h"}},
		{"acme and files", "tls:\n  cert: a.pem\n  key: b.pem\n  acme:\n    domains: [a.example]\n", []string{"tls.acme: cannot be combined with tls.cert and tls.key"}},
		{"listen_http without tls", "listen_http: \":80\"\n", []string{"listen_http: redirects to HTTPS and answers ACME challenges, so it needs tls"}},
		{"listen_http same as listen", "listen: \":8443\"\nlisten_http: \":8443\"\ntls:\n  acme:\n    domains: [a.example]\n", []string{"listen_http: must differ from listen"}},
		{"listen_http malformed", "listen_http: \"nowhere\"\ntls:\n  acme:\n    domains: [a.example]\n", []string{"listen_http:"}},
		{"https_port", "tls:\n  cert: a.pem\n  key: b.pem\n  https_port: 443\n", nil},
		{"bad https_port", "tls:\n  cert: a.pem\n  key: b.pem\n  https_port: 70000\n", []string{"tls.https_port: must be a port from 1 to 65535"}},
		{"unknown key", "tls:\n  acme:\n    domain: [a.example]\n", []string{"tls.acme.domain: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("rampart.yaml", []byte(base+tt.yaml))
			if len(tt.errs) == 0 {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got valid, want errors %q", tt.errs)
			}
			for _, want := range tt.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got %v, want an error containing %q", err, want)
				}
			}
		})
	}
}
