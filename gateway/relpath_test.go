package gateway_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

// TestPathsRelativeToTheConfigurationFile: every file a configuration
// names — the TLS certificate and key, the admin token, the OpenAPI
// document, IP lists, keys — is read relative to the configuration file,
// not to the working directory (the test runs in the package directory,
// where none of them is).
func TestPathsRelativeToTheConfigurationFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, _ := testutil.SelfSignedCert(t, dir)
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("admin-token", strings.Repeat("t", 40)+"\n")
	write("csrf.key", strings.Repeat("k", 64)+"\n")
	write("allow.txt", "192.0.2.0/24\n")
	write("api.yaml", "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths:\n  /items:\n    get:\n      responses: {\"200\": {description: ok}}\n")
	cfgPath := filepath.Join(dir, "rampart.yaml")
	write("rampart.yaml", fmt.Sprintf(`env: development
upstream: http://127.0.0.1:1
tls: {cert: %s, key: %s}
admin: {listen: "off", token_file: admin-token}
csrf: {key_file: csrf.key}
allow: {ips_file: allow.txt}
openapi: api.yaml
`, filepath.Base(certFile), filepath.Base(keyFile)))
	if _, err := os.Stat(filepath.Base(certFile)); err == nil {
		t.Fatal("the working directory holds the certificate: the test proves nothing")
	}
	c, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(c, gateway.Options{})
	if err != nil {
		t.Fatalf("a configuration whose files sit beside it: %v", err)
	}
	defer g.Close()
	for _, f := range c.Files() {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("Files() names %s, which serve --watch would watch in vain: %v", f, err)
		}
	}
}

// TestACMERootRelativeToTheConfigurationFile: tls.acme.ca_root is found
// beside the configuration file, both when the configuration is checked
// and when the ACME client starts.
func TestACMERootRelativeToTheConfigurationFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, _, _ := testutil.SelfSignedCert(t, dir)
	cfgPath := filepath.Join(dir, "rampart.yaml")
	body := fmt.Sprintf("env: development\nupstream: http://127.0.0.1:1\nadmin: {listen: \"off\"}\ntls:\n  acme:\n    domains: [a.example]\n    storage: %q\n    ca_root: %s\n",
		filepath.Join(dir, "acme"), filepath.Base(certFile))
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(c, gateway.Options{})
	if err != nil {
		t.Fatalf("a ca_root beside the configuration: %v", err)
	}
	g.Close()
}
