package registry

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Predicate types of npm attestations.
const (
	PredicatePublish    = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
	PredicateProvenance = "https://slsa.dev/provenance/v1"
)

// ErrAttestation wraps every reason an attestation fails to verify.
var ErrAttestation = errors.New("registry: attestation does not verify")

// AttestationCheck is the result of verifying one attestation.
type AttestationCheck struct {
	PredicateType string
	// Err is nil when everything listed in Checked verified.
	Err error
	// Checked lists what was verified, e.g. "DSSE signature (registry key
	// SHA256:…)", "subject digest", "certificate chain".
	Checked []string
	// Unchecked lists what was not, and why.
	Unchecked []string
}

// bundle is the part of a Sigstore bundle (media types v0.1 to v0.3) that
// is read.
type bundle struct {
	MediaType            string `json:"mediaType"`
	VerificationMaterial struct {
		PublicKey *struct {
			Hint string `json:"hint"`
		} `json:"publicKey"`
		X509CertificateChain *struct {
			Certificates []struct {
				RawBytes string `json:"rawBytes"`
			} `json:"certificates"`
		} `json:"x509CertificateChain"`
		Certificate *struct {
			RawBytes string `json:"rawBytes"`
		} `json:"certificate"`
		TlogEntries []json.RawMessage `json:"tlogEntries"`
	} `json:"verificationMaterial"`
	DSSEEnvelope *struct {
		Payload     string `json:"payload"`
		PayloadType string `json:"payloadType"`
		Signatures  []struct {
			Sig   string `json:"sig"`
			KeyID string `json:"keyid"`
		} `json:"signatures"`
	} `json:"dsseEnvelope"`
}

// statement is an in-toto statement.
type statement struct {
	Type    string `json:"_type"`
	Subject []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string `json:"predicateType"`
}

