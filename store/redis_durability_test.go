package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestRedisDurabilityWarnings: a Redis that keeps nothing on disk is
// named in a warning at start — also where CONFIG is refused (INFO tells
// AOF); one set up to keep everything is not.
func TestRedisDurabilityWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want []string // a warning containing each; none if empty
	}{
		{"kept", []string{"--appendonly", "yes"}, nil},
		{"snapshots", []string{"--save", "900 1"}, nil},
		{"nothing on disk", nil, []string{"keeps nothing on disk"}},
		{"config refused", []string{"--rename-command", "CONFIG", ""}, []string{"whether it takes RDB snapshots cannot be read"}},
		{"config refused, aof", []string{"--rename-command", "CONFIG", "", "--appendonly", "yes"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.StartWith(t, tc.args...)
			r := &Redis{Addresses: []string{srv.Addr}}
			if _, closeStore, err := OpenRedis(r); err != nil {
				t.Fatal(err)
			} else {
				defer closeStore()
			}
			got, err := r.durability(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q; want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q; want %q in it", got[i], w)
				}
			}
		})
	}
}

// TestRedisClusterDurability: every master of a cluster is asked.
func TestRedisClusterDurability(t *testing.T) {
	t.Parallel()
	nodes := redistest.StartCluster(t)
	r := &Redis{Addresses: nodes}
	_, closeStore, err := OpenRedis(r)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	got, err := r.durability(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("a cluster of three masters without persistence: %q", got)
	}
	for _, w := range got {
		if !strings.Contains(w, "keeps nothing on disk") || !strings.Contains(w, "Redis node 127.0.0.1:") {
			t.Fatalf("a cluster node's warning: %q", w)
		}
	}
}

// TestAnEvictingRedisIsRefused: a Redis whose maxmemory-policy evicts keys
// when its memory is full — allkeys-*, or volatile-*, since a session's
// revocation record carries a TTL — could drop a revocation before another
// instance read it, and let the signed-out session in again there. It is
// refused at start, with the setting to change, also where CONFIG is
// refused (INFO tells the policy), and on a cluster when one master
// evicts. Before, it was a warning in the log, and the store opened.
func TestAnEvictingRedisIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, policy string }{
		{"allkeys", "allkeys-lru"},
		{"volatile", "volatile-lru"},
		{"config refused", "allkeys-random"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"--appendonly", "yes", "--maxmemory", "100mb", "--maxmemory-policy", tc.policy}
			if tc.name == "config refused" {
				args = append(args, "--rename-command", "CONFIG", "")
			}
			srv := redistest.StartWith(t, args...)
			refused(t, &Redis{Addresses: []string{srv.Addr}}, "Redis evicts keys", tc.policy)
		})
	}
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		nodes := redistest.StartCluster(t)
		c := redis.NewClient(&redis.Options{Addr: nodes[1]})
		defer c.Close()
		if err := c.ConfigSet(context.Background(), "maxmemory-policy", "volatile-ttl").Err(); err != nil {
			t.Fatal(err)
		}
		refused(t, &Redis{Addresses: nodes}, "Redis node "+nodes[1]+" evicts keys", "volatile-ttl")
	})
}

