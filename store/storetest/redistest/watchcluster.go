package redistest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// WatchedCluster puts a Watch in front of each node of a Cluster (nodes:
// StartCluster's) and has each node name its Watch's port to clients
// (cluster-announce-port), so that a client given any node reaches every
// slot through the Watches alone. It returns them in the nodes' order
// once every node's slot map names only Watches.
func WatchedCluster(t testing.TB, nodes []string) []*Watch {
	t.Helper()
	ws := make([]*Watch, len(nodes))
	var ports []int
	for i, n := range nodes {
		ws[i] = Watched(t, n)
		_, port, _ := net.SplitHostPort(ws[i].Addr)
		p, _ := strconv.Atoi(port)
		ports = append(ports, p)
		c := redis.NewClient(&redis.Options{Addr: n})
		err := c.ConfigSet(context.Background(), "cluster-announce-port", port).Err()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	// The nodes learn each other's port by gossip: waited for, as a
	// state (30 s at most), not a time.
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for {
			c := redis.NewClient(&redis.Options{Addr: n})
			slots, err := c.ClusterSlots(context.Background()).Result()
			c.Close()
			watched := err == nil && len(slots) > 0
			for _, s := range slots {
				for _, node := range s.Nodes {
					_, port, _ := net.SplitHostPort(node.Addr)
					p, _ := strconv.Atoi(port)
					watched = watched && slices.Contains(ports, p)
				}
			}
			if watched {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the cluster node at %s names nodes not watched after 30 s: %v %v", n, slots, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return ws
}

// SentinelOf starts one sentinel that knows the server at addr (a Watch
// in front of one) as MasterName's master, and never calls it down on
// its own, and returns its address once it has seen that master answer.
func SentinelOf(t testing.TB, addr string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	r := newRedis(t, freePort(t, 0))
	r.sentinel = fmt.Sprintf("sentinel monitor %s %s %s 1\n"+
		"sentinel down-after-milliseconds %[1]s 3600000\n", MasterName, host, port)
	r.Restart()
	s := &Sentinel{Sentinels: []string{r.Addr}, t: t}
	s.waitFor(30*time.Second, "the sentinel to see its master", func(info map[string]string) bool {
		return info["flags"] == "master" && info["role-reported"] == "master"
	})
	return r.Addr
}
