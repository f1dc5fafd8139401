package registry

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// PublicGoodRootDate is the day the shipped Sigstore public-good trusted
// root was taken: from the TUF seed that npm 11 ships
// (@sigstore/tuf 4.0.2, target trusted_root.json), checked against the
// copy sigstore-go publishes. A key Sigstore adds later (a new Rekor shard,
// a new Fulcio intermediate) is unknown to it until rampart is updated.
const PublicGoodRootDate = "2026-12-04"

//go:embed sigstore-public-good-root.json
var publicGoodRootJSON []byte

var publicGood = sync.OnceValues(func() (*TrustedRoot, error) { return ParseTrustedRoot(publicGoodRootJSON) })

// PublicGoodRoot returns the Sigstore public-good trusted root shipped in
// the binary: the Fulcio certificate authorities and the Rekor
// transparency logs that npm provenance is made with. See
// PublicGoodRootDate.
func PublicGoodRoot() *TrustedRoot {
	r, err := publicGood()
	if err != nil {
		// The file is part of the source tree and parsed by the tests.
		panic("registry: shipped trusted root: " + err.Error())
	}
	return r
}

// TrustedRoot is what provenance is verified against: the certificate
// authorities that may issue signing certificates and the transparency
// logs whose entries are accepted. It is read from a Sigstore
// trusted_root.json (media type application/vnd.dev.sigstore.trustedroot+json)
// or made from PEM certificates. A TrustedRoot is not modified after it is
// made and is safe for concurrent use.
type TrustedRoot struct {
	// Logs are the transparency logs (Rekor) whose entries are accepted.
	Logs []TransparencyLog
	// Authorities are the certificate authorities (Fulcio).
	Authorities []CertificateAuthority
	// Source says where it came from, for messages.
	Source string
}

// TransparencyLog is one Rekor log.
type TransparencyLog struct {
	BaseURL string
	// LogID is the SHA-256 of the log key's DER SubjectPublicKeyInfo, as
	// bundles name the log.
	LogID []byte
	// Key is an *ecdsa.PublicKey or an ed25519.PublicKey.
	Key crypto.PublicKey
	// Start and End bound when the key signed entries; a zero End is open.
	Start, End time.Time
}

// CertificateAuthority is one Fulcio certificate chain.
type CertificateAuthority struct {
	URI string
	// Root is the trust anchor; Intermediates may complete a chain.
	Root          *x509.Certificate
	Intermediates []*x509.Certificate
	// Start and End bound when it issued certificates; zero End is open.
	Start, End time.Time
}

// valid reports whether t falls in [start, end].
func valid(t, start, end time.Time) bool {
	return !t.Before(start) && (end.IsZero() || !t.After(end))
}

type trustedRootJSON struct {
	MediaType string `json:"mediaType"`
	Tlogs     []struct {
		BaseURL   string       `json:"baseUrl"`
		PublicKey publicKeyDoc `json:"publicKey"`
		LogID     struct {
			KeyID string `json:"keyId"`
		} `json:"logId"`
	} `json:"tlogs"`
	CertificateAuthorities []struct {
		URI       string `json:"uri"`
		CertChain struct {
			Certificates []struct {
				RawBytes string `json:"rawBytes"`
			} `json:"certificates"`
		} `json:"certChain"`
		ValidFor validity `json:"validFor"`
	} `json:"certificateAuthorities"`
}

type publicKeyDoc struct {
	RawBytes   string   `json:"rawBytes"`
	KeyDetails string   `json:"keyDetails"`
	ValidFor   validity `json:"validFor"`
}

type validity struct {
	Start *time.Time `json:"start"`
	End   *time.Time `json:"end"`
}

func (v validity) bounds() (time.Time, time.Time) {
	var s, e time.Time
	if v.Start != nil {
		s = *v.Start
	}
	if v.End != nil {
		e = *v.End
	}
	return s, e
}

// ErrTrustedRoot wraps every reason a trusted root cannot be read.
var ErrTrustedRoot = errors.New("registry: trusted root")

