package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
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
	var addrs []string
	for _, r := range startCluster(t, 0) {
		addrs = append(addrs, r.Addr)
	}
	return addrs
}

// Cluster is a Redis Cluster of three masters, each with a replica in sync.
type Cluster struct {
	// Masters are the masters' addresses: what a client is given.
	Masters  []string
	replicas map[string]*Redis // by their master's address
	t        testing.TB
}

// StartReplicatedCluster starts a Cluster and waits until every master
// has its replica attached and in sync.
func StartReplicatedCluster(t testing.TB) *Cluster {
	t.Helper()
	nodes := startCluster(t, 1)
	c := &Cluster{replicas: map[string]*Redis{}, t: t}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for {
			cl := redis.NewClient(&redis.Options{Addr: n.Addr})
			info, err := cl.InfoMap(context.Background(), "replication").Result()
			cl.Close()
			repl := info["Replication"]
			if err == nil && repl["role"] == "master" && strings.Contains(repl["slave0"], "state=online") {
				c.Masters = append(c.Masters, n.Addr)
				break
			}
			if err == nil && repl["role"] == "slave" && repl["master_link_status"] == "up" {
				c.replicas[fmt.Sprintf("%s:%s", repl["master_host"], repl["master_port"])] = n
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the cluster node at %s has no replica in sync, or is no replica in sync, after 30 s: %v %v", n.Addr, repl, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(c.Masters) != 3 || len(c.replicas) != 3 {
		t.Fatalf("the cluster's masters %v, replicas of %v", c.Masters, c.replicas)
	}
	return c
}

// ReplicaOf is the replica of the master at addr.
func (c *Cluster) ReplicaOf(addr string) *Redis {
	c.t.Helper()
	r := c.replicas[addr]
	if r == nil {
		c.t.Fatalf("no replica of %s", addr)
	}
	return r
}

// startCluster starts three masters with replicas replicas each, and
// returns the nodes once every node reports the cluster ok.
func startCluster(t testing.TB, replicas int) []*Redis {
	t.Helper()
	cli := need(t, "redis-cli")
	var (
		nodes []*Redis
		addrs []string
	)
	for range 3 * (1 + replicas) {
		r := newRedis(t, freePort(t, 10000), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
		r.Restart()
		nodes, addrs = append(nodes, r), append(addrs, r.Addr)
	}
	out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", fmt.Sprint(replicas), "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	known := fmt.Sprintf("cluster_known_nodes:%d", len(addrs))
	for _, addr := range addrs {
		for {
			c := redis.NewClient(&redis.Options{Addr: addr})
			info, err := c.ClusterInfo(context.Background()).Result()
			c.Close()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, known) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the cluster at %s is not ok after 30 s:\n%s", addr, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nodes
}

// MoveSlot moves slot, with its keys, to the master at to, as a reshard
// does (redis-cli --cluster reshard: IMPORTING, MIGRATING, MIGRATE, then
// every master told the slot's new owner), and returns once every node,
// the replicas too, names that owner: a client's slot map read before is
// then stale, and the old owner answers MOVED.
func (c *Cluster) MoveSlot(slot int, to string) {
	c.t.Helper()
	m := c.Migrate(slot, to)
	m.MoveAll()
	m.Finish()
}

// Migration is a slot on its way from one master to another: the old one
// MIGRATING (a key it no longer holds is answered ASK, the new one's
// address), the new one IMPORTING (it serves such a key after ASKING).
type Migration struct {
	c        *Cluster
	slot     int
	From, To string
	clients  map[string]*redis.Client
	ids      map[string]string
}

// Migrate begins moving slot to the master at to, and leaves it midway,
// none of its keys moved: the test moves them (Move, MoveAll) and ends the
// move (Finish), or leaves it (the cluster is stopped with the test).
func (c *Cluster) Migrate(slot int, to string) *Migration {
	c.t.Helper()
	ctx := context.Background()
	m := &Migration{c: c, slot: slot, To: to, clients: map[string]*redis.Client{}, ids: map[string]string{}}
	for _, addr := range c.Masters {
		cl := redis.NewClient(&redis.Options{Addr: addr})
		c.t.Cleanup(func() { cl.Close() })
		id, err := cl.ClusterMyID(ctx).Result()
		if err != nil {
			c.t.Fatal(err)
		}
		m.clients[addr], m.ids[addr] = cl, id
	}
	m.From = c.ownerOf(slot, c.Masters[0])
	if m.From == to {
		c.t.Fatalf("slot %d is at %s already", slot, to)
	}
	m.must(m.clients[to].Do(ctx, "cluster", "setslot", slot, "importing", m.ids[m.From]))
	m.must(m.clients[m.From].Do(ctx, "cluster", "setslot", slot, "migrating", m.ids[to]))
	return m
}

func (m *Migration) must(cmd *redis.Cmd) {
	m.c.t.Helper()
	if err := cmd.Err(); err != nil {
		m.c.t.Fatalf("%v: %v", cmd.Args(), err)
	}
}

// Move moves keys (whole keys, as the server names them) to the new master.
func (m *Migration) Move(keys ...string) {
	m.c.t.Helper()
	host, port, _ := net.SplitHostPort(m.To)
	args := []any{"migrate", host, port, "", 0, 5000, "keys"}
	for _, k := range keys {
		args = append(args, k)
	}
	m.must(m.clients[m.From].Do(context.Background(), args...))
}

// MoveAll moves every key of the slot the old master still holds.
func (m *Migration) MoveAll() {
	m.c.t.Helper()
	for {
		keys, err := m.clients[m.From].ClusterGetKeysInSlot(context.Background(), m.slot, 100).Result()
		if err != nil {
			m.c.t.Fatal(err)
		}
		if len(keys) == 0 {
			return
		}
		m.Move(keys...)
	}
}

// Finish tells every master the slot's new owner, and returns once every
// node, the replicas too, names it.
func (m *Migration) Finish() {
	c := m.c
	c.t.Helper()
	for _, cl := range m.clients {
		m.must(cl.Do(context.Background(), "cluster", "setslot", m.slot, "node", m.ids[m.To]))
	}
	nodes := slices.Clone(c.Masters)
	for _, r := range c.replicas {
		nodes = append(nodes, r.Addr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for c.ownerOf(m.slot, n) != m.To {
			if time.Now().After(deadline) {
				c.t.Fatalf("the node at %s does not name %s the owner of slot %d after 30 s", n, m.To, m.slot)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// ownerOf is the master of slot as the node at addr says.
func (c *Cluster) ownerOf(slot int, addr string) string {
	c.t.Helper()
	cl := redis.NewClient(&redis.Options{Addr: addr})
	defer cl.Close()
	slots, err := cl.ClusterSlots(context.Background()).Result()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, s := range slots {
		if s.Start <= slot && slot <= s.End && len(s.Nodes) > 0 {
			return s.Nodes[0].Addr
		}
	}
	return ""
}
