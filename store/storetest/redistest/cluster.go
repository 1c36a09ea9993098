package redistest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartCluster starts a Redis Cluster of three masters on loopback (no
// replicas), its slots split by redis-cli --cluster create, and returns
// the nodes' addresses once every node reports the cluster ok.
func StartCluster(t testing.TB) []string {
	t.Helper()
	cli := need(t, "redis-cli")
	var addrs []string
	for range 3 {
		r := newRedis(t, freePort(t, 10000), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
		r.Restart()
		addrs = append(addrs, r.Addr)
	}
	out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range addrs {
		for {
			c := redis.NewClient(&redis.Options{Addr: addr})
			info, err := c.ClusterInfo(context.Background()).Result()
			c.Close()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the cluster at %s is not ok after 30 s:\n%s", addr, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return addrs
}
