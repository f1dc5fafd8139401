package limits_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/limits"
)

func TestClientKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"ipv4", "198.51.100.7", "198.51.100.7"},
		{"ipv4-mapped", "::ffff:198.51.100.7", "198.51.100.7"},
		{"ipv6 by /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"},
		{"ipv6 zone dropped", "fe80::1%eth0", "fe80::"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := limits.ClientKey(netip.MustParseAddr(tt.in))
			if got.String() != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if limits.ClientKey(netip.Addr{}).IsValid() {
		t.Error("zero address: got a valid key")
	}
}

func TestCounter(t *testing.T) {
	t.Parallel()
	c := limits.NewCounter()
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i := range 3 {
		if !c.Acquire(a, 3) {
			t.Fatalf("acquire %d: refused under the limit", i)
		}
	}
	if c.Acquire(a, 3) {
		t.Fatal("acquire over the limit: got true, want false")
	}
	if !c.Acquire(b, 3) {
		t.Fatal("another client refused")
	}
	if got := c.Total(); got != 4 {
		t.Errorf("total: got %d, want 4", got)
	}
	c.Release(a)
	if !c.Acquire(a, 3) {
		t.Fatal("acquire after release: refused")
	}
	for range 3 {
		c.Release(a)
	}
	c.Release(a) // unmatched: must not go below zero
	c.Release(b)
	if got := c.Clients(); got != 0 {
		t.Errorf("clients after releasing everything: got %d, want 0", got)
	}
	if got := c.Total(); got != 0 {
		t.Errorf("total after releasing everything: got %d, want 0", got)
	}
	for range 3 {
		c.Acquire(a, 3)
	}
	if c.Acquire(a, 3) {
		t.Error("an unmatched Release handed the client free capacity")
	}
	if !c.Acquire(a, 0) {
		t.Error("max 0 means no limit: refused")
	}
}

