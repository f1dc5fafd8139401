package testutil

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// RawTimeout bounds every exchange made by Raw.
const RawTimeout = 5 * time.Second

// RawResponse is a response read by Raw, with its body fully read.
type RawResponse struct {
	*http.Response
	Body []byte
}

// Raw sends request, byte for byte, on a new TCP connection to addr and
// returns the response. Go's HTTP client normalises request targets, so
// tests of path and host confusion (`GET \admin`, `GET http://host/admin`,
// `%00`) need this. The exchange is bounded by RawTimeout.
func Raw(t testing.TB, addr, request string) *RawResponse {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, RawTimeout)
	if err != nil {
		t.Fatalf("raw: dial %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(RawTimeout))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("raw: write: %v", err)
	}
	method, _, _ := strings.Cut(request, " ")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("raw: reading the response to %q: %v", firstLine(request), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("raw: reading the body of the response to %q: %v", firstLine(request), err)
	}
	return &RawResponse{Response: resp, Body: body}
}

// RequestText builds an HTTP/1.1 request with the given request line parts
// and headers (each "Name: value"), ending with Connection: close. An empty
// host omits the Host header.
func RequestText(method, target, host string, headers ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\n")
	if host != "" {
		b.WriteString("Host: " + host + "\r\n")
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
