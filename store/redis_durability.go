package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// A Redis that evicts keys when its memory is full loses what smsgate
// must keep, and not only devices and the signing secret: a session's
// revocation record (or the revocation log's entry) evicted before
// another instance read it lets the signed-out session in again there.
// So a server (any master of a cluster) whose maxmemory-policy evicts —
// allkeys-*, or volatile-*, since revocations carry a TTL — is refused
// at start, with the setting to change; and so is a replica that a
// failover could make a master (Sentinel's, a Cluster's), which ignores
// its policy only until then. One that keeps nothing on disk
// still works until it restarts (a wipe, which the gates notice: see
// continuity): that, and a policy that cannot be read, are warnings.

// durability returns a warning for each thing the server (each master of
// a cluster) will lose data to, and an error when it would evict keys. The
// replicas a failover could promote are asked too, as the masters are (a
// Sentinel's replicas of its master, a Cluster's of each master): one set
// to evict would, once promoted, drop keys as an evicting master does, and
// only the watch's look after the failover (storewatch) would see it.
func (r *Redis) durability(ctx context.Context) (warnings []string, err error) {
	var (
		mu   sync.Mutex // the nodes are asked side by side
		errs []error
	)
	check := func(ctx context.Context, c redis.Cmdable, name string) {
		found, err := nodeDurability(ctx, c, name)
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, found...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if cluster, ok := r.client.(*redis.ClusterClient); ok {
		_ = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			check(ctx, node, "Redis node "+node.Options().Addr)
			// Its replicas, as it knows them (CLUSTER SLOTS leaves out a
			// replica that has had no write yet).
			info, err := node.Info(ctx, "replication").Result()
			if err != nil {
				return nil // a master that refuses INFO: warned of above, as it was read by INFO or not at all
			}
			r.checkEach(ctx, replicaAddrs(info), check)
			return nil
		})
	} else {
		check(ctx, r.client, "Redis")
		if r.MasterName != "" && r.opts != nil {
			down, err := r.sentinelReplicas(ctx, func(ctx context.Context, c redis.Cmdable, name string) {
				check(ctx, c, name)
				// The scripts too, for the day a failover makes it the master
				// (SCRIPT LOAD is not replicated; on a Cluster go-redis loads
				// them on every node): one that refuses meets NOSCRIPT then,
				// and is loaded (runScript).
				for _, s := range scripts {
					if s.Load(ctx, c).Err() != nil {
						break
					}
				}
			})
			if err != nil {
				down = append(down, fmt.Sprintf("the replicas of %s cannot be listed (%v)", r.MasterName, err))
			}
			for _, d := range down {
				warnings = append(warnings, d+": make sure each runs with maxmemory-policy noeviction, as a failover makes one the master")
			}
		}
	}
	slices.Sort(warnings)
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return warnings, errors.Join(errs...)
}

// Evicts reports whether a maxmemory-policy lets a full server drop keys
// ("" is one that could not be read).
func Evicts(policy string) bool { return policy != "" && policy != "noeviction" }

// evicting is the refusal of a server whose policy evicts.
func evicting(name, policy string) error {
	return fmt.Errorf("%s evicts keys when its memory is full (maxmemory-policy %s): a revoked session's record could be dropped "+
		"and the session let in again, a device or the signing secret lost; set maxmemory-policy noeviction (in redis.conf, "+
		"and CONFIG SET maxmemory-policy noeviction on a running server), so that a full Redis refuses writes instead", name, policy)
}

// persistence is what a server says of how it keeps data.
type persistence struct {
	policy   string // maxmemory-policy
	aof      bool   // appendonly
	rdb      bool   // save has a rule
	rdbKnown bool   // whether rdb could be read
}

// nodeDurability checks one server: CONFIG GET, or, where CONFIG is
// refused (an ACL, a managed service), what INFO tells.
func nodeDurability(ctx context.Context, c redis.Cmdable, name string) ([]string, error) {
	p, err := configPersistence(ctx, c)
	if err != nil {
		var infoErr error
		if p, infoErr = infoPersistence(ctx, c); infoErr != nil {
			return []string{fmt.Sprintf("%s: cannot read its eviction and persistence settings (CONFIG GET: %v; INFO: %v): "+
				"make sure it runs with maxmemory-policy noeviction and appendonly yes", name, err, infoErr)}, nil
		}
	}
	if Evicts(p.policy) {
		return nil, evicting(name, p.policy)
	}
	var warnings []string
	switch {
	case p.aof:
	case !p.rdbKnown:
		warnings = append(warnings, fmt.Sprintf("%s keeps no append-only file, and whether it takes RDB snapshots cannot be read "+
			"(CONFIG GET is refused): without either, a restart loses every device and the signing secret; set appendonly yes", name))
	case !p.rdb:
		warnings = append(warnings, fmt.Sprintf("%s keeps nothing on disk (appendonly no, no save rule): a restart loses every "+
			"device and the signing secret; set appendonly yes (appendfsync always for the writes users are told about)", name))
	}
	return warnings, nil
}