func TestGate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	capacity := limits.Capacity{Max: 1, Queue: 1, Timeout: 5 * time.Second}

	t.Run("queue then slot", func(t *testing.T) {
		t.Parallel()
		var g limits.Gate
		if err := g.Acquire(ctx, capacity); err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() { got <- g.Acquire(ctx, capacity) }()
		waitFor(t, func() bool { return g.Waiting() == 1 })
		if err := g.Acquire(ctx, capacity); !errors.Is(err, limits.ErrOverloaded) {
			t.Fatalf("queue full: got %v, want ErrOverloaded", err)
		}
		g.Release()
		if err := <-got; err != nil {
			t.Fatalf("queued caller: got %v, want a slot", err)
		}
		if g.Held() != 1 || g.Waiting() != 0 {
			t.Errorf("held %d waiting %d, want 1 and 0", g.Held(), g.Waiting())
		}
		g.Release()
		if g.Held() != 0 {
			t.Errorf("held after release: got %d, want 0", g.Held())
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		var g limits.Gate
		c := limits.Capacity{Max: 1, Queue: 4, Timeout: 50 * time.Millisecond}
		_ = g.Acquire(ctx, c)
		start := time.Now()
		if err := g.Acquire(ctx, c); !errors.Is(err, limits.ErrOverloaded) {
			t.Fatalf("got %v, want ErrOverloaded", err)
		}
		bound := time.Second
		if testutil.RaceEnabled {
			bound = 5 * time.Second
		}
		if el := time.Since(start); el < 50*time.Millisecond || el > bound {
			t.Errorf("waited %v, want about 50ms", el)
		}
		if g.Waiting() != 0 {
			t.Errorf("a timed-out caller stayed in the queue")
		}
	})
	t.Run("client gone leaves the queue", func(t *testing.T) {
		t.Parallel()
		var g limits.Gate
		_ = g.Acquire(ctx, capacity)
		cctx, cancel := context.WithCancel(ctx)
		got := make(chan error, 1)
		go func() { got <- g.Acquire(cctx, capacity) }()
		waitFor(t, func() bool { return g.Waiting() == 1 })
		cancel()
		if err := <-got; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if g.Waiting() != 0 || g.Held() != 1 {
			t.Errorf("held %d waiting %d, want 1 and 0", g.Held(), g.Waiting())
		}
		if err := g.Acquire(cctx, capacity); !errors.Is(err, context.Canceled) {
			t.Errorf("a caller already gone: got %v, want context.Canceled", err)
		}
	})
	t.Run("no queue", func(t *testing.T) {
		t.Parallel()
		var g limits.Gate
		c := limits.Capacity{Max: 1}
		_ = g.Acquire(ctx, c)
		if err := g.Acquire(ctx, c); !errors.Is(err, limits.ErrOverloaded) {
			t.Fatalf("got %v, want ErrOverloaded at once", err)
		}
	})
	t.Run("raised capacity admits waiters", func(t *testing.T) {
		t.Parallel()
		var g limits.Gate
		_ = g.Acquire(ctx, capacity)
		got := make(chan error, 1)
		go func() { got <- g.Acquire(ctx, capacity) }()
		waitFor(t, func() bool { return g.Waiting() == 1 })
		if err := g.Acquire(ctx, limits.Capacity{Max: 3, Queue: 1, Timeout: time.Second}); err != nil {
			t.Fatalf("raised capacity: %v", err)
		}
		if err := <-got; err != nil {
			t.Fatalf("waiter: got %v, want a slot", err)
		}
		if g.Held() != 3 {
			t.Errorf("held: got %d, want 3", g.Held())
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestListenerPerClient opens N+1 idle connections from one address with a
// limit of N over real sockets: the last is closed by the server while
// another address still connects, and a closed connection makes room.
func TestListenerPerClient(t *testing.T) {
	t.Parallel()
	const n = 4
	var refused []netip.Addr
	var mu sync.Mutex
	inner := testutil.Listen(t)
	ln := limits.NewListener(inner, limits.ConnConfig{
		MaxPerClient: n,
		OnRefuse: func(p netip.Addr) {
			mu.Lock()
			defer mu.Unlock()
			refused = append(refused, p)
		},
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// An idle server: hold the connection until the client
			// closes it.
			go func() {
				_, _ = io.Copy(io.Discard, c)
				_ = c.Close()
			}()
		}
	}()
	addr := inner.Addr().String()
	// tryDial connects from the address from; a nil connection means the
	// server reset it already during the dial.
	tryDial := func(from string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			if errors.Is(err, syscall.ECONNRESET) {
				return nil
			}
			t.Fatalf("dial from %s: %v", from, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	dial := func(from string) net.Conn {
		t.Helper()
		c := tryDial(from)
		if c == nil {
			t.Fatalf("dial from %s: connection reset", from)
		}
		return c
	}
	var held []net.Conn
	for range n {
		held = append(held, dial("127.0.0.2"))
	}
	waitFor(t, func() bool { return ln.Counter().Total() == n })
	for i, c := range held {
		if !open(c) {
			t.Fatalf("connection %d within the limit was closed", i)
		}
	}
	if c := tryDial("127.0.0.2"); c != nil && open(c) {
		t.Fatalf("connection %d from the same address stayed open", n+1)
	}
	other := dial("127.0.0.3")
	waitFor(t, func() bool { return ln.Counter().Total() == n+1 })
	if !open(other) {
		t.Fatal("a connection from another address was closed")
	}
	mu.Lock()
	if len(refused) != 1 || refused[0] != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("refusals: got %v, want [127.0.0.2]", refused)
	}
	mu.Unlock()
	_ = held[0].Close()
	waitFor(t, func() bool { return ln.Counter().Count(netip.MustParseAddr("127.0.0.2")) == n-1 })
	if !open(dial("127.0.0.2")) {
		t.Error("a closed connection did not make room for another")
	}
}

// open reports whether the server keeps c open: a read finds neither EOF
// nor a reset within a short wait.
func open(c net.Conn) bool {
	if c == nil {
		return false
	}
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestListenerExempt(t *testing.T) {
	t.Parallel()
	inner := testutil.Listen(t)
	ln := limits.NewListener(inner, limits.ConnConfig{
		MaxPerClient: 1,
		Limit:        func(netip.Addr) int { return 0 }, // every peer exempt, e.g. a trusted proxy
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	for i := range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !open(c) {
			t.Fatalf("exempt peer's connection %d closed", i)
		}
	}
}

// slowServer serves h through l on a real listener.
func slowServer(t *testing.T, l *limits.Limiter, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(l.Handler(h))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestLimiterPerClient(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var refusals []error
	var mu sync.Mutex
	l, err := limits.New(limits.Config{
		MaxInflightPerClient: 2,
		OnRefuse: func(_ *http.Request, err error) {
			mu.Lock()
			defer mu.Unlock()
			refusals = append(refusals, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, 4)
	url := slowServer(t, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			resp, err := http.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("request within the limit: got %d, want 200", resp.StatusCode)
			}
		})
	}
	<-entered
	<-entered
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("over the limit: got %d Retry-After %q, want 429 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(release)
	wg.Wait()
	resp, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after the slow requests: got %d, want 200", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refusals) != 1 || refusals[0] != limits.ErrClientBusy {
		t.Errorf("refusals: got %v, want [ErrClientBusy]", refusals)
	}
}

func TestLimiterOverload(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	state := limits.NewState()
	l, err := limits.New(limits.Config{MaxInflight: 1, MaxQueue: 1, QueueTimeout: 100 * time.Millisecond, RetryAfter: 1500 * time.Millisecond, State: state})
	if err != nil {
		t.Fatal(err)
	}
	url := slowServer(t, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
	}))
	go func() {
		if resp, err := http.Get(url + "/slow"); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, func() bool { return state.InFlight() == 1 })
	start := time.Now()
	resp, err := http.Get(url + "/fast")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("overloaded: got %d Retry-After %q, want 503 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	bound := time.Second
	if testutil.RaceEnabled {
		bound = 5 * time.Second
	}
	if el := time.Since(start); el > bound {
		t.Errorf("503 took %v, want about the queue timeout", el)
	}
	close(release)
	waitFor(t, func() bool { return state.InFlight() == 0 })
	resp, err = http.Get(url + "/fast")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after recovery: got %d, want 200", resp.StatusCode)
	}
}

func TestNewRejectsNegativeDurations(t *testing.T) {
	t.Parallel()
	if _, err := limits.New(limits.Config{QueueTimeout: -time.Second}); err == nil {
		t.Error("negative queue timeout: got nil error")
	}
	if _, err := limits.NewResetGuard(limits.ResetConfig{MaxResets: -1}); err == nil {
		t.Error("negative reset budget: got nil error")
	}
}

// TestResetGuard spends one connection's reset budget with requests whose
// client is gone: the one that spends it closes the connection (later
// requests are refused, responses carry Connection: close), another
// connection is untouched, and resets of costly requests count more.
func TestResetGuard(t *testing.T) {
	t.Parallel()
	var exceeded atomic.Int32
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g, err := limits.NewResetGuard(limits.ResetConfig{MaxResets: 16, Per: 10 * time.Second,
		Now: func() time.Time { return now }, OnExceeded: func(*http.Request) { exceeded.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	conn := func() context.Context { return limits.ConnContext(context.Background(), nil) }
	reset := func(ctx context.Context, costly bool) *httptest.ResponseRecorder {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		r.ProtoMajor = 2
		if err := g.Check(r); err != limits.ErrClientGone && err != limits.ErrTooManyResets {
			t.Fatalf("Check of a reset stream: got %v", err)
		}
		w := httptest.NewRecorder()
		g.Finish(w, r, costly)
		return w
	}
	live := func(ctx context.Context) error {
		r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		r.ProtoMajor = 2
		return g.Check(r)
	}
	a, b := conn(), conn()
	for i := range 15 {
		if w := reset(a, false); w.Header().Get("Connection") != "" {
			t.Fatalf("reset %d within the budget closed the connection", i)
		}
	}
	if err := live(a); err != nil {
		t.Fatalf("within the budget: got %v, want nil", err)
	}
	if w := reset(a, false); w.Header().Get("Connection") != "close" {
		t.Fatal("the reset that spends the budget: no Connection: close")
	}
	if err := live(a); err != limits.ErrTooManyResets {
		t.Fatalf("after the budget: got %v, want ErrTooManyResets", err)
	}
	if err := live(b); err != nil {
		t.Fatalf("another connection: got %v, want nil", err)
	}
	// Costly resets: an eighth of the budget each, so the eighth spends it.
	for i := range 7 {
		reset(b, true)
		if err := live(b); err != nil {
			t.Fatalf("costly reset %d: got %v, want nil", i, err)
		}
	}
	reset(b, true)
	if err := live(b); err != limits.ErrTooManyResets {
		t.Fatalf("eight costly resets: got %v, want ErrTooManyResets", err)
	}
	if got := exceeded.Load(); got != 2 {
		t.Errorf("OnExceeded: got %d calls, want 2 (once per connection)", got)
	}
	// The budget refills over Per: a fresh connection at a later time is
	// unaffected, and HTTP/1 requests are never counted.
	c := conn()
	for range 100 {
		ctx, cancel := context.WithCancel(c)
		cancel()
		r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		g.Finish(httptest.NewRecorder(), r, true)
	}
	if err := live(c); err != nil {
		t.Errorf("HTTP/1 requests counted as resets: %v", err)
	}
}

func TestListenerKeepsConnFeatures(t *testing.T) {
	t.Parallel()
	ln := limits.NewListener(testutil.Listen(t), limits.ConnConfig{MaxPerClient: 1})
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			defer c.Close()
			time.Sleep(100 * time.Millisecond)
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for name, ok := range map[string]bool{
		"CloseWrite": func() bool { _, ok := c.(interface{ CloseWrite() error }); return ok }(),
		"ReadFrom":   func() bool { _, ok := c.(io.ReaderFrom); return ok }(),
		"WriteTo":    func() bool { _, ok := c.(io.WriterTo); return ok }(),
	} {
		if !ok {
			t.Errorf("accepted connection lacks %s (net/http and io.Copy rely on it)", name)
		}
	}
}
