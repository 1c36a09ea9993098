package storetest

import (
	"context"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// RoundTrips counts a Redis client's round trips (a redis.Hook: add it
// with Client().AddHook): one a command alone or a pipeline, a
// connection's handshake and the store's INFOs aside (its checks, and the
// replication a lasting write asks of a count a second old: the store's
// work, not the one counted).
type RoundTrips struct{ N atomic.Int64 }

var notCounted = map[string]bool{"hello": true, "auth": true, "client": true, "select": true, "info": true}

func (c *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !notCounted[cmd.Name()] {
			c.N.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (c *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !notCounted[cmds[0].Name()] {
			c.N.Add(1)
		}
		return next(ctx, cmds)
	}
}
