// Package registry talks to an npm registry for the audit: package
// metadata (packuments), package archives, the registry's signing keys and
// its attestations. It verifies what it gets: archives against subresource
// integrity hashes, registry signatures against the registry's published
// ECDSA keys (as `npm audit signatures` does), and the DSSE envelopes of
// Sigstore attestation bundles. A content-addressed Cache keeps verified
// archives on disk so a second audit needs no network.
//
// The threat is code that is not what the registry published — an archive
// altered on a mirror, a proxy or a disk — and metadata that lies about it.
//
// # Security considerations
//
// Every request has a deadline and every body a size bound. Archives are
// fetched only from the configured registry's host: a lockfile's resolved
// URL pointing elsewhere is not followed. The Cache stores a file under the
// hex digest of its content, writes through a temporary file and a rename,
// and checks the digest again when reading, so a tampered cache entry is a
// miss, never trusted content.
//
// Registry signatures are verified with crypto/ecdsa over SHA-256 of
// "name@version:integrity", with the key whose id the signature names; a
// key past its expiry date does not verify versions published after it.
//
// Attestations (VerifyAttestations) are verified in part; see its
// documentation for exactly what is and is not checked. In short: the DSSE
// signature (with the registry key for npm's publish attestation, with the
// certificate's key for SLSA provenance), the certificate chain when trusted
// roots are given, and that the in-toto subject names this package version
// with this archive's SHA-512. The Rekor transparency-log entry, signed
// timestamps and the certificate's identity policy are not verified.
//
// # Concurrency
//
// A Client and a Cache are safe for concurrent use.
//
// Registry API: https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md;
// signatures: https://docs.npmjs.com/about-registry-signatures;
// DSSE: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md;
// Sigstore bundle: https://github.com/sigstore/protobuf-specs.
package registry
