package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// adminPKI writes a CA (ca.pem), a server certificate for 127.0.0.1
// (server.pem) and a client certificate (operator.pem, operator.key) into
// dir.
func adminPKI(t *testing.T, dir string) (caPool *x509.CertPool, server tls.Certificate, clientPEM, clientKey string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "admin CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	caPool = x509.NewCertPool()
	caPool.AddCert(ca)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issue := func(name string, usage x509.ExtKeyUsage, serial int64) (string, string, tls.Certificate) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := x509.MarshalPKCS8PrivateKey(key)
		return write(name+".pem", "CERTIFICATE", der), write(name+".key", "PRIVATE KEY", k),
			tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	_, _, server = issue("server", x509.ExtKeyUsageServerAuth, 2)
	clientPEM, clientKey, _ = issue("operator", x509.ExtKeyUsageClientAuth, 3)
	return caPool, server, clientPEM, clientKey
}

// TestTopClientCertificate: an admin listener that requires a client
// certificate (admin.client_ca) and no token is read with --client-cert and
// --client-key; without them the handshake fails and top says so; a client
// certificate without --config, which names the certificate to expect, is
// a usage error.
func TestTopClientCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caPool, server, clientPEM, clientKey := adminPKI(t, dir)
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
