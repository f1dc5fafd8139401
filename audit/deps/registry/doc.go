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
// Attestations (VerifyAttestations) are verified as npm audit signatures
// does, against a TrustedRoot (by default the Sigstore public-good root
// shipped in the binary, PublicGoodRoot): the DSSE signature (with the
// registry key for npm's publish attestation, with the certificate's key
// for SLSA provenance); the Rekor transparency-log entry (signed entry
// timestamp, RFC 6962 inclusion proof and signed checkpoint) and that it
// records this envelope; the certificate chain to a Fulcio authority at
// the logged time; and the provenance identity: an accepted CI issuer and
// the source repository the package declares. Rekor v2 entries, RFC 3161
// timestamps and SCTs are not verified; an entry rampart cannot check is
// ErrTlogUnverifiable, never a success.
//
// # Concurrency
//
// A Client and a Cache are safe for concurrent use.
//
// Registry API: https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md;
// signatures: https://docs.npmjs.com/about-registry-signatures;
// DSSE: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md;
// Sigstore bundle: https://github.com/sigstore/protobuf-specs;
// Rekor: https://github.com/sigstore/rekor; RFC 6962 (inclusion proofs);
// signed notes: https://c2sp.org/signed-note; Fulcio certificate
// extensions: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md.
package registry
