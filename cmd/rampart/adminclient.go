package main

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// adminTarget is how a command reaches the running gateway's admin
// listener: its address, the bearer token, and, when the listener serves
// TLS (admin.cert_file), the certificate it must present.
type adminTarget struct {
	addr  string // host:port
	token string
	// pin is the DER of the first certificate of admin.cert_file; nil
	// for a plain-HTTP listener.
	pin []byte
	// cert is the client certificate presented over TLS, for a listener
	// with admin.client_ca; nil for none.
	cert *tls.Certificate
}

// onLoopback returns the host to ask for an admin listener on host: one
// listening on all interfaces is asked on loopback.
func onLoopback(host string) string {
	switch host {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::":
		return "::1"
	}
	return host
}

// readPin returns the DER of the first certificate in the PEM file path.
func readPin(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			return nil, fmt.Errorf("no PEM certificate in %s", path)
		}
		if block.Type == "CERTIFICATE" {
			return block.Bytes, nil
		}
	}
}

var errAdminCertificate = errors.New("the admin listener presented a certificate other than admin.cert_file's")

// client returns the base URL of t and an HTTP client for it. The client
// never goes through a proxy from the environment (the admin listener is
// this host's or a private network's, and the token must not travel
// through a proxy). Over TLS it accepts exactly the certificate of
// admin.cert_file, whatever name or CA issued it: the token is sent to
// that listener and no other.
func (t adminTarget) client() (string, *http.Client) {
	tr := &http.Transport{Proxy: nil}
	if t.pin == nil {
		return "http://" + t.addr, &http.Client{Transport: tr}
	}
	pin := t.pin
	tr.TLSClientConfig = &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is not verified against a CA: the one certificate
		// accepted is pinned below, which is stricter.
		InsecureSkipVerify: true, //nolint:gosec // pinned in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, pin) {
				return errAdminCertificate
			}
			return nil
		},
	}
	if t.cert != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{*t.cert}
	}
	return "https://" + t.addr, &http.Client{Transport: tr}
}
