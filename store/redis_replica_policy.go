package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The replicas a failover could promote keep their maxmemory-policy for
// the day they are the master (a replica ignores it until then): one set
// to evict is refused at start as an evicting master is (durability), and
// one set so since, or attached since, is in Evictions for the watch's
// alarm (storewatch).

// sentinelReplicas checks, with check, each replica the Sentinels list
// for the master (the first Sentinel that answers). One they call down is
// not asked (a host gone would cost the start its whole wait), but said
// in down; the error is that no Sentinel listed them.
func (r *Redis) sentinelReplicas(ctx context.Context, check func(context.Context, redis.Cmdable, string)) (down []string, err error) {
	var errs []error
	for _, addr := range r.opts.Addrs {
		s := redis.NewSentinelClient(&redis.Options{Addr: addr, Username: r.opts.SentinelUsername,
			Password: r.opts.SentinelPassword, TLSConfig: r.opts.TLSConfig})
		replicas, err := s.Replicas(ctx, r.MasterName).Result()
		_ = s.Close()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var addrs []string
		for _, replica := range replicas {
			addr := net.JoinHostPort(replica["ip"], replica["port"])
			if flags := replica["flags"]; strings.Contains(flags, "s_down") || strings.Contains(flags, "disconnected") {
				down = append(down, fmt.Sprintf("Redis replica %s is down (Sentinel: %s), its maxmemory-policy unread", addr, flags))
				continue
			}
			addrs = append(addrs, addr)
		}
		r.checkEach(ctx, addrs, check)
		return down, nil
	}
	return nil, errors.Join(errs...)
}

// checkEach checks, with check, the replicas at addrs side by side,
// reached as the data nodes are (their credentials, TLS). One that does
// not answer is check's warning, as a master whose settings cannot be read.
func (r *Redis) checkEach(ctx context.Context, addrs []string, check func(context.Context, redis.Cmdable, string)) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		o := r.opts.Simple()
		o.Addr = addr
		wg.Go(func() {
			c := redis.NewClient(o)
			defer c.Close()
			check(ctx, c, "Redis replica "+addr)
		})
	}
	wg.Wait()
}

// replicaLine is a replica in a master's INFO replication.
var replicaLine = regexp.MustCompile(`(?m)^slave\d+:ip=([^,]+),port=(\d+)`)

// replicaAddrs lists the replicas a master's INFO replication names.
func replicaAddrs(info string) []string {
	var addrs []string
	for _, m := range replicaLine.FindAllStringSubmatch(info, -1) {
		addrs = append(addrs, net.JoinHostPort(m[1], m[2]))
	}
	return addrs
}

// replicaLook bounds the watch's read of a replica's policy: a replica
// that hangs must not hold up the look at the store it is part of.
const replicaLook = time.Second

// replicaEvicting is one of the replicas at addrs whose policy evicts
// (the first by address), and that policy, read side by side (INFO
// memory, on connections kept for the next look); read is whether every
// one of them answered.
func (r *Redis) replicaEvicting(ctx context.Context, addrs []string) (addr, policy string, read bool) {
	policies := make([]string, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, replicaLook)
			defer cancel()
			if text, err := r.replicaClient(a).Info(ctx, "memory").Result(); err == nil {
				policies[i] = "noeviction" // unless it says otherwise
				for line := range strings.Lines(text) {
					if p, ok := strings.CutPrefix(strings.TrimSpace(line), "maxmemory_policy:"); ok {
						policies[i] = p
					}
				}
			}
		})
	}
	wg.Wait()
	read = true
	for i, p := range policies {
		read = read && p != ""
		if Evicts(p) && (addr == "" || addrs[i] < addr) {
			addr, policy = addrs[i], p
		}
	}
	return addr, policy, read
}

// replicaPools are connection pools to single nodes, by address: the
// replicas (made at the watch's first look at each) and a master that
// imports a slot (a lasting write's wait midway through a move:
// waitMigrating), kept until Cleanup.
type replicaPools struct {
	mu    sync.Mutex
	pools map[string]*redis.Client
}

// replicaClient is the connection pool to the node (a replica, or a
// master importing a slot) at addr.
func (r *Redis) replicaClient(addr string) *redis.Client {
	rp := r.replicaPools
	rp.mu.Lock()
	defer rp.mu.Unlock()
	c := rp.pools[addr]
	if c == nil {
		o := r.opts.Simple()
		o.Addr = addr
		c = redis.NewClient(o)
		rp.pools[addr] = c
	}
	return c
}

// close closes the pools.
func (rp *replicaPools) close() {
	if rp == nil {
		return
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for _, c := range rp.pools {
		_ = c.Close()
	}
	rp.pools = map[string]*redis.Client{}
}
