package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A write the user is told about (Lasting) is on the master when Redis
// answers, and on its replicas a moment later: a master that dies in that
// moment (a Sentinel failover) takes the write with it, and the promoted
// replica never had it — a logout, a removed phone, a reset undone though
// the user was told it was done. So on a server with replicas, a lasting
// write waits (WAIT) until one of them has it, which the failover then
// promotes (Sentinel picks the replica with the most data), and a replica
// that does not answer within ReplicaWait makes the write an error: the
// user is told to try again, not that it was done. A server without
// replicas, one that refuses INFO (so cannot be counted) or WAIT, or a Cluster
// (whose nodes' WAIT would need a write to each key's own slot), answers
// as before.

// ReplicaWait is the longest a lasting write waits for a replica.
const ReplicaWait = 2 * time.Second

// replicaCheck is how often the master's count of replicas is read again
// (INFO replication): a replica attached or lost, a failover, is followed
// within it.
const replicaCheck = time.Second

// onlineReplica is a replica in INFO replication that is in sync (not one
// still loading the master's snapshot, which WAIT would wait for in vain).
var onlineReplica = regexp.MustCompile(`(?m)^slave\d+:.*state=online`)

// replicaCount is the master's replicas in sync, as last read.
type replicaCount struct {
	mu sync.Mutex
	n  int64
	at time.Time
}

// lasting waits, after a successful write made with a Lasting ctx, until
// a replica of the master has it (see above); err is the write's.
func (r *Redis) lasting(ctx context.Context, err error) error {
	if err != nil || !IsLasting(ctx) {
		return err
	}
	if _, cluster := r.client.(*redis.ClusterClient); cluster {
		return nil
	}
	n, err := r.replicas(ctx)
	if err != nil || n == 0 {
		return err
	}
	// WAIT counts the writes of its own connection: a write of its own
	// after ours, in one pipeline (one connection), is acknowledged by a
	// replica only once everything before it in the replication stream is.
	var set *redis.StatusCmd
	var wait *redis.Cmd
	_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.Set(ctx, r.key("lasting"), "1", time.Minute)
		wait = p.Do(ctx, "WAIT", 1, ReplicaWait.Milliseconds())
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
		return fmt.Errorf("redis store: no replica acknowledged a write within %s (of %d in sync): it may be lost in a failover", ReplicaWait, n)
	}
	return nil
}

// replicas is how many replicas the master has in sync, read at most
// every replicaCheck.
func (r *Redis) replicas(ctx context.Context) (int64, error) {
	if r.replicaCount == nil {
		return 0, nil // not provisioned through Provision
	}
	r.replicaCount.mu.Lock()
	defer r.replicaCount.mu.Unlock()
	if time.Since(r.replicaCount.at) < replicaCheck {
		return r.replicaCount.n, nil
	}
	info, err := r.client.Info(ctx, "replication").Result()
	var refused redis.Error
	if err != nil && !errors.As(err, &refused) {
		return 0, err
	}
	// A server that refuses INFO (a managed Redis; the warning at start
	// says so) cannot be counted: its writes do not wait, as before WAIT.
	n := int64(len(onlineReplica.FindAllString(info, -1)))
	r.replicaCount.n, r.replicaCount.at = n, time.Now()
	return n, nil
}
