package testutil

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// FaultMode is how a FaultProxy treats its connections.
type FaultMode int32

// The modes of a FaultProxy.
const (
	// Forward passes bytes both ways.
	Forward FaultMode = iota
	// Hang keeps every connection open and accepts new ones, but passes
	// nothing either way: the peer behind it looks alive and never
	// answers (a dead network path, a stopped VM, a full backlog).
	Hang
	// Cut closes every connection at once and each new one as soon as it
	// is accepted.
	Cut
)

// FaultProxy is a TCP proxy on a random loopback port in front of a real
// server, whose mode a test switches to make the server hang or drop
// connections without touching the server itself.
type FaultProxy struct {
	// Addr is the proxy's host:port; point clients here.
	Addr string

	target string
	ln     net.Listener
	mode   atomic.Int32
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	// resume is closed when the mode leaves Hang.
	resume chan struct{}
}

// StartFaultProxy starts a proxy to target in Forward mode, closed when t
// ends.
func StartFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}, resume: make(chan struct{})}
	close(p.resume)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// SetMode switches the proxy's mode. Leaving Hang lets the held
// connections flow again; entering Cut closes them.
func (p *FaultProxy) SetMode(m FaultMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := FaultMode(p.mode.Swap(int32(m)))
	switch {
	case m == Hang && old != Hang:
		p.resume = make(chan struct{})
	case m != Hang && old == Hang:
		close(p.resume)
	}
	if m == Cut {
		for c := range p.conns {
			_ = c.Close()
		}
	}
}

// Close stops the proxy and closes every connection.
func (p *FaultProxy) Close() {
	_ = p.ln.Close()
	p.SetMode(Cut)
	p.wg.Wait()
}

// Conns returns how many connections the proxy holds open (client side
// and server side counted separately).
func (p *FaultProxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

func (p *FaultProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if FaultMode(p.mode.Load()) == Cut {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *FaultProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *FaultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *FaultProxy) serve(c net.Conn) {
	defer p.wg.Done()
	defer p.untrack(c)
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		return
	}
	if !p.track(up) {
		return
	}
	defer p.untrack(up)
	done := make(chan struct{}, 2)
	go func() { p.pipe(up, c); done <- struct{}{} }()
	go func() { p.pipe(c, up); done <- struct{}{} }()
	<-done
}

// pipe copies src to dst chunk by chunk, holding each chunk while the
// proxy hangs.
func (p *FaultProxy) pipe(dst, src net.Conn) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			for FaultMode(p.mode.Load()) == Hang {
				p.mu.Lock()
				ch := p.resume
				p.mu.Unlock()
				<-ch
			}
			if FaultMode(p.mode.Load()) == Cut {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or closed: the deferred closes end the other half
		}
	}
}
