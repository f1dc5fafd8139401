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
	"time"
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
	// Time is the transparency log's integrated time, once verified.
	Time time.Time
	// Identity is who the provenance certificate was issued to; nil for
	// attestations signed with a registry key.
	Identity *Identity
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
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
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

// AttestationOptions is what attestations are verified against.
type AttestationOptions struct {
	// Keys are the registry's signing keys (/-/npm/v1/keys): npm's publish
	// attestation is signed with one of them.
	Keys []Key
	// Root holds the certificate authorities and transparency logs; nil
	// means PublicGoodRoot().
	Root *TrustedRoot
	// Repository is the repository the package declares (package.json
	// "repository", as written there). A provenance certificate issued for
	// another repository does not verify; "" (none declared) does not
	// either, since npm refuses to publish provenance for a package that
	// names no repository.
	Repository string
}

// Attestation errors, all wrapping ErrAttestation. ErrIdentity is a
// provenance made for another source than the package declares;
// ErrNoRepository one whose package declares none.
var (
	ErrIdentity     = errors.New("provenance identity does not match")
	ErrNoRepository = errors.New("the package declares no repository to match the provenance against")
)

// VerifyAttestations verifies npm attestations of name@version whose
// archive has the SHA-512 tarballSHA512 (hex), as `npm audit signatures`
// does, and the provenance's identity besides. For each attestation:
//   - the bundle holds a DSSE envelope of an in-toto statement, signed
//     (ECDSA P-256/SHA-256 over the DSSE pre-authentication encoding) by
//     the registry key the bundle names (npm's publish attestation) or by
//     the key of the bundle's leaf certificate (SLSA provenance);
//   - a transparency-log entry of one of the trusted root's Rekor logs
//     verifies (its signed entry timestamp and, when present, its
//     inclusion proof and signed checkpoint) and records this envelope:
//     its payload hash, its signature and its signer;
//   - the log's integrated time is when the registry key had not expired,
//     or when the certificate was valid and chained, for code signing, to
//     a certificate authority of the trusted root that was issuing then;
//   - the certificate was issued to a CI workload npm accepts provenance
//     from (GitHub Actions, GitLab), for the repository the package
//     declares, and the provenance predicate names that same repository;
//   - the statement's predicate type is the one the registry lists, and a
//     subject names this package version (purl) with this archive's
//     SHA-512.
//
// Not verified: RFC 3161 timestamps, certificate-transparency SCTs, Rekor
// v2 entries (reported as ErrTlogUnverifiable), and whether the build the
// predicate describes is what happened.
func VerifyAttestations(atts []Attestation, opts AttestationOptions, name, version, tarballSHA512 string) []AttestationCheck {
	if opts.Root == nil {
		opts.Root = PublicGoodRoot()
	}
	out := make([]AttestationCheck, 0, len(atts))
	for _, a := range atts {
		c := AttestationCheck{PredicateType: a.PredicateType}
		c.Err = verifyOne(&c, a, opts, name, version, tarballSHA512)
		c.Unchecked = append(c.Unchecked, "RFC 3161 timestamps and certificate-transparency SCTs", "that the build the predicate describes happened")
		out = append(out, c)
	}
	return out
}

