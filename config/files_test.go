package config_test

import (
	"slices"
	"testing"

	"github.com/rampartsec/rampart/config"
)

func TestFiles(t *testing.T) {
	t.Parallel()
	c, err := config.Parse("rampart.yaml", []byte(`
upstream: http://127.0.0.1:3000
tls:
  cert: /etc/rampart/tls.crt
  key: /etc/rampart/tls.key
admin:
  token_file: /run/secrets/admin-token
openapi: api.yaml
rate_limits:
  - { name: per-ip, key: ip, limit: 10, per: 1m }
store:
  sqlite: /var/lib/rampart/rampart.db
`))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Files()
	want := []string{"/etc/rampart/tls.crt", "/etc/rampart/tls.key", "/run/secrets/admin-token", "api.yaml"}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("Files() = %q, missing %q", got, w)
		}
	}
	for _, bad := range []string{"ip", "/var/lib/rampart/rampart.db", "per-ip"} {
		if slices.Contains(got, bad) {
			t.Errorf("Files() = %q, includes %q, which is not a file the configuration reads", got, bad)
		}
	}
}

// TestFilesRelativeToTheConfiguration: Files names each file where Rampart
// reads it, relative to the configuration file, so that serve --watch
// watches the files that are used whatever the working directory.
func TestFilesRelativeToTheConfiguration(t *testing.T) {
	t.Parallel()
	c, err := config.Parse("/etc/rampart/rampart.yaml", []byte(`
upstream: http://127.0.0.1:3000
tls: {cert: tls.crt, key: /etc/ssl/tls.key}
admin: {token_file: secrets/admin-token}
openapi: ../api/openapi.yaml
`))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Files()
	for _, w := range []string{"/etc/rampart/tls.crt", "/etc/ssl/tls.key", "/etc/rampart/secrets/admin-token", "/etc/api/openapi.yaml"} {
		if !slices.Contains(got, w) {
			t.Errorf("Files() = %q, missing %q", got, w)
		}
	}
}
