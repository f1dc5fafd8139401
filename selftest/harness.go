package selftest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// received is one request as the application received it.
type received struct {
	Method string      `json:"method"`
	Target string      `json:"target"`
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"-"`
	// Raw is the request head as it arrived, byte for byte.
	Raw string `json:"raw"`
}

// recorder is the application behind the gateway during a selftest: it
// records every request it receives, exactly as it arrived, and answers
// 200 with a short body.
type recorder struct {
	ln    net.Listener
	mu    sync.Mutex
	got   []*received
	wg    sync.WaitGroup
	conns map[net.Conn]struct{}
}

func newRecorder() (*recorder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("selftest: starting the recording upstream: %w", err)
	}
	r := &recorder{ln: ln, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

func (r *recorder) url() string { return "http://" + r.ln.Addr().String() }

func (r *recorder) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conns[c] = struct{}{}
		r.mu.Unlock()
		r.wg.Add(1)
		go r.serve(c)
	}
}

// teeConn keeps what was read, so the request head is recorded as sent.
type teeReader struct {
	r   io.Reader
	buf bytes.Buffer
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf.Write(p[:n])
	return n, err
}

func (r *recorder) serve(c net.Conn) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		_ = c.Close()
	}()
	tee := &teeReader{r: c}
	br := bufio.NewReader(tee)
	for {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(io.LimitReader(req.Body, 4<<20))
		raw := tee.buf.String()
		if i := strings.Index(raw, "\r\n\r\n"); i >= 0 {
			raw = raw[:i+4]
		}
		// What bufio read ahead belongs to the next request.
		rest := tee.buf.Bytes()[tee.buf.Len()-br.Buffered():]
		tee.buf = *bytes.NewBuffer(append([]byte(nil), rest...))
		r.mu.Lock()
		r.got = append(r.got, &received{Method: req.Method, Target: req.RequestURI, Host: req.Host, Header: req.Header, Body: body, Raw: raw})
		r.mu.Unlock()
		resp := "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nok"
		if _, err := io.WriteString(c, resp); err != nil {
			return
		}
	}
}

// take returns and forgets what was received since the last take.
func (r *recorder) take() []*received {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// claim returns and forgets what was received for one case: the requests
// carrying its case header, or the gateway's request id of its answer.
func (r *recorder) claim(caseID, requestID string) []*received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var mine, rest []*received
	for _, got := range r.got {
		if got.Header.Get(caseHeader) == caseID || requestID != "" && got.Header.Get("X-Request-Id") == requestID {
			mine = append(mine, got)
		} else {
			rest = append(rest, got)
		}
	}
	r.got = rest
	return mine
}

// caseHeader tags every request with its case, so that cases may run
// side by side and what reaches the app is still told apart.
const caseHeader = "X-Selftest-Case"

func (r *recorder) close() {
	_ = r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		_ = c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// preamble starts every connection to the gateway under test: the client
// address the gateway should see, since every case comes from loopback.
const preamble = "RAMPART-SELFTEST "

// addrListener gives each accepted connection the remote address its
// preamble names. It listens on loopback only; a connection without a
// valid preamble is closed.
type addrListener struct {
	net.Listener
	ready chan net.Conn
	stop  chan struct{}
	once  sync.Once
}

func newAddrListener() (*addrListener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("selftest: listening: %w", err)
	}
	l := &addrListener{Listener: ln, ready: make(chan net.Conn), stop: make(chan struct{})}
	go l.loop()
	return l, nil
}

func (l *addrListener) loop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			l.once.Do(func() { close(l.stop) })
			return
		}
		go func() {
			ac, err := readPreamble(c)
			if err != nil {
				_ = c.Close()
				return
			}
			select {
			case l.ready <- ac:
			case <-l.stop:
				_ = c.Close()
			}
		}()
	}
}

func (l *addrListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.stop:
		return nil, net.ErrClosed
	}
}

func (l *addrListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.stop) })
	return err
}

type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c *addrConn) RemoteAddr() net.Addr { return c.remote }

func readPreamble(c net.Conn) (net.Conn, error) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var line []byte
	one := make([]byte, 1)
	for len(line) < 80 {
		if _, err := c.Read(one); err != nil {
			return nil, err
		}
		if one[0] == '\n' {
			break
		}
		line = append(line, one[0])
	}
	_ = c.SetReadDeadline(time.Time{})
	s, ok := strings.CutPrefix(string(line), preamble)
	if !ok {
		return nil, errors.New("no preamble")
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil, err
	}
	return &addrConn{Conn: c, remote: net.TCPAddrFromAddrPort(ap)}, nil
}

// exchange is one request sent and what came of it on both sides.
type exchange struct {
	From    netip.Addr
	Raw     []byte
	Status  int
	Header  http.Header
	Body    []byte
	Err     error // no response: the connection was closed or timed out
	Reached []*received
}

// client sends raw requests to the gateway under test.
type client struct {
	addr    string
	tls     *tls.Config
	rec     *recorder
	timeout time.Duration
	// remote is true against a deployment: no preamble, no recorder.
	remote bool
	port   atomic.Uint32
	// exclusive: one case at a time, and everything the app receives
	// meanwhile is the case's (request smuggling).
	exclusive bool
	// budget, in target mode, is how many requests may still be sent;
	// interval is the least time between two.
	budget   int
	interval time.Duration
	last     time.Time
	seq      atomic.Uint64
}

func (cl *client) send(ctx context.Context, from netip.Addr, raw []byte) *exchange {
	ex := &exchange{From: from, Raw: raw}
	if cl.rec != nil && cl.exclusive {
		cl.rec.take()
	}
	caseID := ""
	if cl.rec != nil {
		caseID = fmt.Sprint(cl.seq.Add(1))
		raw = tagRequest(raw, caseID)
	}
	if cl.remote {
		if cl.budget <= 0 {
			ex.Err = errBudget
			return ex
		}
		cl.budget--
		if wait := time.Until(cl.last.Add(cl.interval)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				ex.Err = ctx.Err()
				return ex
			case <-t.C:
			}
		}
		cl.last = time.Now()
	}
	d := net.Dialer{Timeout: cl.timeout}
	c, err := d.DialContext(ctx, "tcp", cl.addr)
	if err != nil {
		ex.Err = err
		return ex
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(cl.timeout))
	if !cl.remote {
		port := uint16(40000 + cl.port.Add(1)%20000)
		if _, err := fmt.Fprintf(c, "%s%s\n", preamble, netip.AddrPortFrom(from, port)); err != nil {
			ex.Err = err
			return ex
		}
	}
	var conn net.Conn = c
	if cl.tls != nil {
		tc := tls.Client(c, cl.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			ex.Err = err
			return ex
		}
		conn = tc
	}
	if _, err := conn.Write(raw); err != nil {
		ex.Err = err
	}
	method := "GET"
	if i := bytes.IndexByte(raw, ' '); i > 0 {
		method = string(raw[:i])
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		if ex.Err == nil {
			ex.Err = err
		}
	} else {
		ex.Status, ex.Header = resp.StatusCode, resp.Header
		ex.Body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}
	if cl.rec != nil {
		if cl.exclusive {
			ex.Reached = cl.rec.take()
		} else {
			ex.Reached = cl.rec.claim(caseID, ex.Header.Get("X-Request-Id"))
		}
		for _, got := range ex.Reached {
			got.Header.Del(caseHeader)
			got.Raw = untagRequest(got.Raw)
		}
	}
	return ex
}

// tagRequest adds the case header after the request line. The header is
// the selftest's own; the report shows requests without it.
func tagRequest(raw []byte, id string) []byte {
	i := bytes.IndexByte(raw, '\n')
	if i < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw)+len(caseHeader)+len(id)+4)
	out = append(out, raw[:i+1]...)
	out = append(out, caseHeader+": "+id+"\r\n"...)
	return append(out, raw[i+1:]...)
}

func untagRequest(head string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(head, "\n") {
		if !strings.HasPrefix(strings.ToLower(l), strings.ToLower(caseHeader)+":") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// standIns writes throw-away secrets into dir.
type standIns struct {
	dir   string
	notes []string
}

func (s *standIns) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// certificate writes a self-signed certificate for host and returns the
// file names.
func (s *standIns) certificate(host string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host},
		DNSNames: []string{host, "localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(s.dir, "tls.crt"), filepath.Join(s.dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
}

// signingKey writes an Ed25519 private key.
func (s *standIns) signingKey(name string) (string, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	f := filepath.Join(s.dir, name)
	return f, os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// secret writes 32 random bytes.
func (s *standIns) secret(name string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	f := filepath.Join(s.dir, name)
	return f, os.WriteFile(f, b, 0o600)
}

var discard = slog.New(slog.DiscardHandler)
