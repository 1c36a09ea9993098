package store

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// A Redis that evicts keys when its memory is full, or keeps nothing on
// disk, loses what smsgate must keep: devices, the signing secret,
// revocations. Such a server still works — until it is full or restarts —
// so it is a warning at start, not a refusal.

// durability returns a warning for each thing the server (each master of
// a cluster) will lose data to; none when it is set up to keep it.
func (r *Redis) durability(ctx context.Context) []string {
	cluster, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return nodeDurability(ctx, r.client, "Redis")
	}
	var (
		mu       sync.Mutex // the masters are asked side by side
		warnings []string
	)
	_ = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		found := nodeDurability(ctx, node, "Redis node "+node.Options().Addr)
		mu.Lock()
		warnings = append(warnings, found...)
		mu.Unlock()
		return nil
	})
	slices.Sort(warnings)
	return warnings
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
func nodeDurability(ctx context.Context, c redis.Cmdable, name string) []string {
	p, err := configPersistence(ctx, c)
	if err != nil {
		var infoErr error
		if p, infoErr = infoPersistence(ctx, c); infoErr != nil {
			return []string{fmt.Sprintf("%s: cannot read its eviction and persistence settings (CONFIG GET: %v; INFO: %v): "+
				"make sure it runs with maxmemory-policy noeviction and appendonly yes", name, err, infoErr)}
		}
	}
	var warnings []string
	if p.policy != "noeviction" {
		warnings = append(warnings, fmt.Sprintf("%s evicts keys when its memory is full (maxmemory-policy %s): devices, the signing "+
			"secret and revocations could be dropped; set maxmemory-policy noeviction (a full Redis then refuses writes instead)", name, p.policy))
	}
	switch {
	case p.aof:
	case !p.rdbKnown:
		warnings = append(warnings, fmt.Sprintf("%s keeps no append-only file, and whether it takes RDB snapshots cannot be read "+
			"(CONFIG GET is refused): without either, a restart loses every device and the signing secret; set appendonly yes", name))
	case !p.rdb:
		warnings = append(warnings, fmt.Sprintf("%s keeps nothing on disk (appendonly no, no save rule): a restart loses every "+
			"device and the signing secret; set appendonly yes (appendfsync always for the writes users are told about)", name))
	}
	return warnings
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
	text, err := c.Info(ctx, "memory", "persistence").Result()
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

// Evicted is how many keys the server (every master of a cluster) has
// evicted since it started (INFO stats evicted_keys): a count that grows
// means records may be gone — a device, so that its user looks never
// enrolled (see continuity).
func (r *Redis) Evicted(ctx context.Context) (int64, error) {
	cluster, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return nodeEvicted(ctx, r.client)
	}
	var (
		mu    sync.Mutex
		total int64
	)
	err := cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		n, err := nodeEvicted(ctx, node)
		mu.Lock()
		total += n
		mu.Unlock()
		return err
	})
	return total, err
}

func nodeEvicted(ctx context.Context, c redis.Cmdable) (int64, error) {
	text, err := c.Info(ctx, "stats").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "evicted_keys:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no evicted_keys in INFO stats")
}
