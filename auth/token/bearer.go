package token

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// MaxTokenBytes bounds the length of a bearer token. Longer Authorization
// values are refused before any decoding, so a client cannot make Rampart
// base64-decode or JSON-parse megabytes per request.
const MaxTokenBytes = 8 << 10

// Bearer returns the bearer token of r (RFC 6750, section 2.1). It returns
// "" and a nil error when r carries no bearer credential: no Authorization
// header, or another scheme such as Basic. It returns an error wrapping
// ErrMalformed when a bearer credential is present but unusable, or when r
// has several Authorization headers and one of them is a bearer credential
// (which one a server or proxy would pick is ambiguous, so none is chosen).
//
// Tokens in the query string or a form body are never read: RFC 6750 warns
// that they leak through logs and Referer headers.
func Bearer(r *http.Request) (string, error) {
	values := r.Header["Authorization"]
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		return ParseBearer(values[0])
	}
	for _, v := range values {
		if isBearerScheme(v) {
			return "", fmt.Errorf("%w: several Authorization headers", ErrMalformed)
		}
	}
	return "", nil
}

// ParseBearer parses one Authorization header value. Its results are those of
// Bearer. The scheme is matched case-insensitively; the token must be a
// b64token of at most MaxTokenBytes.
func ParseBearer(header string) (string, error) {
	if !isBearerScheme(header) {
		return "", nil
	}
	rest := header[len("bearer"):]
	// RFC 6750 asks for one space; RFC 9110 allows more between the scheme
	// and the credentials. Tabs and trailing blanks are not allowed.
	i := 0
	for i < len(rest) && rest[i] == ' ' {
		i++
	}
	if i == 0 {
		return "", fmt.Errorf("%w: no space after the Bearer scheme", ErrMalformed)
	}
	tok := rest[i:]
	if tok == "" {
		return "", fmt.Errorf("%w: empty bearer token", ErrMalformed)
	}
	if len(tok) > MaxTokenBytes {
		return "", fmt.Errorf("%w: bearer token longer than %d bytes", ErrMalformed, MaxTokenBytes)
	}
	if !isB64Token(tok) {
		return "", fmt.Errorf("%w: bearer token has characters outside the b64token syntax", ErrMalformed)
	}
	return tok, nil
}

// isBearerScheme reports whether v starts with the Bearer scheme name,
// followed by the end of the value or a space.
func isBearerScheme(v string) bool {
	if len(v) < len("bearer") || !strings.EqualFold(v[:len("bearer")], "bearer") {
		return false
	}
	return len(v) == len("bearer") || v[len("bearer")] == ' '
}

// isB64Token reports whether s matches RFC 6750's
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			i++
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// UnverifiedIssuer returns the iss claim of a compact JWS without verifying
// anything. It exists only to route a token to the verifier configured for
// that issuer, which then checks everything, iss included; it must never be
// used to make a decision. It returns an error wrapping ErrMalformed when raw
// is not a compact JWS with a JSON object payload.
func UnverifiedIssuer(raw string) (string, error) {
	if len(raw) > MaxTokenBytes {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenBytes)
	}
	first := strings.IndexByte(raw, '.')
	if first <= 0 {
		return "", fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	payload := raw[first+1:]
	second := strings.IndexByte(payload, '.')
	if second < 0 || strings.IndexByte(payload[second+1:], '.') >= 0 {
		return "", fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	payload = payload[:second]
	buf := make([]byte, base64.RawURLEncoding.DecodedLen(len(payload)))
	n, err := base64.RawURLEncoding.Decode(buf, []byte(payload))
	if err != nil {
		return "", fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	var claims struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(buf[:n], &claims); err != nil {
		return "", fmt.Errorf("%w: payload is not a JSON object with a string iss", ErrMalformed)
	}
	return claims.Issuer, nil
}
