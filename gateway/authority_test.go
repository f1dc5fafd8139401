package gateway_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/rampartsec/rampart/internal/testutil"
)

// h2Status sends one HTTP/2 request with the given :authority (omitted
// when absent) over a real TLS connection to addr, with hand-made frames
// so no client-side check cleans the value first, and returns the
// response's :status and body.
func h2Status(t *testing.T, addr string, roots *x509.CertPool, authority string, absent bool) (int, string) {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: testutil.RawTimeout}, "tcp", addr,
		&tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(testutil.RawTimeout))
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	fields := []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"}, {Name: ":path", Value: "/x"}}
	if !absent {
		fields = append(fields, hpack.HeaderField{Name: ":authority", Value: authority})
	}
	for _, f := range fields {
		_ = enc.WriteField(f)
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	status, body := 0, ""
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			if status != 0 {
				return status, body
			}
			t.Fatalf(":authority %q: reading: %v", authority, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID == 1 {
				status, _ = strconv.Atoi(f.PseudoValue("status"))
				if f.StreamEnded() {
					return status, body
				}
			}
		case *http2.DataFrame:
			if f.StreamID == 1 {
				body += string(f.Data())
				if f.StreamEnded() {
					return status, body
				}
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == 1 {
				// The server refused the stream before any handler ran:
				// the request never reached the application.
				return 400, "stream reset: " + f.ErrCode.String()
			}
		case *http2.GoAwayFrame:
			return 400, "goaway: " + f.ErrCode.String()
		}
	}
}

// hostileAuthorities are host values that must never reach the
// application, over any protocol.
var hostileAuthorities = []string{
	`x",for=6.6.6.6;proto=https;host="good.example`,
	`good.example"`,
	"a,b.example",
	"a;b.example",
	"a b.example",
	"a/b.example",
	`a\b.example`,
	"user@good.example",
	"user:pass@good.example",
	"good.example:",
	"good.example:65536",
	"good.example:8x",
	"[::1",
	"[fe80::1%eth0]",
	"good..example",
	"-good.example",
	"good-.example",
	"gööd.example",
	"good.example%2F",
	strings.Repeat("a", 64) + ".example",
	strings.Repeat("a.", 130) + "example",
	"127.1",
	"0x7f.0.0.1",
}

// TestHostileAuthority: the same hostile hosts are refused over HTTP/2
// (:authority) and HTTP/1.1 (Host) on a real TLS listener, a missing
// authority is refused, and the upstream never sees any of them.
func TestHostileAuthority(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	certFile, keyFile, pool := testutil.SelfSignedCert(t, t.TempDir())
	h := start(t, parse(t, up.URL, fmt.Sprintf("tls: {cert: %q, key: %q}\n", certFile, keyFile)))
	addr := strings.TrimPrefix(h.url, "https://")

	if status, body := h2Status(t, addr, pool, "app.example.com", false); status != 200 || !strings.Contains(body, `"host":"app.example.com"`) {
		t.Fatalf("valid :authority: status %d body %q", status, body)
	}
	if status, body := h2Status(t, addr, pool, "APP.Example.COM.:443", false); status != 200 || !strings.Contains(body, `"host":"app.example.com:443"`) {
		t.Errorf("mixed-case :authority: status %d body %q, want the canonical host upstream", status, body)
	}
	if status, _ := h2Status(t, addr, pool, "", true); status != 400 {
		t.Errorf("no :authority: status %d, want 400", status)
	}
	for _, a := range hostileAuthorities {
		status, body := h2Status(t, addr, pool, a, false)
		if status != 400 {
			t.Errorf("HTTP/2 :authority %q: status %d, want 400 (body %q)", a, status, body)
		}
		if strings.Contains(body, `"header"`) {
			t.Errorf("HTTP/2 :authority %q reached the upstream", a)
		}
		resp := rawTLS(t, addr, pool, testutil.RequestText("GET", "/x", a))
		if resp.StatusCode != 400 {
			t.Errorf("HTTP/1.1 Host %q: status %d, want 400", a, resp.StatusCode)
		}
	}
}

// rawTLS is testutil.Raw over TLS.
func rawTLS(t *testing.T, addr string, roots *x509.CertPool, request string) *testutil.RawResponse {
	t.Helper()
	ln := testutil.Listen(t)
	// A local relay turns the raw TCP exchange into a TLS one.
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		s, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
		if err != nil {
			return
		}
		defer s.Close()
		go func() { _, _ = copyConn(s, c) }()
		_, _ = copyConn(c, s)
	}()
	return testutil.Raw(t, ln.Addr().String(), request)
}

func copyConn(dst, src net.Conn) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err != nil {
			if tc, ok := dst.(interface{ CloseWrite() error }); ok {
				_ = tc.CloseWrite()
			}
			return n, err
		}
	}
}

// TestTLSCipherSuites: TLS 1.2 offers only AEAD suites with forward
// secrecy by default.
func TestTLSCipherSuites(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	certFile, keyFile, pool := testutil.SelfSignedCert(t, t.TempDir())
	h := start(t, parse(t, up.URL, fmt.Sprintf("tls: {cert: %q, key: %q}\n", certFile, keyFile)))
	addr := strings.TrimPrefix(h.url, "https://")
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost",
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{cs.ID}})
		accepted := err == nil
		if conn != nil {
			_ = conn.Close()
		}
		aead := strings.Contains(cs.Name, "_GCM_") || strings.Contains(cs.Name, "CHACHA20")
		if accepted && (!aead || !strings.HasPrefix(cs.Name, "TLS_ECDHE_")) {
			t.Errorf("TLS 1.2 accepted %s", cs.Name)
		}
		if !accepted && aead && strings.HasPrefix(cs.Name, "TLS_ECDHE_ECDSA_") {
			t.Errorf("TLS 1.2 refused %s (the certificate is ECDSA): %v", cs.Name, err)
		}
	}
}
