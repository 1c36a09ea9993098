package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the sentinels know the master by.
const MasterName = "smsgate"

// Sentinel is a Sentinel setup on loopback: one master, one replica and
// three sentinels (quorum 2), all redis-server processes. A sentinel calls
// a server down after 1 s without an answer (StartSentinel), or never on
// its own (StartSentinelToldOnly).
type Sentinel struct {
	// Sentinels are the sentinels' addresses: what a client is given.
	Sentinels []string
	nodes     map[string]*Redis // master and replica, by address
	t         testing.TB
}

// StartSentinel starts the setup and waits until every sentinel knows the
// replica and the other sentinels, so that a failover can be agreed on.
// Each sentinel's config names the replica and the other sentinels (their
// IDs fixed), as a sentinel's own rewritten config would: without them, a
// sentinel learns of the others only from their hello messages, sent every
// 2 s, and each test waited seconds for it.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	return startSentinel(t, time.Second)
}

// StartSentinelToldOnly is StartSentinel with sentinels that never call a
// server down on their own (down-after-milliseconds an hour): a failover
// happens only when the test asks for one (KillMasterAndFailOver, SENTINEL
// FAILOVER), never because a starved machine left a ping unanswered for a
// second (a master failed over mid-test, what it took before lost with
// it), nor a server the test paused called down. For a test of what
// survives a failover, or of a setup that must not fail over.
func StartSentinelToldOnly(t testing.TB) *Sentinel {
	t.Helper()
	return startSentinel(t, time.Hour)
}

// startSentinel starts the setup, its sentinels calling a server down
// after downAfter without an answer.
func startSentinel(t testing.TB, downAfter time.Duration) *Sentinel {
	t.Helper()
	master := newRedis(t, freePort(t, 0))
	master.Restart()
	replica := newRedis(t, freePort(t, 0), "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	replica.Restart()
	s := &Sentinel{nodes: map[string]*Redis{master.Addr: master, replica.Addr: replica}, t: t}
	sentinels := make([]*Redis, 3)
	for i := range sentinels {
		sentinels[i] = newRedis(t, freePort(t, 0))
	}
	id := func(r *Redis) string { return fmt.Sprintf("%040x", r.port) }
	for _, r := range sentinels {
		conf := fmt.Sprintf("sentinel myid %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %[2]s %[5]d\n"+
			"sentinel failover-timeout %[2]s 10000\n"+
			"sentinel parallel-syncs %[2]s 1\n"+
			"sentinel known-replica %[2]s 127.0.0.1 %[4]d\n", id(r), MasterName, master.port, replica.port, downAfter.Milliseconds())
		for _, other := range sentinels {
			if other != r {
				conf += fmt.Sprintf("sentinel known-sentinel %s 127.0.0.1 %d %s\n", MasterName, other.port, id(other))
			}
		}
		r.sentinel = conf
		r.Restart()
		s.Sentinels = append(s.Sentinels, r.Addr)
	}
	s.waitFor(30*time.Second, "the sentinels to know each other and the replica", func(info map[string]string) bool {
		return info["num-other-sentinels"] == "2" && info["num-slaves"] == "1" && info["flags"] == "master"
	})
	s.online(master.Addr)
	return s
}

// online waits until the master at addr has its replica online (its
// first copy made, 30 s at most): a gate that counts the master's
// replicas before then counts none, and its lasting writes wait for none
// (a starved machine takes seconds to make the copy).
func (s *Sentinel) online(addr string) {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		info, err := c.Info(context.Background(), "replication").Result()
		if err == nil && strings.Contains(info, ",state=online,") {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the replica of %s is not online: %q %v", addr, info, err)
		}
	}
}

// Master asks a sentinel for the current master's address.
func (s *Sentinel) Master() string {
	s.t.Helper()
	for _, addr := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: addr})
		m, err := c.GetMasterAddrByName(context.Background(), MasterName).Result()
		c.Close()
		if err == nil && len(m) == 2 {
			return net.JoinHostPort(m[0], m[1])
		}
	}
	s.t.Fatal("no sentinel names a master")
	return ""
}

// KillMaster kills the current master (SIGKILL: no goodbye to anyone) and
// returns its address.
func (s *Sentinel) KillMaster() string {
	s.t.Helper()
	addr := s.Master()
	s.nodes[addr].Stop()
	return addr
}

// KillMasterAndFailOver kills the current master, as KillMaster does, and
// has a sentinel promote the replica at once (SENTINEL FAILOVER) instead
// of waiting for the sentinels to find the master down and agree on a
// failover; the new master holds what the replica had, as after any
// crash. It returns the old master's address once the sentinels name the
// new one. For a test of what survives a failover, not of how the
// sentinels find one is needed.
func (s *Sentinel) KillMasterAndFailOver() string {
	s.t.Helper()
	old := s.KillMaster()
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0]})
	defer c.Close()
	// NOGOODSLAVE: the sentinel does not see the replica fit yet (a
	// replica the test paused is down to it until its next ping, a second
	// at most); INPROG: the sentinels found the master down first and are
	// failing over already.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := c.Failover(context.Background(), MasterName).Err()
		if err == nil || strings.Contains(err.Error(), "INPROG") {
			break
		}
		if !strings.Contains(err.Error(), "NOGOODSLAVE") || time.Now().After(deadline) {
			s.t.Fatalf("SENTINEL FAILOVER: %v", err)
		}
	}
	s.WaitFailover(old, 30*time.Second)
	return old
}

// WaitFailover waits until the sentinels name a master other than old.
func (s *Sentinel) WaitFailover(old string, within time.Duration) {
	s.t.Helper()
	s.waitFor(within, "a new master", func(map[string]string) bool { return s.Master() != old })
}

// waitFor polls every sentinel's view of the master until ok holds for all.
func (s *Sentinel) waitFor(within time.Duration, what string, ok func(map[string]string) bool) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		all := true
		for _, addr := range s.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: addr})
			info, err := c.Master(context.Background(), MasterName).Result()
			c.Close()
			if err != nil || !ok(info) {
				all = false
				break
			}
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited %s for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Replicated waits until the replica has every write the master took so
// far (WAIT), so that a test killing the master knows what survives. A
// replica still making its first copy of the master (a starved machine
// takes seconds) acknowledges nothing yet: it is waited for, 30 s at most.
func (s *Sentinel) Replicated() {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Master()})
	defer c.Close()
	for deadline := time.Now().Add(30 * time.Second); ; {
		n, err := c.Wait(context.Background(), 1, time.Second).Result()
		if err == nil && n >= 1 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the replica did not catch up: %d, %v", n, err)
		}
	}
}

// Replica is the server that is not the current master.
func (s *Sentinel) Replica() *Redis {
	s.t.Helper()
	master := s.Master()
	for addr, r := range s.nodes {
		if addr != master {
			return r
		}
	}
	s.t.Fatal("no replica")
	return nil
}