// PAE returns the DSSE pre-authentication encoding of a payload.
func PAE(payloadType string, payload []byte) []byte {
	return []byte("DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(payload)) + " " + string(payload))
}

// PackageURL returns the purl npm attestations name a version by:
// "pkg:npm/%40scope/name@1.0.0".
func PackageURL(name, version string) string {
	return "pkg:npm/" + strings.Replace(name, "@", "%40", 1) + "@" + version
}

// VerifyAttestations verifies npm attestations of name@version whose
// archive has the SHA-512 tarballSHA512 (hex).
//
// What is verified, for each attestation:
//   - the bundle holds a DSSE envelope of an in-toto statement;
//   - its signature, over the DSSE pre-authentication encoding, with
//     ECDSA P-256/SHA-256: by the registry key the bundle names (npm's
//     publish attestation), or by the public key of the bundle's leaf
//     certificate (SLSA provenance);
//   - when roots is not nil, that the leaf certificate chains to one of
//     roots through the bundle's intermediates, for code signing, at the
//     certificate's own NotBefore time (Fulcio certificates live ten
//     minutes; their validity at signing time is what the transparency
//     log would attest);
//   - that the statement's predicate type is the one the registry lists,
//     and that a subject names this package version (purl) with this
//     archive's SHA-512.
//
// What is not verified: the Rekor transparency-log entry (inclusion proof,
// signed entry timestamp), RFC 3161 timestamps, the certificate
// transparency SCT, and the certificate's identity (OIDC issuer, source
// repository, workflow): Unchecked says so on every provenance result.
func VerifyAttestations(atts []Attestation, keys []Key, roots *x509.CertPool, name, version, tarballSHA512 string) []AttestationCheck {
	out := make([]AttestationCheck, 0, len(atts))
	for _, a := range atts {
		c := AttestationCheck{PredicateType: a.PredicateType}
		c.Err = verifyOne(&c, a, keys, roots, name, version, tarballSHA512)
		out = append(out, c)
	}
	return out
}

func verifyOne(c *AttestationCheck, a Attestation, keys []Key, roots *x509.CertPool, name, version, sha string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrAttestation, fmt.Sprintf(format, args...))
	}
	var b bundle
	if err := json.Unmarshal(a.Bundle, &b); err != nil {
		return fail("bundle is not JSON: %v", err)
	}
	if b.DSSEEnvelope == nil || len(b.DSSEEnvelope.Signatures) == 0 {
		return fail("bundle holds no signed DSSE envelope")
	}
	env := b.DSSEEnvelope
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return fail("payload is not base64")
	}
	digest := sha256.Sum256(PAE(env.PayloadType, payload))

	var pub *ecdsa.PublicKey
	var who string
	vm := b.VerificationMaterial
	switch {
	case vm.PublicKey != nil:
		for _, k := range keys {
			if k.KeyID == vm.PublicKey.Hint {
				if pub, err = k.publicKey(); err != nil {
					return fail("%v", err)
				}
				who = "registry key " + k.KeyID
			}
		}
		if pub == nil {
			return fmt.Errorf("%w: %w: %q", ErrAttestation, ErrUnknownKey, vm.PublicKey.Hint)
		}
	case vm.X509CertificateChain != nil || vm.Certificate != nil:
		var raws []string
		if vm.Certificate != nil {
			raws = append(raws, vm.Certificate.RawBytes)
		} else {
			for _, cert := range vm.X509CertificateChain.Certificates {
				raws = append(raws, cert.RawBytes)
			}
		}
		var certs []*x509.Certificate
		for _, r := range raws {
			der, err := base64.StdEncoding.DecodeString(r)
			if err != nil {
				return fail("certificate is not base64")
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return fail("certificate: %v", err)
			}
			certs = append(certs, cert)
		}
		if len(certs) == 0 {
			return fail("bundle holds no certificate")
		}
		leaf := certs[0]
		ec, ok := leaf.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return fail("certificate key is not ECDSA")
		}
		pub, who = ec, "certificate key of "+certSubject(leaf)
		if roots != nil {
			inter := x509.NewCertPool()
			for _, ic := range certs[1:] {
				inter.AddCert(ic)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: leaf.NotBefore,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
				return fail("certificate chain: %v", err)
			}
			c.Checked = append(c.Checked, "certificate chain to a trusted root")
		} else {
			c.Unchecked = append(c.Unchecked, "certificate chain (no trusted roots configured)")
		}
		c.Unchecked = append(c.Unchecked, "certificate identity (issuer, repository, workflow)")
	default:
		return fail("bundle names neither a key nor a certificate")
	}
	verified := false
	for _, s := range env.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err == nil && ecdsa.VerifyASN1(pub, digest[:], sig) {
			verified = true
			break
		}
	}
	if !verified {
		return fail("DSSE signature does not verify with the %s", who)
	}
	c.Checked = append(c.Checked, "DSSE signature ("+who+")")
	c.Unchecked = append(c.Unchecked, "transparency-log entry and timestamps")

	if env.PayloadType != "application/vnd.in-toto+json" {
		return fail("payload type %q is not in-toto", env.PayloadType)
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return fail("statement is not JSON: %v", err)
	}
	if a.PredicateType != "" && st.PredicateType != a.PredicateType {
		return fail("statement predicate %q, registry lists %q", st.PredicateType, a.PredicateType)
	}
	want := PackageURL(name, version)
	for _, s := range st.Subject {
		got, err := url.PathUnescape(s.Name)
		if err != nil {
			continue
		}
		wantU, _ := url.PathUnescape(want)
		if got == wantU {
			if !strings.EqualFold(s.Digest["sha512"], sha) {
				return fail("subject %s has SHA-512 %.16s…, the archive has %.16s…", s.Name, s.Digest["sha512"], sha)
			}
			c.Checked = append(c.Checked, "subject "+want+" and archive SHA-512")
			return nil
		}
	}
	return fail("no subject names %s", want)
}

func certSubject(c *x509.Certificate) string {
	if len(c.URIs) > 0 {
		return c.URIs[0].String()
	}
	if len(c.EmailAddresses) > 0 {
		return c.EmailAddresses[0]
	}
	return c.Subject.String()
}
