package gateway

import (
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/rampartsec/rampart/clientip"
)

// forwardWatch notices the commonest deployment mistake behind a proxy:
// trusted_proxies left out. The proxy's requests then arrive from a
// private address that Rampart does not trust, so their forwarding headers
// are ignored and every client shares the proxy's address — one rate-limit
// bucket and one login counter for the whole site. Each such request is
// counted (rampart_untrusted_forwarding_headers_total) and a warning is
// logged once per peer per forwardWatchInterval. Public peers are not
// reported: a client on the internet sending X-Forwarded-For is an
// attempt, not a misconfiguration. It lives as long as the Gateway and is
// safe for concurrent use.
type forwardWatch struct {
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time

	mu   sync.Mutex
	last map[netip.Addr]time.Time // when each peer was last logged
}

// forwardWatchInterval is how often one peer is logged at most.
const forwardWatchInterval = 10 * time.Minute

// forwardWatchPeers bounds the peers remembered; a full table is emptied.
const forwardWatchPeers = 4096

// forwardingHeaders are the headers a proxy adds that say who the client
// is; any of them from an untrusted private peer means a proxy is there.
var forwardingHeaders = []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Proto", "X-Forwarded-Host"}

func newForwardWatch(log *slog.Logger, m *metrics, now func() time.Time) *forwardWatch {
	return &forwardWatch{log: log, metrics: m, now: now, last: map[netip.Addr]time.Time{}}
}

// check looks at one request, before its forwarding headers are removed.
// The common cases — a trusted peer, a public peer, no forwarding header —
// cost a few comparisons and no allocation.
func (fw *forwardWatch) check(r *http.Request, ips *clientip.Resolver, clientHeader string) {
	peer := clientip.Peer(r).Unmap()
	class := peerClass(peer)
	if class == "" || ips.Trusted(peer) {
		return
	}
	header := ""
	if _, ok := r.Header[clientHeader]; ok && clientHeader != "" {
		header = clientHeader
	}
	for _, h := range forwardingHeaders {
		if header != "" {
			break
		}
		if _, ok := r.Header[h]; ok {
			header = h
		}
	}
	if header == "" {
		return
	}
	fw.metrics.forwarded.WithLabelValues(class).Inc()
	now := fw.now()
	fw.mu.Lock()
	if t, ok := fw.last[peer]; ok && now.Sub(t) < forwardWatchInterval {
		fw.mu.Unlock()
		return
	}
	if len(fw.last) >= forwardWatchPeers {
		clear(fw.last)
	}
	fw.last[peer] = now
	fw.mu.Unlock()
	fw.log.Warn("forwarding headers from a private-range peer that trusted_proxies does not list: if a proxy or load balancer runs there, add it to trusted_proxies — until then every client behind it shares its address (one rate-limit bucket, one login-protection counter)",
		slog.String("peer", peer.String()), slog.String("header", header), slog.String("network", class))
}

// shared is the carrier-grade NAT range (RFC 6598), where cloud load
// balancers often live.
var shared = netip.MustParsePrefix("100.64.0.0/10")

// peerClass names the private range a is in, or "" for a public address.
func peerClass(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return ""
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast():
		return "link_local"
	case a.Is4() && a.IsPrivate():
		return "private"
	case a.Is6() && a.IsPrivate():
		return "unique_local"
	case shared.Contains(a):
		return "shared"
	}
	return ""
}
