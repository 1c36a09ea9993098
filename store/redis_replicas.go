package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/clock"
)

// A write the user is told about (Lasting) is on the master when Redis
// answers, and on its replicas a moment later: a master that dies in that
// moment (a Sentinel failover, a Cluster's replica promoted) takes the
// write with it, and the promoted replica never had it — a logout, a
// removed phone, a reset undone though the user was told it was done. So
// on a master with replicas, a lasting write waits (WAIT) until one of
// them has it, which the failover then promotes (Sentinel and Cluster pick
// the replica with the most data), and a replica that does not answer
// within ReplicaWait makes the write an error: the user is told to try
// again, not that it was done. On a Cluster the wait goes to the master
// of the written key's slot (each of them, for a batch), by the slot map
// read again where it is older than a reshard (waitOnSlot). A master without
// replicas, or one that refuses INFO (so cannot be counted) or WAIT,
// answers as before.

// ReplicaWait is the longest a lasting write waits for a replica.
const ReplicaWait = 2 * time.Second

// replicaWait is ReplicaWait as a write reads it (clock.Shorten).
var replicaWait = clock.NewWait("replica-wait", ReplicaWait)

// replicaCheck is how often a master's count of replicas is read again
// (INFO replication): a replica attached or lost, a failover, is followed
// within it (plus the read).
const replicaCheck = time.Second

// replicaRead bounds a read of the count, which no request waits for once
// a count is known (see replicas).
const replicaRead = 5 * time.Second

// onlineReplica is a replica in INFO replication that is in sync (not one
// still loading the master's snapshot, which WAIT would wait for in vain).
var onlineReplica = regexp.MustCompile(`(?m)^slave\d+:.*state=online`)

// replicaCounts is each master's replicas in sync, as last read, by the
// master's address ("" for a single server or Sentinel's master).
type replicaCounts struct {
	mu    sync.Mutex
	nodes map[string]*replicaCount
	now   func() time.Time
}

type replicaCount struct {
	n     int64
	known bool
	at    time.Time
	err   error         // the last read's (a known count stays through it)
	read  chan struct{} // the read in flight, closed when it ends; nil: none
}

func newReplicaCounts() *replicaCounts {
	return &replicaCounts{nodes: map[string]*replicaCount{}, now: time.Now}
}

