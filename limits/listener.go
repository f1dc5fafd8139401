package limits

import (
	"io"
	"net"
	"net/netip"
	"sync"
)

// ConnConfig configures a Listener.
type ConnConfig struct {
	// MaxPerClient is how many connections one client address (an IPv6
	// client: its /64) may hold open at once; the next is closed as it is
	// accepted. Zero or less means no limit.
	MaxPerClient int
	// Limit, when set, returns the limit for a connection from peer in
	// place of MaxPerClient (zero or less: no limit). It lets a server
	// change the limit at run time and exempt peers that carry many
	// clients' connections, such as trusted proxies. It must be fast and
	// safe for concurrent use.
	Limit func(peer netip.Addr) int
	// Counter, when set, holds the counts, so that several listeners share
	// one limit per client (a server on two ports) or a replacement
	// listener continues the counts. Nil: the Listener's own.
	Counter *Counter
	// OnRefuse, when set, is called for each connection closed for the
	// limit, after it is closed.
	OnRefuse func(peer netip.Addr)
}

// Listener is a net.Listener that refuses connections over their client's
// limit: Accept closes them and waits for the next. Connections it returns
// give their count back when closed. It is safe for concurrent use.
type Listener struct {
	net.Listener
	cfg     ConnConfig
	counter *Counter
}

// NewListener returns ln limited by c.
func NewListener(ln net.Listener, c ConnConfig) *Listener {
	l := &Listener{Listener: ln, cfg: c, counter: c.Counter}
	if l.counter == nil {
		l.counter = NewCounter()
	}
	return l
}

// Counter returns the counts of open connections per client.
func (l *Listener) Counter() *Counter { return l.counter }

// Accept returns the next connection within its client's limit. Errors are
// the wrapped listener's.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer := peerAddr(c.RemoteAddr())
		if !peer.IsValid() {
			// Not an IP connection (a Unix socket): there is no client
			// address to count by.
			return c, nil
		}
		max := l.cfg.MaxPerClient
		if l.cfg.Limit != nil {
			max = l.cfg.Limit(peer)
		}
		key := ClientKey(peer)
		if !l.counter.Acquire(key, max) {
			refuse(c)
			if l.cfg.OnRefuse != nil {
				l.cfg.OnRefuse(peer)
			}
			continue
		}
		return &countedConn{Conn: c, counter: l.counter, key: key}, nil
	}
}

// refuse closes c at once. A reset (linger 0) rather than an orderly close
// leaves no TIME_WAIT state on the server for connections the client keeps
// opening.
func refuse(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func peerAddr(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// countedConn gives its client's count back once, when first closed.
type countedConn struct {
	net.Conn
	counter *Counter
	key     netip.Addr
	once    sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.counter.Release(c.key) })
	return err
}

// NetConn returns the connection that c wraps.
func (c *countedConn) NetConn() net.Conn { return c.Conn }

// CloseWrite half-closes the connection when the wrapped one can (TCP).
// Servers rely on it: net/http half-closes before closing a connection
// whose request it refused, so the client reads the response instead of a
// reset.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom lets io.Copy to the connection use the wrapped connection's
// fast path (splice, sendfile).
func (c *countedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// WriteTo lets io.Copy from the connection use the wrapped connection's
// fast path (splice).
func (c *countedConn) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := c.Conn.(io.WriterTo); ok {
		return wt.WriteTo(w)
	}
	return io.Copy(w, struct{ io.Reader }{c.Conn})
}
