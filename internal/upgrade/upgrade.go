// Package upgrade tells a WebSocket opening handshake from every other
// request that carries an Upgrade header.
package upgrade

import (
	"net/http"
	"strings"
)

// IsWebSocket reports whether r is a WebSocket opening handshake as RFC 6455
// §4.1 defines it: HTTP/1.1 GET, exactly one "Upgrade: websocket", a
// Connection header naming "upgrade", exactly one Sec-WebSocket-Key of 16
// bytes in base64 (24 characters) and Sec-WebSocket-Version 13. Anything
// else that asks to upgrade (h2c, a WebSocket on POST, a version a server
// might parse differently) is not one, and callers strip the upgrade.
func IsWebSocket(r *http.Request) bool {
	if r.Method != http.MethodGet || r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return false
	}
	up := r.Header["Upgrade"]
	if len(up) != 1 || !strings.EqualFold(strings.TrimSpace(up[0]), "websocket") {
		return false
	}
	if !HasToken(r.Header["Connection"], "upgrade") {
		return false
	}
	key := r.Header["Sec-Websocket-Key"]
	if len(key) != 1 || len(key[0]) != 24 || !base64Key(key[0]) {
		return false
	}
	v := r.Header["Sec-Websocket-Version"]
	return len(v) == 1 && strings.TrimSpace(v[0]) == "13"
}

// Requested reports whether r asks for any protocol upgrade.
func Requested(r *http.Request) bool {
	return len(r.Header["Upgrade"]) > 0 || HasToken(r.Header["Connection"], "upgrade")
}

// HasToken reports whether the comma-separated header values vs contain
// token, case-insensitively.
func HasToken(vs []string, token string) bool {
	for _, v := range vs {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// base64Key reports whether k is 16 bytes in standard base64 with padding.
func base64Key(k string) bool {
	for i := 0; i < 22; i++ {
		c := k[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return k[22] == '=' && k[23] == '='
}
