package redisconn

import (
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTimeout bounds each Redis call when the caller sets none.
const DefaultTimeout = 100 * time.Millisecond

// Topology says how a Redis deployment is reached.
type Topology int

// The topologies a URL can name.
const (
	// Single is one server (redis:// or rediss://).
	Single Topology = iota
	// Sentinel is a master found through Redis Sentinel
	// (redis-sentinel:// or rediss-sentinel://), following failovers.
	Sentinel
	// Cluster is a Redis Cluster reached through seed nodes
	// (redis-cluster:// or rediss-cluster://).
	Cluster
)

func (t Topology) String() string {
	switch t {
	case Sentinel:
		return "sentinel"
	case Cluster:
		return "cluster"
	}
	return "single"
}

// Target is a parsed Redis URL.
type Target struct {
	Topology Topology
	// Addrs are the server (Single), the sentinels (Sentinel) or the seed
	// nodes (Cluster), as host:port.
	Addrs []string
	// Master is the Sentinel master name.
	Master   string
	DB       int
	Username string
	Password string
	// SentinelPassword authenticates to the sentinels (Sentinel only).
	SentinelPassword string
	TLS              bool
}

// errURL describes the accepted forms without repeating the URL, which may
// hold a password.
var errURL = errors.New("redisconn: invalid redis URL: want redis://[user:password@]host:port/db, " +
	"redis-sentinel://[user:password@]host:port[,host:port…]/master[/db], " +
	"or redis-cluster://[user:password@]host:port[,host:port…] (rediss… for TLS)")

// Parse reads a Redis URL:
//
//	redis://[user:password@]host:port[/db]                 one server
//	redis-sentinel://[user:password@]h1:26379,h2:26379/master[/db][?sentinel_password=…]
//	redis-cluster://[user:password@]h1:7000,h2:7001,h3:7002
//
// with rediss, rediss-sentinel and rediss-cluster for TLS. The user and
// password are the data servers' (ACL) credentials; a Sentinel with its own
// password takes it as sentinel_password. Errors never repeat the URL.
func Parse(raw string) (Target, error) {
	if raw == "" {
		return Target{}, errors.New("redisconn: empty redis URL")
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Target{}, errURL
	}
	var t Target
	switch scheme {
	case "redis", "rediss":
		t.Topology = Single
	case "redis-sentinel", "rediss-sentinel":
		t.Topology = Sentinel
	case "redis-cluster", "rediss-cluster":
		t.Topology = Cluster
	default:
		return Target{}, errURL
	}
	t.TLS = strings.HasPrefix(scheme, "rediss")
	if t.Topology == Single {
		// go-redis reads the one-server form, with its query parameters
		// and default port.
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return Target{}, errURL
		}
		t.Addrs, t.DB, t.Username, t.Password = []string{opt.Addr}, opt.DB, opt.Username, opt.Password
		return t, nil
	}
	rest, query, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndexByte(hosts, '@'); at >= 0 {
		ui := hosts[:at]
		hosts = hosts[at+1:]
		user, pass, hasPass := strings.Cut(ui, ":")
		var err1, err2 error
		t.Username, err1 = url.PathUnescape(user)
		if hasPass {
			t.Password, err2 = url.PathUnescape(pass)
		}
		if err1 != nil || err2 != nil {
			return Target{}, errURL
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return Target{}, errURL
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Target{}, errURL
		}
		t.Addrs = append(t.Addrs, net.JoinHostPort(host, port))
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	if t.Topology == Sentinel {
		if len(segs) == 0 || segs[0] == "" {
			return Target{}, errors.New("redisconn: a redis-sentinel:// URL names the master after the hosts: redis-sentinel://host:26379/mymaster")
		}
		t.Master, segs = segs[0], segs[1:]
	}
	switch {
	case len(segs) > 1:
		return Target{}, errURL
	case len(segs) == 1:
		if t.Topology == Cluster {
			return Target{}, errors.New("redisconn: a Redis Cluster has only database 0: remove the /db from the redis-cluster:// URL")
		}
		db, err := strconv.Atoi(segs[0])
		if err != nil || db < 0 || db > 1<<16 {
			return Target{}, errURL
		}
		t.DB = db
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return Target{}, errURL
		}
		for k, v := range q {
			if k != "sentinel_password" || t.Topology != Sentinel || len(v) != 1 {
				return Target{}, errors.New("redisconn: unknown redis URL parameter " + strconv.Quote(k) + " (only sentinel_password, with redis-sentinel://)")
			}
			t.SentinelPassword = v[0]
		}
	}
	return t, nil
}

// Open returns a client for a Redis URL (see Parse) whose dials, reads,
// writes and pool waits are bounded by timeout (DefaultTimeout when zero):
// a *redis.Client for one server or a Sentinel master, a
// *redis.ClusterClient for a cluster. The caller owns the client and closes
// it.
func Open(raw string, timeout time.Duration) (redis.UniversalClient, error) {
	t, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dial := max(timeout, 250*time.Millisecond)
	var tlsCfg *tls.Config
	if t.TLS {
		host, _, _ := net.SplitHostPort(t.Addrs[0])
		tlsCfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	// A retry doubles the time a request waits on a store that is down;
	// the caller's failure policy is the retry. (-1 means none.)
	switch t.Topology {
	case Sentinel:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: t.Master, SentinelAddrs: t.Addrs, SentinelPassword: t.SentinelPassword,
			Username: t.Username, Password: t.Password, DB: t.DB, TLSConfig: tlsCfg,
			DialTimeout: dial, ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: timeout,
			ContextTimeoutEnabled: true, MaxRetries: -1, DisableIdentity: true,
		}), nil
	case Cluster:
		// A cluster client follows MOVED and ASK redirections (a slot
		// migrating, a failover) within the same call: those are not
		// retries of a failed call, so they stay on.
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: t.Addrs, Username: t.Username, Password: t.Password, TLSConfig: tlsCfg,
			DialTimeout: dial, ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: timeout,
			ContextTimeoutEnabled: true, MaxRetries: -1, MaxRedirects: 3, DisableIdentity: true,
		}), nil
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, errURL
	}
	opt.DialTimeout = dial
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	opt.DisableIdentity = true
	return redis.NewClient(opt), nil
}
