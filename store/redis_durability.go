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
// at start, with the setting to change. One that keeps nothing on disk
// still works until it restarts (a wipe, which the gates notice: see
// continuity): that, and a policy that cannot be read, are warnings.

// durability returns a warning for each thing the server (each master of
// a cluster) will lose data to, and an error when it would evict keys.
func (r *Redis) durability(ctx context.Context) (warnings []string, err error) {
	cluster, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return nodeDurability(ctx, r.client, "Redis")
	}
	var (
		mu   sync.Mutex // the masters are asked side by side
		errs []error
	)
	_ = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		found, err := nodeDurability(ctx, node, "Redis node "+node.Options().Addr)
		mu.Lock()
		warnings = append(warnings, found...)
		if err != nil {
			errs = append(errs, err)
		}
		mu.Unlock()
		return nil
	})
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
type Evictions struct {
	Evicted int64
	Policy  string
}

// Evictions implements what storewatch asks of a store that can evict.
func (r *Redis) Evictions(ctx context.Context) (Evictions, error) {
	cluster, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return nodeEvictions(ctx, r.client)
	}
	var (
		mu  sync.Mutex
		all Evictions
	)
	err := cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		e, err := nodeEvictions(ctx, node)
		mu.Lock()
		defer mu.Unlock()
		all.Evicted += e.Evicted
		if all.Policy == "" || Evicts(e.Policy) && !Evicts(all.Policy) {
			all.Policy = e.Policy
		}
		return err
	})
	return all, err
}

func nodeEvictions(ctx context.Context, c redis.Cmdable) (Evictions, error) {
	var e Evictions
	// INFO's default sections (stats and memory among them): a Redis
	// before 7 takes no more than one section by name.
	text, err := c.Info(ctx).Result()
	if err != nil {
		return e, err
	}
	found := false
	for line := range strings.Lines(text) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch k {
		case "evicted_keys":
			if e.Evicted, err = strconv.ParseInt(v, 10, 64); err != nil {
				return e, err
			}
			found = true
		case "maxmemory_policy":
			e.Policy = v
		}
	}
	if !found {
		return e, fmt.Errorf("no evicted_keys in INFO stats")
	}
	return e, nil
}
