package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"

	jose "github.com/go-jose/go-jose/v4"
)

// The algorithms Rampart signs its own tokens with. Nothing else is ever
// accepted for them: not none, not HMAC, not RSA.
const (
	// EdDSA is Ed25519 (RFC 8037). It is the default and the recommended
	// choice: small, fast, deterministic, no parameters to get wrong.
	EdDSA = "EdDSA"
	// ES256 is ECDSA on P-256 with SHA-256 (RFC 7518), for ecosystems that
	// cannot verify EdDSA.
	ES256 = "ES256"
)

// Key is one of Rampart's token keys: a signing key (with its private half)
// or a verification-only key (public). A Key is immutable and safe for
// concurrent use.
type Key struct {
	// ID is the key's kid: its RFC 7638 JWK thumbprint (SHA-256, base64url).
	// Being derived from the key, it is the same on every replica that loads
	// the same file.
	ID string
	// Algorithm is EdDSA or ES256.
	Algorithm string
	// Path is the file the key was loaded from, or "" for a generated key.
	Path string

	public  crypto.PublicKey
	private crypto.Signer
}

// Public returns the key's public half.
func (k *Key) Public() crypto.PublicKey { return k.public }

// CanSign reports whether the key has its private half.
func (k *Key) CanSign() bool { return k.private != nil }

// GenerateKey returns a fresh Ed25519 signing key. Rampart uses it for the
// development-only ephemeral key; tests use it too.
func GenerateKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("token: generate key: %w", err)
	}
	return newKey(priv, "")
}

// LoadKey reads a PEM file holding an Ed25519 or P-256 key: a private key
// (PKCS #8 "PRIVATE KEY" or SEC 1 "EC PRIVATE KEY") or, for a
// verification-only key, a public key ("PUBLIC KEY"). Any other kind of key
// is refused with an error that says what to use instead.
func LoadKey(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token: key %s: %w", path, err)
	}
	k, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("token: key %s: %w", path, err)
	}
	k.Path = path
	return k, nil
}

// ParseKey parses a PEM-encoded key as LoadKey does. Exactly one key block
// is allowed: a file with two keys is ambiguous.
func ParseKey(data []byte) (*Key, error) {
	raw, err := parsePEMKey(data)
	if err != nil {
		return nil, err
	}
	return newKey(raw, "")
}

// parsePEMKey returns the single key in data as a crypto key value of any
// type; newKey decides whether Rampart can use it.
func parsePEMKey(data []byte) (any, error) {
	var found any
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var k any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PUBLIC KEY":
			k, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			k, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "EC PARAMETERS":
			// openssl ecparam -genkey writes the curve name first.
			continue
		default:
			return nil, fmt.Errorf("PEM block %q is not a key", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %w", block.Type, err)
		}
		if found != nil {
			return nil, errors.New("more than one key in the file")
		}
		found = k
	}
	if found == nil {
		return nil, errors.New("no PEM key block found")
	}
	return found, nil
}

// errUnsupportedKey explains what Rampart signs with.
var errUnsupportedKey = errors.New("unsupported key type: rampart tokens use Ed25519 (EdDSA) or P-256 (ES256)")

func newKey(raw any, path string) (*Key, error) {
	k := &Key{Path: path}
	switch v := raw.(type) {
	case ed25519.PrivateKey:
		k.Algorithm, k.public, k.private = EdDSA, v.Public(), v
	case *ed25519.PrivateKey:
		k.Algorithm, k.public, k.private = EdDSA, v.Public(), *v
	case ed25519.PublicKey:
		k.Algorithm, k.public = EdDSA, v
	case *ecdsa.PrivateKey:
		if v.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w, got ECDSA on %s", errUnsupportedKey, v.Curve.Params().Name)
		}
		k.Algorithm, k.public, k.private = ES256, &v.PublicKey, v
	case *ecdsa.PublicKey:
		if v.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w, got ECDSA on %s", errUnsupportedKey, v.Curve.Params().Name)
		}
		k.Algorithm, k.public = ES256, v
	case *rsa.PrivateKey:
		return nil, fmt.Errorf("%w, got a %d-bit RSA key", errUnsupportedKey, v.N.BitLen())
	case *rsa.PublicKey:
		return nil, fmt.Errorf("%w, got a %d-bit RSA key", errUnsupportedKey, v.N.BitLen())
	default:
		return nil, fmt.Errorf("%w, got %T", errUnsupportedKey, raw)
	}
	jwk := jose.JSONWebKey{Key: k.public}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key thumbprint: %w", err)
	}
	k.ID = base64.RawURLEncoding.EncodeToString(tp)
	return k, nil
}

// KeyProblem is one reason a key file is missing, weak or exposed. The
// production guard turns each into a finding that names the file and the fix.
type KeyProblem struct {
	// Path is the key file, or "" when no key is configured.
	Path string
	// Problem says what is wrong, in a short lowercase sentence.
	Problem string
	// Fix says what to do about it.
	Fix string
}