// refused checks that r does not open, and that its error says why and
// what to set.
func refused(t *testing.T, r *Redis, why, policy string) {
	t.Helper()
	_, closeStore, err := OpenRedis(r)
	if err == nil {
		closeStore()
		t.Fatalf("a Redis with maxmemory-policy %s opened", policy)
	}
	for _, want := range []string{why, "(maxmemory-policy " + policy + ")", "revoked session", "set maxmemory-policy noeviction"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
}

// TestAnEvictingRedis6WithoutConfigIsRefused: where CONFIG is refused (a
// managed service), the policy is read from INFO, and a Redis before 7
// takes at most one section by name (more is a syntax error). Asked two,
// its answer was an error, the policy unread, and an evicting server
// opened with a warning. A fake Redis 6 here: no HELLO, no CONFIG, INFO
// of one section or none.
func TestAnEvictingRedis6WithoutConfigIsRefused(t *testing.T) {
	t.Parallel()
	addr := fakeRedis6(t, "# Memory\r\nmaxmemory_policy:volatile-lru\r\n# Persistence\r\naof_enabled:1\r\n# Stats\r\nevicted_keys:0\r\n")
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	_, err := nodeDurability(context.Background(), c, "Redis")
	if err == nil || !strings.Contains(err.Error(), "(maxmemory-policy volatile-lru)") {
		t.Fatalf("a Redis 6 that evicts, CONFIG refused: %v; want it refused", err)
	}
}

// fakeRedis6 answers RESP on loopback as a Redis 6 with CONFIG renamed
// away does: info is INFO's text.
func fakeRedis6(t *testing.T, info string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	t.Cleanup(func() { l.Close(); conns.Wait() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					args, err := readCommand(r)
					if err != nil {
						return
					}
					var reply string
					switch name := strings.ToLower(args[0]); {
					case name == "info" && len(args) > 2:
						reply = "-ERR syntax error\r\n"
					case name == "info":
						reply = fmt.Sprintf("$%d\r\n%s\r\n", len(info), info)
					case name == "ping":
						reply = "+PONG\r\n"
					default:
						reply = fmt.Sprintf("-ERR unknown command '%s'\r\n", args[0])
					}
					if _, err := io.WriteString(conn, reply); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// readCommand reads one RESP array of bulk strings.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("not a command: %q", line)
	}
	args := make([]string, n)
	for i := range args {
		head, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
		if err != nil {
			return nil, err
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:size])
	}
	return args, nil
}

// TestAnEvictingReplicaIsRefused: a replica keeps its maxmemory-policy for
// the day a failover promotes it, and then evicts as an evicting master
// does. The replicas the gate can see at start are asked as the masters
// are — those Sentinel lists for its master, each Cluster master's — and
// one set to evict is refused, named by its address. Before, only the
// masters were asked, and the watch (storewatch) saw such a replica only
// after a failover had made it the master.
func TestAnEvictingReplicaIsRefused(t *testing.T) {
	t.Parallel()
	evict := func(t *testing.T, addr string) {
		t.Helper()
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		if err := c.ConfigSet(context.Background(), "maxmemory-policy", "allkeys-lru").Err(); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("sentinel", func(t *testing.T) {
		t.Parallel()
		s := redistest.StartSentinel(t)
		replica := s.Replica().Addr
		evict(t, replica)
		refused(t, &Redis{Addresses: s.Sentinels, MasterName: redistest.MasterName}, "Redis replica "+replica+" evicts keys", "allkeys-lru")
		// A replica the Sentinels call down is not asked (a host gone would
		// cost the start its wait): a warning says so.
		s.Replica().Stop()
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0]})
		defer sc.Close()
		for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
			if rs, err := sc.Replicas(context.Background(), redistest.MasterName).Result(); err == nil && len(rs) == 1 && strings.Contains(rs[0]["flags"], "s_down") {
				break
			}
			if time.Since(start) > 30*time.Second {
				t.Fatal("the sentinel does not call the stopped replica down")
			}
		}
		r := &Redis{Addresses: s.Sentinels[:1], MasterName: redistest.MasterName}
		_, closeStore, err := OpenRedis(r)
		if err != nil {
			t.Fatalf("with the evicting replica down: %v", err)
		}
		defer closeStore()
		got, err := r.durability(context.Background())
		if err != nil || !slices.ContainsFunc(got, func(w string) bool { return strings.Contains(w, "Redis replica "+replica+" is down") }) {
			t.Fatalf("with the evicting replica down: %q %v; want a warning that it is down", got, err)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		c := redistest.StartReplicatedCluster(t)
		replica := c.ReplicaOf(c.Masters[2]).Addr
		evict(t, replica)
		refused(t, &Redis{Addresses: c.Masters}, "Redis replica "+replica+" evicts keys", "allkeys-lru")
	})
}
