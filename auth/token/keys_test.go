package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/auth/token"
)

func TestLoadKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p256 := newP256(t)
	sec1, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	sec1Path := filepath.Join(dir, "sec1.pem")
	// openssl ecparam -genkey writes an EC PARAMETERS block first.
	sec1PEM := append(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)
	if err := os.WriteFile(sec1Path, sec1PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	twoKeys := filepath.Join(dir, "two.pem")
	a, _ := os.ReadFile(writePEM(t, dir, "a.pem", newEd25519(t)))
	b, _ := os.ReadFile(writePEM(t, dir, "b.pem", newEd25519(t)))
	if err := os.WriteFile(twoKeys, append(a, b...), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		wantAlg  string
		wantSign bool
		wantErr  string
	}{
		{"ed25519 pkcs8", writePEM(t, dir, "ed.pem", newEd25519(t)), token.EdDSA, true, ""},
		{"p256 pkcs8", writePEM(t, dir, "p256.pem", p256), token.ES256, true, ""},
		{"p256 sec1 with parameters", sec1Path, token.ES256, true, ""},
		{"ed25519 public", writePEM(t, dir, "edpub.pem", newEd25519(t).Public()), token.EdDSA, false, ""},
		{"p256 public", writePEM(t, dir, "p256pub.pem", &p256.PublicKey), token.ES256, false, ""},
		{"p384 refused", writePEM(t, dir, "p384.pem", p384), "", false, "P-384"},
		{"rsa refused", writePEM(t, dir, "rsa.pem", rsaKey), "", false, "2048-bit RSA"},
		{"two keys refused", twoKeys, "", false, "more than one key"},
		{"bad DER", garbage, "", false, "PRIVATE KEY"},
		{"missing", filepath.Join(dir, "missing.pem"), "", false, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := token.LoadKey(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if k.Algorithm != tc.wantAlg || k.CanSign() != tc.wantSign || k.ID == "" || k.Path != tc.path {
				t.Errorf("got alg %s sign %v kid %q path %q, want %s %v", k.Algorithm, k.CanSign(), k.ID, k.Path, tc.wantAlg, tc.wantSign)
			}
		})
	}
}

func TestCheckKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER := x509.MarshalPKCS1PrivateKey(rsa1024)
	good := writePEM(t, dir, "good.pem", newEd25519(t))
	goodBytes, _ := os.ReadFile(good)
	tests := []struct {
		name    string
		path    string
		purpose token.KeyPurpose
		want    []string // substrings, one per expected problem
	}{
		{"good ed25519", good, token.Signing, nil},
		{"good p256", writePEM(t, dir, "p256.pem", newP256(t)), token.Signing, nil},
		{"public key for verification", writePEM(t, dir, "pub.pem", newEd25519(t).Public()), token.Verification, nil},
		{"world-readable public key for verification", write("pubw.pem", goodBytes, 0o644), token.Verification, nil},
		{"not configured", "", token.Signing, []string{"no signing key configured"}},
		{"missing", filepath.Join(dir, "missing.pem"), token.Signing, []string{"does not exist"}},
		{"directory", dir, token.Signing, []string{"not a regular file"}},
		{"world-readable", write("world.pem", goodBytes, 0o644), token.Signing, []string{"readable by every local user (mode 0644)"}},
		{"world-writable", write("ww.pem", goodBytes, 0o606), token.Signing, []string{"readable and writable"}},
		{"group-readable is fine", write("group.pem", goodBytes, 0o640), token.Signing, nil},
		{"short HMAC secret", write("hmac-short", []byte("secret\n"), 0o600), token.Signing, []string{"HMAC secret of 6 bytes: weak"}},
		{"long HMAC secret", write("hmac-long", []byte(strings.Repeat("k", 64)), 0o600), token.Signing, []string{"HMAC secret: not supported"}},
		{"weak RSA", write("rsa1024.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: rsaDER}), 0o600), token.Signing, []string{"weak 1024-bit RSA"}},
		{"public key cannot sign", writePEM(t, dir, "pub2.pem", newEd25519(t).Public()), token.Signing, []string{"cannot sign"}},
		{"world-readable short secret", write("both", []byte("pw"), 0o644), token.Signing, []string{"readable by every", "HMAC secret of 2 bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := token.CheckKeyFile(tc.path, tc.purpose)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems %v, want %d %v", len(got), got, len(tc.want), tc.want)
			}
			for i, p := range got {
				if !strings.Contains(p.Problem, tc.want[i]) {
					t.Errorf("problem %d: got %q, want it to contain %q", i, p.Problem, tc.want[i])
				}
				if p.Fix == "" || p.Path != tc.path {
					t.Errorf("problem %d: got path %q fix %q, want path %q and a fix", i, p.Path, p.Fix, tc.path)
				}
				if !strings.HasPrefix(p.Error(), "token: ") {
					t.Errorf("Error() = %q, want the package prefix", p.Error())
				}
			}
		})
	}
}