// ParseTrustedRoot reads a Sigstore trusted_root.json. Every log's id must
// be the SHA-256 of its key, every key ECDSA or Ed25519, every chain end
// in a self-signed root; transparency logs and certificate authorities
// without keys are refused, so a truncated file cannot verify anything.
// Certificate-transparency logs and timestamp authorities are not read:
// rampart does not verify SCTs or RFC 3161 timestamps.
func ParseTrustedRoot(data []byte) (*TrustedRoot, error) {
	var doc trustedRootJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrTrustedRoot, err)
	}
	if !strings.HasPrefix(doc.MediaType, "application/vnd.dev.sigstore.trustedroot") {
		return nil, fmt.Errorf("%w: media type %q is not a Sigstore trusted root", ErrTrustedRoot, doc.MediaType)
	}
	tr := &TrustedRoot{Source: "trusted root"}
	for i, l := range doc.Tlogs {
		der, err := base64.StdEncoding.DecodeString(l.PublicKey.RawBytes)
		if err != nil || len(der) == 0 {
			return nil, fmt.Errorf("%w: tlogs[%d]: key is not base64", ErrTrustedRoot, i)
		}
		key, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: tlogs[%d]: key: %v", ErrTrustedRoot, i, err)
		}
		switch key.(type) {
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("%w: tlogs[%d]: key is neither ECDSA nor Ed25519", ErrTrustedRoot, i)
		}
		id, err := base64.StdEncoding.DecodeString(l.LogID.KeyID)
		if err != nil {
			return nil, fmt.Errorf("%w: tlogs[%d]: log id is not base64", ErrTrustedRoot, i)
		}
		// Rekor v1 logs are named by the hash of their key; other logs
		// (Rekor v2) by a hash that includes their name, which is kept as
		// given.
		if _, isEC := key.(*ecdsa.PublicKey); isEC {
			sum := sha256.Sum256(der)
			if !bytes.Equal(sum[:], id) {
				return nil, fmt.Errorf("%w: tlogs[%d]: log id is not the hash of its key", ErrTrustedRoot, i)
			}
		}
		s, e := l.PublicKey.ValidFor.bounds()
		tr.Logs = append(tr.Logs, TransparencyLog{BaseURL: l.BaseURL, LogID: id, Key: key, Start: s, End: e})
	}
	for i, ca := range doc.CertificateAuthorities {
		var chain []*x509.Certificate
		for j, c := range ca.CertChain.Certificates {
			der, err := base64.StdEncoding.DecodeString(c.RawBytes)
			if err != nil {
				return nil, fmt.Errorf("%w: certificateAuthorities[%d].certificates[%d]: not base64", ErrTrustedRoot, i, j)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("%w: certificateAuthorities[%d].certificates[%d]: %v", ErrTrustedRoot, i, j, err)
			}
			chain = append(chain, cert)
		}
		if len(chain) == 0 {
			return nil, fmt.Errorf("%w: certificateAuthorities[%d] holds no certificate", ErrTrustedRoot, i)
		}
		root := chain[len(chain)-1]
		if err := root.CheckSignatureFrom(root); err != nil || !root.IsCA {
			return nil, fmt.Errorf("%w: certificateAuthorities[%d]: the last certificate is not a self-signed CA", ErrTrustedRoot, i)
		}
		s, e := ca.ValidFor.bounds()
		tr.Authorities = append(tr.Authorities, CertificateAuthority{URI: ca.URI, Root: root, Intermediates: chain[:len(chain)-1], Start: s, End: e})
	}
	if len(tr.Logs) == 0 || len(tr.Authorities) == 0 {
		return nil, fmt.Errorf("%w: it names no transparency log or no certificate authority", ErrTrustedRoot)
	}
	return tr, nil
}

// WithAuthorities returns a copy of t whose certificate authorities are
// the certificates of pemData, each a trust anchor valid for its own
// lifetime; the transparency logs are t's. It is how a PEM file of Fulcio
// roots (a private Sigstore instance whose log is the public one, or a
// pinned subset) is used.
func (t *TrustedRoot) WithAuthorities(pemData []byte) (*TrustedRoot, error) {
	out := &TrustedRoot{Logs: t.Logs, Source: "PEM roots with the " + t.Source + "'s logs"}
	rest := pemData
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM certificate: %v", ErrTrustedRoot, err)
		}
		out.Authorities = append(out.Authorities, CertificateAuthority{Root: cert, Start: cert.NotBefore, End: cert.NotAfter})
	}
	if len(out.Authorities) == 0 {
		return nil, fmt.Errorf("%w: no PEM certificate", ErrTrustedRoot)
	}
	return out, nil
}

// log returns the transparency log with this id.
func (t *TrustedRoot) log(id []byte) *TransparencyLog {
	for i := range t.Logs {
		if bytes.Equal(t.Logs[i].LogID, id) {
			return &t.Logs[i]
		}
	}
	return nil
}
