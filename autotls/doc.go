// Package autotls obtains, renews and serves TLS certificates over ACME
// (RFC 8555), so that a gateway serves HTTPS without hand-managed
// certificate files.
//
// The threat is the expired or hand-copied certificate: a site whose
// certificate lapses is down or, worse, teaches its users to click through
// warnings, and a private key copied around by hand leaks. A Manager obtains
// a certificate for each configured domain from an ACME CA (Let's Encrypt by
// default), answers the CA's HTTP-01 (RFC 8555 §8.3) and TLS-ALPN-01
// (RFC 8737) challenges on the gateway's own listeners, renews each
// certificate well before it expires, staples a fresh OCSP response
// (RFC 6066 §8) when the certificate names a responder, and swaps renewed
// certificates into the running listener without a restart.
//
// The ACME protocol, challenge solving, storage locking and OCSP are
// CertMagic's (github.com/caddyserver/certmagic), a library made for exactly
// this and run by Caddy at scale; this package maps Rampart's configuration
// onto it and adds the plain-HTTP listener's handler (challenges plus a
// redirect to HTTPS).
//
// # Security considerations
//
//   - Account and certificate private keys live in Config.Storage, a
//     directory created with mode 0700. Replicas that share the directory
//     share the certificates and coordinate issuance through lock files in
//     it, so a fleet asks the CA once per renewal, not once per replica.
//   - The CA's directory URL must be HTTPS; Config.CARoot names the roots
//     trusted for it when it is a private CA (Pebble, step-ca). Nothing else
//     about the CA connection can be relaxed.
//   - The HTTP handler answers only ACME challenge paths itself; every
//     other request gets a redirect to the same host over HTTPS, with no body
//     from the request reflected. A Host header that is not a valid host name
//     gets 400.
//   - A certificate that cannot be renewed keeps being served until it
//     expires, and renewal is retried with back-off; the log says why.
//   - Handshakes for names that are not in Config.Domains fail: no
//     certificate is obtained on demand, so a client cannot make the
//     gateway ask the CA for arbitrary names.
//
// # Concurrency
//
// A Manager is safe for concurrent use. New starts no goroutine; Manage
// starts CertMagic's maintenance goroutine, which Close stops.
package autotls
