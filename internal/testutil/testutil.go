// Package testutil holds helpers shared by Rampart's tests: loopback
// listeners, self-signed certificates, a concurrency-safe log buffer, and
// starters for the real servers and tools the tests use.
package testutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Listen returns a TCP listener on a random loopback port, closed when the
// test ends.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for programs that insist on binding it themselves.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// Buffer is a bytes.Buffer safe for concurrent writers, for capturing logs.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Lines returns the non-empty lines written so far.
func (b *Buffer) Lines() []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// WaitFor polls cond every 10ms until it is true or timeout passes, and
// reports whether it became true.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SelfSignedCert writes a fresh ECDSA P-256 certificate for localhost and
// 127.0.0.1, valid for an hour, and its key into dir, and returns their
// paths and the certificate pool that trusts it.
func SelfSignedCert(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	return SelfSignedCertUntil(t, dir, time.Now().Add(time.Hour))
}

// SelfSignedCertUntil is SelfSignedCert with a certificate valid until
// notAfter.
func SelfSignedCertUntil(t testing.TB, dir string, notAfter time.Time) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	certFile, keyFile, pool, err := WriteSelfSignedCert(dir, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}

// WriteSelfSignedCert is SelfSignedCertUntil for callers without a
// testing.TB, such as testscript commands: it returns its error.
func WriteSelfSignedCert(dir string, notAfter time.Time) (certFile, keyFile string, pool *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", nil, err
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool, nil
}

// RequireBinary returns the path of the named program, looking in PATH and
// then in extra directories (glob patterns allowed). When it is missing the
// test is skipped with a loud message — or fails, when
// RAMPART_TEST_REQUIRE_ALL is set, as it is in CI, where nothing may skip.
func RequireBinary(t testing.TB, name string, extra ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, pattern := range extra {
		matches, _ := filepath.Glob(filepath.Join(pattern, name))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Mode()&0o111 != 0 {
				return m
			}
		}
	}
	msg := fmt.Sprintf("SKIPPING: %s is not installed; this test needs the real program (.ci/run installs it)", name)
	if os.Getenv("RAMPART_TEST_REQUIRE_ALL") != "" {
		t.Fatal(msg)
	}
	t.Log(strings.Repeat("!", 72))
	t.Skip(msg)
	return ""
}

// Overloaded reports whether the machine's one-minute load average is over
// twice its CPUs, and the figure: a test that bounds a latency the user
// sees may widen its bound then, and says so, rather than fail on a
// machine too busy to measure it. Off Linux it reports false.
func Overloaded() (bool, float64) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return false, 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return false, 0
	}
	load, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return false, 0
	}
	return load > 2*float64(runtime.NumCPU()), load
}
