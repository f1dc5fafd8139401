package testutil

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// PebbleVersion is the version of Pebble (Let's Encrypt's ACME test server)
// the tests are written for; .ci/run builds it from its Go module when
// `pebble` is not on PATH. Certificate profiles, which the renewal tests
// use, need v2.7 or later (Debian's package is older).
const PebbleVersion = "v2.10.3"

// PebbleOptions configure a Pebble server.
type PebbleOptions struct {
	// HTTPPort and TLSPort are where Pebble's validation authority connects
	// to answer HTTP-01 and TLS-ALPN-01 challenges: the ports of the
	// server under test.
	HTTPPort, TLSPort int
	// Profiles maps certificate profile names to validity periods; the
	// profile of an order that names none is picked at random. Default: a
	// default profile of 90 days.
	Profiles map[string]time.Duration
	// OCSPResponderURL, when set, is written into every certificate.
	OCSPResponderURL string
}

// Pebble is a real Pebble ACME server started for one test on loopback
// ports, stopped when the test ends.
type Pebble struct {
	// Directory is the ACME directory URL.
	Directory string
	// RootFile is a PEM file of the root that Pebble's own HTTPS endpoint
	// is signed by: what a client sets as its trusted CA roots.
	RootFile string

	mgmt   string
	client *http.Client
	logs   *Buffer
}

// StartPebble starts Pebble for t, or skips t (fails it in CI) when
// `pebble` is not installed. Validation happens at once (no random sleep)
// and no nonce is rejected, so tests stay fast.
func StartPebble(t testing.TB, opt PebbleOptions) *Pebble {
	t.Helper()
	gobin := filepath.Join(os.Getenv("HOME"), "go", "bin")
	if gp := os.Getenv("GOPATH"); gp != "" {
		gobin = filepath.Join(gp, "bin")
	}
	bin := os.Getenv("RAMPART_PEBBLE")
	if bin == "" {
		bin = RequireBinary(t, "pebble", gobin, "/usr/local/bin")
	}
	dir := t.TempDir()
	certFile, keyFile, pool := SelfSignedCert(t, dir)
	profiles := map[string]any{}
	if len(opt.Profiles) == 0 {
		opt.Profiles = map[string]time.Duration{"default": 90 * 24 * time.Hour}
	}
	for name, d := range opt.Profiles {
		profiles[name] = map[string]any{"description": name, "validityPeriod": int64(d / time.Second)}
	}
	p := &Pebble{
		RootFile: certFile,
		logs:     &Buffer{},
		client:   &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}
	var err error
	for range 3 {
		listen, mgmt := FreeAddr(t), FreeAddr(t)
		cfg := map[string]any{"pebble": map[string]any{
			"listenAddress":           listen,
			"managementListenAddress": mgmt,
			"certificate":             certFile,
			"privateKey":              keyFile,
			"httpPort":                opt.HTTPPort,
			"tlsPort":                 opt.TLSPort,
			"ocspResponderURL":        opt.OCSPResponderURL,
			"keyAlgorithm":            "rsa", // Pebble hands out only RSA intermediate keys
			"retryAfter":              map[string]int{"authz": 1, "order": 1},
			"profiles":                profiles,
		}}
		b, _ := json.Marshal(cfg)
		cfgFile := filepath.Join(dir, "pebble.json")
		if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
		p.Directory = "https://" + listen + "/dir"
		p.mgmt = "https://" + mgmt
		if err = p.start(t, bin, cfgFile); err == nil {
			return p
		}
	}
	t.Fatal(err)
	return nil
}

func (p *Pebble) start(t testing.TB, bin, cfgFile string) error {
	cmd := exec.Command(bin, "-config", cfgFile)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start pebble: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-done
	}
	ok := WaitFor(15*time.Second, func() bool {
		select {
		case <-done:
			return true
		default:
		}
		res, err := p.client.Get(p.Directory)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	select {
	case <-done:
		return fmt.Errorf("pebble exited:\n%s", p.logs)
	default:
	}
	if !ok {
		stop()
		return fmt.Errorf("pebble did not answer within 15s:\n%s", p.logs)
	}
	t.Cleanup(stop)
	return nil
}

// Logs returns what Pebble printed so far.
func (p *Pebble) Logs() string { return p.logs.String() }

func (p *Pebble) get(path string) ([]byte, error) {
	res, err := p.client.Get(p.mgmt + path)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("pebble %s: %s", path, res.Status)
	}
	return b, nil
}

// IssuerRoot returns the PEM of the root that Pebble's certificates chain
// to: what a client of the server under test trusts.
func (p *Pebble) IssuerRoot(t testing.TB) []byte {
	t.Helper()
	b, err := p.get("/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Intermediate returns the certificate and private key that sign Pebble's
// certificates, for a test OCSP responder.
func (p *Pebble) Intermediate() (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := p.get("/intermediates/0")
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := p.get("/intermediate-keys/0")
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("pebble: no PEM in the intermediate or its key")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	var key any
	switch kb.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pebble: intermediate key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("pebble: intermediate key of type %T cannot sign", key)
	}
	return cert, signer, nil
}

// Port returns the port of a host:port address.
func Port(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
