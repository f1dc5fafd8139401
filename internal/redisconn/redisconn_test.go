package redisconn_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/redisconn"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		ok        bool
	}{
		{"plain", "redis://127.0.0.1:6379/0", true},
		{"tls with password", "rediss://user:pw@redis.example:6380/2", true},
		{"default port", "redis://localhost", true},
		{"sentinel", "redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster", true},
		{"cluster", "redis-cluster://10.0.0.1:7000,10.0.0.2:7001", true},
		{"empty", "", false},
		{"wrong scheme keeps the password out", "http://user:hunter2@host", false},
		{"sentinel without a master keeps the password out", "redis-sentinel://u:hunter2@h:26379", false},
		{"cluster bad port keeps the password out", "redis-cluster://u:hunter2@h:70000", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := redisconn.Open(tc.url, 50*time.Millisecond)
			if (err == nil) != tc.ok {
				t.Fatalf("got error %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if strings.Contains(err.Error(), "hunter2") || !strings.HasPrefix(err.Error(), "redisconn: ") {
					t.Errorf("got %q", err)
				}
				return
			}
			defer c.Close()
			switch cl := c.(type) {
			case *redis.Client:
				o := cl.Options()
				if o.ReadTimeout != 50*time.Millisecond || o.MaxRetries > 0 || o.DialTimeout < o.ReadTimeout || !o.ContextTimeoutEnabled {
					t.Errorf("got read timeout %v, retries %d, dial timeout %v", o.ReadTimeout, o.MaxRetries, o.DialTimeout)
				}
			case *redis.ClusterClient:
				o := cl.Options()
				if o.ReadTimeout != 50*time.Millisecond || o.MaxRetries > 0 || o.DialTimeout < o.ReadTimeout || !o.ContextTimeoutEnabled {
					t.Errorf("got read timeout %v, retries %d, dial timeout %v", o.ReadTimeout, o.MaxRetries, o.DialTimeout)
				}
			default:
				t.Fatalf("got client %T", c)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want redisconn.Target
		err  string
	}{
		{url: "redis://u:p@h:1/3", want: redisconn.Target{Topology: redisconn.Single, Addrs: []string{"h:1"}, DB: 3, Username: "u", Password: "p"}},
		{url: "rediss://h:6380", want: redisconn.Target{Topology: redisconn.Single, Addrs: []string{"h:6380"}, TLS: true}},
		{url: "redis-sentinel://:p%40ss@a:26379,b:26380/main/1?sentinel_password=sp",
			want: redisconn.Target{Topology: redisconn.Sentinel, Addrs: []string{"a:26379", "b:26380"}, Master: "main", DB: 1, Password: "p@ss", SentinelPassword: "sp"}},
		{url: "rediss-cluster://[::1]:7000,[::1]:7001",
			want: redisconn.Target{Topology: redisconn.Cluster, Addrs: []string{"[::1]:7000", "[::1]:7001"}, TLS: true}},
		{url: "redis-cluster://a:7000/2", err: "only database 0"},
		{url: "redis-sentinel://a:26379", err: "names the master"},
		{url: "redis-sentinel://a:26379/m?foo=1", err: `unknown redis URL parameter "foo"`},
		{url: "redis-cluster://a:7000?sentinel_password=x", err: "unknown redis URL parameter"},
		{url: "redis-cluster://a:7000,:7001", err: "invalid redis URL"},
		{url: "redis-cluster://a", err: "invalid redis URL"},
		{url: "redis-sentinel://a:26379/m/x", err: "invalid redis URL"},
		{url: "redis-sentinel://a:26379/m/1/2", err: "invalid redis URL"},
		{url: "memcached://a:1", err: "invalid redis URL"},
		{url: "a:1", err: "invalid redis URL"},
	}
	for _, tc := range tests {
		got, err := redisconn.Parse(tc.url)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want error containing %q", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got.Topology != tc.want.Topology || !slices.Equal(got.Addrs, tc.want.Addrs) || got.Master != tc.want.Master ||
			got.DB != tc.want.DB || got.Username != tc.want.Username || got.Password != tc.want.Password ||
			got.SentinelPassword != tc.want.SentinelPassword || got.TLS != tc.want.TLS {
			t.Errorf("%s: got %+v, want %+v", tc.url, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"redis://u:p@h:1/3", "redis-sentinel://a:1,b:2/m/1?sentinel_password=x", "redis-cluster://a:1,b:2", "rediss-cluster://[::1]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tgt, err := redisconn.Parse(s)
		if err != nil {
			return
		}
		if len(tgt.Addrs) == 0 {
			t.Fatalf("%q: parsed with no address", s)
		}
		if tgt.Topology == redisconn.Sentinel && tgt.Master == "" {
			t.Fatalf("%q: sentinel with no master", s)
		}
	})
}