// Error implements error, so a problem can be returned or wrapped.
func (p KeyProblem) Error() string {
	if p.Path == "" {
		return "token: " + p.Problem
	}
	return "token: key " + p.Path + ": " + p.Problem
}

// KeyPurpose says what a key file is for, which decides what CheckKeyFile
// demands of it.
type KeyPurpose int

// The purposes of a key file.
const (
	// Signing keys must hold a private Ed25519 or P-256 key.
	Signing KeyPurpose = iota
	// Verification keys may be public or private Ed25519 or P-256 keys.
	Verification
)

// MinHMACSecretBytes is the shortest HMAC secret that is not reported as
// weak (RFC 7518, section 3.2: a key of at least the hash output size).
// Rampart does not sign with HMAC at all; the size only makes the report
// more useful for files that were meant as a shared secret.
const MinHMACSecretBytes = 32

// MinRSABits is the smallest RSA modulus that is not reported as weak.
const MinRSABits = 2048

// genKeyHint is the command that makes a good signing key.
const genKeyHint = "generate one with: openssl genpkey -algorithm ed25519 -out %s && chmod 600 %s"

// CheckKeyFile reports what is wrong with the key file at path for purpose:
// not configured, missing or unreadable, not a key Rampart can use (an HMAC
// secret, shorter than MinHMACSecretBytes or not; RSA, below MinRSABits or
// not; another curve), a public key where a private one is needed, or file
// permissions that let any local user read or replace it. It returns nil
// when the key is fine. It never returns key material.
func CheckKeyFile(path string, purpose KeyPurpose) []KeyProblem {
	if path == "" {
		return []KeyProblem{{Problem: "no signing key configured",
			Fix: "set auth.tokens.signing_key to a PEM file; " + fmt.Sprintf(genKeyHint, "/etc/rampart/jwt-ed25519.pem", "/etc/rampart/jwt-ed25519.pem")}}
	}
	fix := fmt.Sprintf(genKeyHint, path, path)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []KeyProblem{{Path: path, Problem: "file does not exist", Fix: fix}}
	case err != nil:
		return []KeyProblem{{Path: path, Problem: "cannot be read: " + err.Error(), Fix: "make the file readable by the user rampart runs as"}}
	case !fi.Mode().IsRegular():
		return []KeyProblem{{Path: path, Problem: "is not a regular file", Fix: fix}}
	}
	var problems []KeyProblem
	// Permission bits mean nothing useful on Windows.
	if runtime.GOOS != "windows" && purpose == Signing {
		if perm := fi.Mode().Perm(); perm&0o006 != 0 {
			what := "readable"
			if perm&0o002 != 0 {
				what = "writable"
				if perm&0o004 != 0 {
					what = "readable and writable"
				}
			}
			problems = append(problems, KeyProblem{Path: path,
				Problem: fmt.Sprintf("private key file is %s by every local user (mode %04o)", what, perm),
				Fix:     "chmod 600 " + path + " (in Kubernetes, mount the secret with defaultMode: 0400)"})
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return append(problems, KeyProblem{Path: path, Problem: "cannot be read: " + err.Error(), Fix: "make the file readable by the user rampart runs as"})
	}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		secret := bytes.TrimSpace(data)
		p := KeyProblem{Path: path, Fix: fix}
		if len(secret) < MinHMACSecretBytes {
			p.Problem = fmt.Sprintf("looks like an HMAC secret of %d bytes: weak (at least %d needed) and not supported, rampart signs with Ed25519 or P-256", len(secret), MinHMACSecretBytes)
		} else {
			p.Problem = "looks like an HMAC secret: not supported, rampart signs with Ed25519 or P-256 so verifiers never hold the signing secret"
		}
		return append(problems, p)
	}
	raw, err := parsePEMKey(data)
	if err != nil {
		return append(problems, KeyProblem{Path: path, Problem: err.Error(), Fix: fix})
	}
	if k, ok := raw.(*rsa.PrivateKey); ok && k.N.BitLen() < MinRSABits {
		return append(problems, KeyProblem{Path: path, Problem: fmt.Sprintf("weak %d-bit RSA key (and RSA is not supported: rampart signs with Ed25519 or P-256)", k.N.BitLen()), Fix: fix})
	}
	if k, ok := raw.(*rsa.PublicKey); ok && k.N.BitLen() < MinRSABits {
		return append(problems, KeyProblem{Path: path, Problem: fmt.Sprintf("weak %d-bit RSA key (and RSA is not supported: rampart signs with Ed25519 or P-256)", k.N.BitLen()), Fix: fix})
	}
	k, err := newKey(raw, path)
	if err != nil {
		return append(problems, KeyProblem{Path: path, Problem: err.Error(), Fix: fix})
	}
	if purpose == Signing && !k.CanSign() {
		problems = append(problems, KeyProblem{Path: path, Problem: "holds a public key, which cannot sign", Fix: "point signing_key at the private key; " + fix})
	}
	return problems
}
