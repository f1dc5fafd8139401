package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/testutil"
)

// TestTopClientCertificate: an admin listener that requires a client
// certificate (admin.client_ca) and no token is read with --client-cert and
// --client-key; without them the handshake fails and top says so; a client
// certificate without --config, which names the certificate to expect, is
// a usage error.
func TestTopClientCertificate(t *testing.T) {
	t.Parallel()
	pki := testutil.NewPKI(t)
	dir := filepath.Dir(pki.CAFile)
	caPool, server, clientPEM, clientKey := pki.CAPool, pki.Server, pki.ClientCertFile, pki.ClientKeyFile
	api := seededAdminAPI("")
	srv := httptest.NewUnstartedServer(api.Handler(nil))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: caPool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := filepath.Join(dir, "rampart.yaml")
	body := fmt.Sprintf("upstream: http://127.0.0.1:3000\nadmin: {listen: %q, cert_file: server.pem, key_file: server.key, client_ca: ca.pem}\n",
		strings.TrimPrefix(srv.URL, "https://"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runTopCLI(context.Background(), nil, "--config", cfg, "--client-cert", clientPEM, "--client-key", clientKey, "--once")
	if code != 0 || !strings.Contains(out, "01LATEST4242") {
		t.Fatalf("with the client certificate: exit %d, stderr %q\n%s", code, errOut, out)
	}
	if code, _, errOut = runTopCLI(context.Background(), nil, "--config", cfg, "--once"); code == 0 || !strings.Contains(errOut, "did not answer") {
		t.Errorf("without a client certificate: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut = runTopCLI(context.Background(), nil, "--admin", "127.0.0.1:1", "--client-cert", clientPEM, "--client-key", clientKey, "--once"); code != 2 || !strings.Contains(errOut, "--client-cert needs --config") {
		t.Errorf("a client certificate without --config: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut = runTopCLI(context.Background(), nil, "--config", cfg, "--client-cert", clientPEM, "--once"); code != 2 || !strings.Contains(errOut, "go together") {
		t.Errorf("--client-cert alone: exit %d, stderr %q", code, errOut)
	}
}
