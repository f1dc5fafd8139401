package gateway_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/rampartsec/rampart/internal/testutil"
)

// rapidReset opens one HTTP/2 connection over TLS to addr and sends up to
// streams requests, each HEADERS immediately followed by RST_STREAM
// (CVE-2023-44487), until the server ends the connection. It reports how
// many streams it sent, whether the server sent GOAWAY and whether it then
// closed the connection.
func rapidReset(t *testing.T, addr string, pool *x509.CertPool, streams int) (opened int, goAway, closed bool) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer conn.Close()
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var away atomic.Bool
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		rd := http2.NewFramer(nil, conn)
		for {
			f, err := rd.ReadFrame()
			if err != nil {
				return
			}
			if _, ok := f.(*http2.GoAwayFrame); ok {
				away.Store(true)
			}
		}
	}()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for i := range streams {
		if away.Load() {
			break
		}
		hb.Reset()
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", addr}, {":path", fmt.Sprintf("/item/%d", i)}} {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		id := uint32(2*i + 1)
		err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
		if err == nil {
			err = fr.WriteRSTStream(id, http2.ErrCodeCancel)
		}
		if err != nil {
			break // the server closed the connection
		}
		opened++
	}
	// Give the server time to act on what it read and close the
	// connection (Go waits a second after GOAWAY), then hang up.
	select {
	case <-readDone:
		closed = true
	case <-time.After(5 * time.Second):
	}
	return opened, away.Load(), closed
}

// TestRapidReset sends HEADERS and RST_STREAM as fast as one connection
// allows over a real TLS listener: the connection is closed with GOAWAY
// once its reset budget is spent, fewer than 10 requests per connection
// reach the upstream, and other clients are served meanwhile.
func TestRapidReset(t *testing.T) {
	t.Parallel()
	up := newSlowUpstream(t)
	cert, key, pool := testutil.SelfSignedCert(t, t.TempDir())
	h := start(t, parse(t, up.URL, fmt.Sprintf("tls:\n  cert: %q\n  key: %q\n", cert, key)))
	addr := strings.TrimPrefix(h.url, "https://")

	const conns, streams = 3, 2000
	for i := range conns {
		before := up.received.Load()
		opened, goAway, closed := rapidReset(t, addr, pool, streams)
		started := up.received.Load() - before
		t.Logf("connection %d: %d streams sent and reset, %d upstream requests started, GOAWAY %v, closed %v", i, opened, started, goAway, closed)
		if !goAway || !closed {
			t.Errorf("connection %d: GOAWAY %v, closed %v after %d resets; want both", i, goAway, closed, opened)
		}
		if started >= 10 {
			t.Errorf("connection %d: %d upstream requests started, want fewer than 10", i, started)
		}
	}
	if got := metricValue(t, h, `rampart_limit_rejections_total{limit="max_stream_resets"}`); got != fmt.Sprint(conns) {
		t.Errorf("rejections metric: got %q, want %d", got, conns)
	}
	if !strings.Contains(h.logs.String(), `"msg":"closing connection: too many streams reset"`) {
		t.Error("no log line for the closed connection")
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, _ := do(t, client, request(t, "GET", h.url+"/after"))
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Errorf("a well-behaved HTTP/2 client afterwards: got %d over HTTP/%d, want 200 over HTTP/2", resp.StatusCode, resp.ProtoMajor)
	}
}