func verifyOne(c *AttestationCheck, a Attestation, opts AttestationOptions, name, version, sha string) error {
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
	var regKey *Key
	var certs []*x509.Certificate
	vm := b.VerificationMaterial
	switch {
	case vm.PublicKey != nil:
		for i, k := range opts.Keys {
			if k.KeyID == vm.PublicKey.Hint {
				if pub, err = k.publicKey(); err != nil {
					return fail("%v", err)
				}
				who, regKey = "registry key "+k.KeyID, &opts.Keys[i]
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
		if len(raws) > 10 {
			return fail("bundle holds %d certificates", len(raws))
		}
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
		ec, ok := certs[0].PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return fail("certificate key is not ECDSA")
		}
		pub, who = ec, "certificate key of "+certSubject(certs[0])
	default:
		return fail("bundle names neither a key nor a certificate")
	}
	var sig []byte
	for _, s := range env.Signatures {
		raw, err := base64.StdEncoding.DecodeString(s.Sig)
		if err == nil && ecdsa.VerifyASN1(pub, digest[:], raw) {
			sig = raw
			break
		}
	}
	if sig == nil {
		return fail("DSSE signature does not verify with the %s", who)
	}
	c.Checked = append(c.Checked, "DSSE signature ("+who+")")

	// The transparency log: when the signature was made, and that it was
	// made in the open.
	signer := func(pemData []byte) bool {
		if len(certs) > 0 {
			return pemIsCertificate(pemData, certs[0])
		}
		return pemIsKey(pemData, pub)
	}
	if len(vm.TlogEntries) == 0 {
		return fail("the bundle carries no transparency-log entry: nothing shows the signature was made in the open, or when")
	}
	var logged *tlogResult
	var logErrs []error
	for _, raw := range vm.TlogEntries {
		res, err := verifyTlogEntry(raw, opts.Root)
		if err == nil {
			err = checkEntryBody(res, env.PayloadType, payload, sig, signer)
		}
		if err != nil {
			logErrs = append(logErrs, err)
			continue
		}
		logged = res
		break
	}
	if logged == nil {
		return fmt.Errorf("%w: %w", ErrAttestation, errors.Join(logErrs...))
	}
	c.Time = logged.Time
	c.Checked = append(c.Checked, logged.Checked...)
	c.Checked = append(c.Checked, "log entry records this envelope, signature and signer")

	if regKey != nil && regKey.Expires != nil && !logged.Time.Before(*regKey.Expires) {
		return fmt.Errorf("%w: registry key %s expired %s, the attestation was logged %s (%w)", ErrAttestation, regKey.KeyID,
			regKey.Expires.Format(time.DateOnly), logged.Time.Format(time.DateOnly), ErrKeyExpired)
	}
	if len(certs) > 0 {
		if err := verifyChain(certs, opts.Root, logged.Time); err != nil {
			return fail("%v", err)
		}
		c.Checked = append(c.Checked, "certificate chain to "+opts.Root.Source+" at the logged time")
		id := CertificateIdentity(certs[0])
		c.Identity = &id
		if err := checkIdentity(id, opts.Repository); err != nil {
			return fmt.Errorf("%w: %w", ErrAttestation, err)
		}
		c.Checked = append(c.Checked, "certificate identity: "+id.SourceRepository+" built by "+id.Workflow)
	}

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
	if c.Identity != nil {
		if repo := predicateRepository(st.Predicate); repo != "" && NormalizeRepository(repo) != NormalizeRepository(c.Identity.SourceRepository) {
			return fmt.Errorf("%w: %w: the predicate names %s, the certificate %s", ErrAttestation, ErrIdentity, repo, c.Identity.SourceRepository)
		}
	}
	want := PackageURL(name, version)
	wantU, _ := url.PathUnescape(want)
	for _, s := range st.Subject {
		got, err := url.PathUnescape(s.Name)
		if err != nil {
			continue
		}
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

// verifyChain checks that the leaf chains, for code signing, at time t, to
// a certificate authority of root that was issuing at t. The bundle's own
// intermediates may complete the chain; the anchor is always root's.
func verifyChain(certs []*x509.Certificate, root *TrustedRoot, t time.Time) error {
	var errs []error
	for _, ca := range root.Authorities {
		if !valid(t, ca.Start, ca.End) {
			continue
		}
		roots := x509.NewCertPool()
		roots.AddCert(ca.Root)
		inter := x509.NewCertPool()
		for _, ic := range ca.Intermediates {
			inter.AddCert(ic)
		}
		for _, ic := range certs[1:] {
			inter.AddCert(ic)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: t,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return fmt.Errorf("certificate chain: no certificate authority of the %s was issuing at %s", root.Source, t.Format(time.RFC3339))
	}
	return fmt.Errorf("certificate chain: %w", errs[len(errs)-1])
}

// checkIdentity applies the provenance identity policy.
func checkIdentity(id Identity, declared string) error {
	host, ok := provenanceIssuers[id.Issuer]
	if !ok {
		return fmt.Errorf("%w: issued on the word of %q, not a CI provider npm accepts provenance from", ErrIdentity, id.Issuer)
	}
	src := NormalizeRepository(id.SourceRepository)
	if src == "" {
		return fmt.Errorf("%w: the certificate names no source repository", ErrIdentity)
	}
	if u, err := url.Parse(src); err != nil || u.Host != host {
		return fmt.Errorf("%w: source repository %s is not on %s, whose issuer signed", ErrIdentity, id.SourceRepository, host)
	}
	want := NormalizeRepository(declared)
	if want == "" {
		return fmt.Errorf("%w (built from %s)", ErrNoRepository, id.SourceRepository)
	}
	if src != want {
		return fmt.Errorf("%w: built from %s by %s, the package declares %s", ErrIdentity, id.SourceRepository, id.Workflow, declared)
	}
	return nil
}

// predicateRepository returns the source repository a SLSA provenance
// predicate names: buildDefinition.externalParameters.workflow.repository
// (v1) or invocation.configSource.uri without its ref (v0.2).
func predicateRepository(raw json.RawMessage) string {
	var p struct {
		BuildDefinition struct {
			ExternalParameters struct {
				Workflow struct {
					Repository string `json:"repository"`
				} `json:"workflow"`
			} `json:"externalParameters"`
		} `json:"buildDefinition"`
		Invocation struct {
			ConfigSource struct {
				URI string `json:"uri"`
			} `json:"configSource"`
		} `json:"invocation"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return ""
	}
	if r := p.BuildDefinition.ExternalParameters.Workflow.Repository; r != "" {
		return r
	}
	if u := p.Invocation.ConfigSource.URI; u != "" {
		if at := strings.LastIndex(u, "@"); at > strings.Index(u, "://") {
			u = u[:at]
		}
		return u
	}
	return ""
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