// lasting waits, after a successful write of keys made with a Lasting
// ctx, until a replica of each master that holds one of them has it (see
// above); err is the write's.
func (r *Redis) lasting(ctx context.Context, err error, keys ...string) error {
	if err != nil || !IsLasting(ctx) || len(keys) == 0 {
		return err
	}
	cluster, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return r.waitOn(ctx, r.client, "", r.key("lasting"), false)
	}
	// One wait per master, side by side: a batch's keys may be on several.
	markers := map[*redis.Client]string{}
	for _, k := range keys {
		node, err := cluster.MasterForKey(ctx, r.key(k))
		if err != nil {
			return err
		}
		if _, ok := markers[node]; !ok {
			markers[node] = r.markerFor(r.key(k))
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for node, marker := range markers {
		wg.Go(func() {
			if err := r.waitOnSlot(ctx, cluster, node, marker); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitOnSlot is waitOn at node, the master of marker's slot as the
// cluster's slot map says. A map older than a move of that slot (a
// reshard since it was read: go-redis reads it again only after a MOVED,
// in the background) sends the marker's write to the old master, which
// answers MOVED with the slot's master now, where the write went (go-redis
// follows MOVED): the map is read again, and the wait goes there, once.
// Before, the write was an error (a 503), for the client to try again.
// A slot midway through a move answers ASK instead: waitMigrating.
func (r *Redis) waitOnSlot(ctx context.Context, cluster *redis.ClusterClient, node *redis.Client, marker string) error {
	err := r.waitOn(ctx, node, node.Options().Addr, marker, false)
	if to, ask := redis.IsAskError(err); ask {
		return r.waitMigrating(ctx, cluster, node, to, marker, err)
	}
	to, moved := redis.IsMovedError(err)
	if !moved {
		return err
	}
	// ForEachMaster reads the slot map before it calls fn on each master.
	var mu sync.Mutex
	node = nil
	if err := cluster.ForEachMaster(ctx, func(_ context.Context, master *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		if master.Options().Addr == to {
			node = master
		}
		return nil
	}); err != nil {
		return err
	}
	if node == nil { // not a master the map names: the map's master of the slot
		if node, err = cluster.MasterForKey(ctx, marker); err != nil {
			return err
		}
	}
	return r.waitOn(ctx, node, node.Options().Addr, marker, false)
}

// waitMigrating is the wait for a write to marker's slot while the slot
// moves from node (MIGRATING: it answered the marker's write ASK, as it
// holds no such key) to the master at to (IMPORTING). go-redis followed
// ASK for the write itself, so its key is at either: the wait goes to
// both — at the new master after ASKING (which lets it serve the slot's
// key), at the old one with a marker of another slot it keeps. An old
// master keeping no other slot (its last one leaving) cannot be waited on
// so: asked (the marker's ASK) is the answer, as before (a 503: try again).
func (r *Redis) waitMigrating(ctx context.Context, cluster *redis.ClusterClient, node *redis.Client, to, marker string, asked error) error {
	slot, from := slotOf(marker), node.Options().Addr
	kept := ""
	for i := 0; i < 1000 && kept == ""; i++ {
		m := r.key("lasting{" + strconv.Itoa(i) + "}")
		if slotOf(m) == slot {
			continue
		}
		if n, err := cluster.MasterForKey(ctx, m); err != nil {
			return err
		} else if n.Options().Addr == from {
			kept = m
		}
	}
	if kept == "" {
		return asked
	}
	return errors.Join(r.waitOn(ctx, r.replicaClient(to), to, marker, true), r.waitOn(ctx, node, from, kept, false))
}

// waitOn waits until a replica of the master node (at addr) has what
// was written there before: a write of marker (a key on that master)
// then WAIT, on one connection; asking sends ASKING first (the marker's
// slot is being imported there).
func (r *Redis) waitOn(ctx context.Context, node redis.Cmdable, addr, marker string, asking bool) error {
	n, err := r.replicas(ctx, node, addr)
	if err != nil || n == 0 {
		return err
	}
	// WAIT counts the writes of its own connection: a write of its own
	// after ours, in one pipeline (one connection), is acknowledged by a
	// replica only once everything before it in the replication stream is.
	var set *redis.StatusCmd
	var wait *redis.Cmd
	_, err = node.Pipelined(ctx, func(p redis.Pipeliner) error {
		if asking {
			p.Do(ctx, "ASKING")
		}
		set = p.Set(ctx, marker, "1", time.Minute)
		wait = p.Do(ctx, "WAIT", 1, replicaWait.Get().Milliseconds())
		return nil
	})
	var refused redis.Error
	if err != nil && set.Err() == nil && errors.As(wait.Err(), &refused) {
		return nil // a server that refuses WAIT (renamed away): as one that refuses INFO, no wait
	}
	if err != nil {
		return err
	}
	if acked, _ := wait.Int64(); acked < 1 {
		// The count may be older than what happened since: a failover that
		// promoted the replica this master had, a replica taken away. One
		// with none now has nothing to wait for (as n == 0 above).
		if now, err := r.recount(ctx, node, addr); err == nil && now == 0 {
			return nil
		}
		where := "the master"
		if addr != "" {
			where = "the master at " + addr
		}
		return fmt.Errorf("redis store: no replica acknowledged a write within %s (%s has %d in sync, as last read): "+
			"it may be lost in a failover, so it was not reported done", replicaWait.Get(), where, n)
	}
	return nil
}

// replicas is how many replicas the master node (at addr) has in sync.
// The count is read again at most every replicaCheck, by one read at a
// time, and no lock is held while it is read: a request meanwhile takes
// the count last read where it is one or more, and waits for the read (or
// its ctx) where no count is known or the last was zero.
func (r *Redis) replicas(ctx context.Context, node redis.Cmdable, addr string) (int64, error) {
	return r.count(ctx, node, addr, false)
}

// recount reads the master's count of replicas now, and waits for it (or
// ctx): for a write no replica acknowledged.
func (r *Redis) recount(ctx context.Context, node redis.Cmdable, addr string) (int64, error) {
	return r.count(ctx, node, addr, true)
}

func (r *Redis) count(ctx context.Context, node redis.Cmdable, addr string, now bool) (int64, error) {
	rc := r.replicaCounts
	if rc == nil {
		return 0, nil // not provisioned through Provision
	}
	rc.mu.Lock()
	c := rc.nodes[addr]
	if c == nil {
		c = new(replicaCount)
		rc.nodes[addr] = c
	}
	stale := !c.known || rc.now().Sub(c.at) >= replicaCheck
	if c.read == nil && (now || stale) {
		c.read = make(chan struct{})
		go rc.read(node, c)
	}
	n, known, read := c.n, c.known, c.read
	rc.mu.Unlock()
	// A count read within replicaCheck is taken, and an older one of a
	// replica or more too (WAIT proves it, and a WAIT in vain counts again:
	// recount); an older zero is not, as it would skip the wait where a
	// replica attached since (the old master back as one, after a failover).
	if known && !now && (!stale || n > 0) {
		return n, nil
	}
	select {
	case <-read:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !c.known || (now && c.err != nil) {
		return 0, c.err
	}
	return c.n, nil // a read that failed leaves the count known (read again at the next write)
}

// read reads node's count of replicas into c, and ends c's read.
func (rc *replicaCounts) read(node redis.Cmdable, c *replicaCount) {
	ctx, cancel := context.WithTimeout(context.Background(), replicaRead)
	defer cancel()
	info, err := node.Info(ctx, "replication").Result()
	var refused redis.Error
	if errors.As(err, &refused) {
		// A server that refuses INFO (a managed Redis; the warning at start
		// says so) cannot be counted: its writes do not wait, as before WAIT.
		info, err = "", nil
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err == nil {
		c.n, c.known, c.at, c.err = int64(len(onlineReplica.FindAllString(info, -1))), true, rc.now(), nil
	} else {
		c.err = err // a count known stays, read again at the next write
	}
	close(c.read)
	c.read = nil
}
