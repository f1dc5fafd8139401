package testutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCluster is a real Redis Cluster of masters on loopback, started for
// one test.
type RedisCluster struct {
	Nodes []*Redis
}

// StartRedisCluster starts n (at least 3) redis-server nodes with cluster
// mode on, joins them with `redis-cli --cluster create`, and waits until
// every node reports the cluster healthy.
func StartRedisCluster(t testing.TB, n int) *RedisCluster {
	t.Helper()
	cli := RequireBinary(t, "redis-cli", "/usr/bin", "/usr/local/bin")
	rc := &RedisCluster{}
	for range n {
		rc.Nodes = append(rc.Nodes, startRedis(t, "--cluster-enabled", "yes",
			"--cluster-config-file", "{dir}/nodes.conf", "--cluster-node-timeout", "2000"))
	}
	args := []string{"--cluster", "create"}
	for _, nd := range rc.Nodes {
		args = append(args, nd.Addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ok := WaitFor(20*time.Second, func() bool {
		for _, nd := range rc.Nodes {
			c := redis.NewClient(&redis.Options{Addr: nd.Addr})
			info, err := c.ClusterInfo(context.Background()).Result()
			_ = c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("the Redis Cluster did not become healthy:\n%s", out)
	}
	return rc
}

// URL returns the cluster's redis-cluster:// URL with every node as a seed.
func (rc *RedisCluster) URL() string {
	addrs := make([]string, len(rc.Nodes))
	for i, nd := range rc.Nodes {
		addrs[i] = nd.Addr
	}
	return "redis-cluster://" + strings.Join(addrs, ",")
}

// RedisSentinel is a master, one replica and one sentinel watching them,
// on loopback, started for one test.
type RedisSentinel struct {
	Master, Replica, Sentinel *Redis
	// Name is the master's name at the sentinel.
	Name string
}

// StartRedisSentinel starts a master, a replica of it and a sentinel that
// fails over after one second without an answer (quorum 1).
func StartRedisSentinel(t testing.TB) *RedisSentinel {
	t.Helper()
	rs := &RedisSentinel{Name: "rampart-test"}
	rs.Master = startRedis(t)
	host, port, _ := strings.Cut(rs.Master.Addr, ":")
	rs.Replica = startRedis(t, "--replicaof", host, port)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	src := fmt.Sprintf(`bind 127.0.0.1
port {port}
dir %s
daemonize no
protected-mode no
loglevel warning
sentinel monitor %s %s %s 1
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 5000
`, dir, rs.Name, host, port, rs.Name, rs.Name)
	// The sentinel rewrites its file: it must be its own and writable.
	if err := os.WriteFile(conf, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	// "{port}" in the file is replaced when the port is known.
	rs.Sentinel = startSentinel(t, conf)
	ok := WaitFor(20*time.Second, func() bool {
		c := redis.NewSentinelClient(&redis.Options{Addr: rs.Sentinel.Addr})
		defer c.Close()
		replicas, err := c.Replicas(context.Background(), rs.Name).Result()
		return err == nil && len(replicas) == 1
	})
	if !ok {
		t.Fatalf("the sentinel did not see the master and its replica:\n%s", rs.Sentinel.Logs())
	}
	return rs
}

// startSentinel starts redis-server in sentinel mode with the file conf,
// in which "{port}" is replaced by the chosen port.
func startSentinel(t testing.TB, conf string) *Redis {
	t.Helper()
	tmpl, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	bin := RequireBinary(t, "redis-server", "/usr/bin", "/usr/local/bin")
	r := &Redis{t: t, bin: bin, dir: filepath.Dir(conf), logs: &Buffer{}, extra: []string{conf, "--sentinel"}}
	for range 3 {
		r.Addr = FreeAddr(t)
		_, port, _ := strings.Cut(r.Addr, ":")
		if err = os.WriteFile(conf, []byte(strings.ReplaceAll(string(tmpl), "{port}", port)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err = r.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// URL returns the redis-sentinel:// URL of the master, database 0.
func (rs *RedisSentinel) URL() string {
	return "redis-sentinel://" + rs.Sentinel.Addr + "/" + rs.Name + "/0"
}

// Failover asks the sentinel to promote the replica now, and waits until
// the sentinel names it as the master.
func (rs *RedisSentinel) Failover(t testing.TB) {
	t.Helper()
	c := redis.NewSentinelClient(&redis.Options{Addr: rs.Sentinel.Addr})
	defer c.Close()
	ctx := context.Background()
	if err := c.Failover(ctx, rs.Name).Err(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	ok := WaitFor(20*time.Second, func() bool {
		addr, err := c.GetMasterAddrByName(ctx, rs.Name).Result()
		return err == nil && len(addr) == 2 && addr[0]+":"+addr[1] == rs.Replica.Addr
	})
	if !ok {
		t.Fatalf("the replica was not promoted:\n%s", rs.Sentinel.Logs())
	}
}

// WaitReplicated waits until the replica has everything the master wrote.
func (rs *RedisSentinel) WaitReplicated(t testing.TB) {
	t.Helper()
	c := rs.Master.Client(t)
	// WAIT 1 replica, up to 5 s.
	n, err := c.Wait(context.Background(), 1, 5*time.Second).Result()
	if err != nil || n < 1 {
		t.Fatalf("the replica did not acknowledge the master's writes (%d, %v)", n, err)
	}
}
