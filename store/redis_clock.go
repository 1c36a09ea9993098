package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClockSkewWarned is how far this instance's clock may be off the Redis
// server's (each master's, on a Cluster) before Open warns. Several
// instances share one Redis, and some decisions compare times two
// instances' clocks wrote: an admin's end of a session (the ending
// instance's clock) against the beginning of a step-up's sign-in (the
// signing one's) is misjudged for sign-ins begun within the two clocks'
// difference of the end (SECURITY.md). With no instance warned, that
// difference is under twice this bound (plus half a round trip each).
const ClockSkewWarned = time.Second

// clockWarnings measures this instance's clock (now) against each master's
// (TIME, the midpoint of its round trip taken for the server's instant)
// and says where it is more than ClockSkewWarned off; a master that
// does not answer is left out (Open's other steps tell of it).
func (r *Redis) clockWarnings(ctx context.Context, now func() time.Time) []string {
	var (
		mu       sync.Mutex
		warnings []string
	)
	check := func(ctx context.Context, c redis.Cmdable, name string) {
		sent := now()
		server, err := c.Time(ctx).Result()
		if err != nil {
			return
		}
		back := now()
		rtt := back.Sub(sent)
		off := back.Add(-rtt / 2).Sub(server) // ahead: positive
		if off.Abs() <= ClockSkewWarned {
			return
		}
		side := "ahead of"
		if off < 0 {
			side = "behind"
		}
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, fmt.Sprintf("this instance's clock is %.1f s %s %s's (±%.3f s): an admin's end of a session is judged by the ending instance's clock against the signing one's, so a sign-in begun within the instances' difference of the end is misjudged (SECURITY.md); keep every instance on NTP",
			off.Abs().Seconds(), side, name, (rtt/2).Seconds()))
	}
	if cluster, ok := r.client.(*redis.ClusterClient); ok {
		_ = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			check(ctx, node, "Redis node "+node.Options().Addr)
			return nil
		})
	} else {
		check(ctx, r.client, "the Redis server")
	}
	return warnings
}