func configPersistence(ctx context.Context, c redis.Cmdable) (persistence, error) {
	var p persistence
	for _, param := range []string{"maxmemory-policy", "appendonly", "save"} {
		v, err := c.ConfigGet(ctx, param).Result()
		if err != nil {
			return p, err
		}
		value, ok := v[param]
		if !ok {
			return p, fmt.Errorf("no %s in its answer", param)
		}
		switch param {
		case "maxmemory-policy":
			p.policy = value
		case "appendonly":
			p.aof = value == "yes"
		case "save":
			p.rdb, p.rdbKnown = strings.TrimSpace(value) != "", true
		}
	}
	return p, nil
}

func infoPersistence(ctx context.Context, c redis.Cmdable) (persistence, error) {
	var p persistence
	// INFO's default sections (memory and persistence among them): a Redis
	// before 7 takes no more than one section by name, and answers two with
	// a syntax error, which left an evicting server's policy unread.
	text, err := c.Info(ctx).Result()
	if err != nil {
		return p, err
	}
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok {
			fields[k] = v
		}
	}
	policy, ok := fields["maxmemory_policy"]
	if !ok {
		return p, fmt.Errorf("no maxmemory_policy in INFO")
	}
	p.policy, p.aof = policy, fields["aof_enabled"] == "1"
	return p, nil
}

// Evictions is what a server says of dropping keys (INFO, one round trip
// a master). Evicted is how many keys it (every master of a cluster) has
// evicted since it started: a count that grows means records may be gone,
// a device so that its user looks never enrolled (see continuity). Policy
// is its maxmemory-policy, or the first master's that evicts: a server set
// to evict after the gates started (CONFIG SET, a failover to a replica
// set up otherwise), which the refusal at start could not see.
//
// Replica is the address of a replica a master lists (INFO replication)
// whose policy evicts, and ReplicaPolicy that policy: a failover would make
// it an evicting master (set so since the start, which refuses one, or
// attached since). ReplicasRead is whether every replica listed was read
// (one that was not may evict unseen).
type Evictions struct {
	Evicted int64
	Policy  string

	Replica, ReplicaPolicy string
	ReplicasRead           bool
}

// Evictions implements what storewatch asks of a store that can evict.
func (r *Redis) Evictions(ctx context.Context) (Evictions, error) {
	var (
		all      Evictions
		replicas []string
		err      error
	)
	if cluster, ok := r.client.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		err = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			e, listed, err := nodeEvictions(ctx, node)
			mu.Lock()
			defer mu.Unlock()
			all.Evicted += e.Evicted
			if all.Policy == "" || Evicts(e.Policy) && !Evicts(all.Policy) {
				all.Policy = e.Policy
			}
			replicas = append(replicas, listed...)
			return err
		})
	} else {
		all, replicas, err = nodeEvictions(ctx, r.client)
	}
	if err == nil {
		all.Replica, all.ReplicaPolicy, all.ReplicasRead = r.replicaEvicting(ctx, replicas)
	}
	return all, err
}

// nodeEvictions is one master's Evictions, and the replicas it lists.
func nodeEvictions(ctx context.Context, c redis.Cmdable) (Evictions, []string, error) {
	var e Evictions
	// INFO's default sections (stats and memory among them): a Redis
	// before 7 takes no more than one section by name.
	text, err := c.Info(ctx).Result()
	if err != nil {
		return e, nil, err
	}
	found := false
	for line := range strings.Lines(text) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch k {
		case "evicted_keys":
			if e.Evicted, err = strconv.ParseInt(v, 10, 64); err != nil {
				return e, nil, err
			}
			found = true
		case "maxmemory_policy":
			e.Policy = v
		}
	}
	if !found {
		return e, nil, fmt.Errorf("no evicted_keys in INFO stats")
	}
	return e, replicaAddrs(text), nil
}
