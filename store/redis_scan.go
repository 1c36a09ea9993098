package store

import (
	"context"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"
)

// A Redis store's scans: the keys under a prefix with their values, node
// by node on a cluster, each round trip bounded.

// Scan implements Store (SCAN MATCH, then the keys' values in one
// pipeline a batch). A cluster is scanned master by master: SCAN sees one
// node's keys only. A scan takes as long as the store is large (the
// console's people, an export): it is not held to its request's budget in
// all, but each of its round trips is, to the whole budget (perCall), so
// that a store that stops answering ends it within the budget, as it ends
// a request, however far it got (before: go-redis's read timeout and its
// tries, some 10 s). The first error ends it.
func (r *Redis) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	ctx, call, err := perCall(ctx)
	if err != nil {
		return err
	}
	pattern := r.key(escapeGlob(prefix)) + "*"
	cluster, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return r.scanNode(ctx, call, r.client, pattern, fn)
	}
	var one sync.Mutex          // fn is called from one goroutine at a time
	mapCtx, cancel := call(ctx) // for the read of the slot map; each node's scan has ctx
	defer cancel()
	return cluster.ForEachMaster(mapCtx, func(_ context.Context, node *redis.Client) error {
		return r.scanNode(ctx, call, node, pattern, func(k string, v []byte) error {
			one.Lock()
			defer one.Unlock()
			return fn(k, v)
		})
	})
}

// scanBatch is how many keys a SCAN call looks at: each batch is two
// round trips (SCAN, then the values of those that match).
const scanBatch = 1000

func (r *Redis) scanNode(ctx context.Context, call func(context.Context) (context.Context, context.CancelFunc), c redis.Cmdable,
	pattern string, fn func(string, []byte) error) error {
	for cursor := uint64(0); ; {
		keys, gets, next, err := r.scanBatch(ctx, call, c, cursor, pattern)
		if err != nil {
			return err
		}
		for i, k := range keys {
			v, err := gets[i].Bytes()
			if errors.Is(err, redis.Nil) {
				continue // expired meanwhile
			}
			if err != nil {
				return err
			}
			if err := fn(k[len(r.KeyPrefix):], v); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// scanBatch is one SCAN call from cursor and the values of the keys it
// found, each round trip bounded by call.
func (r *Redis) scanBatch(ctx context.Context, call func(context.Context) (context.Context, context.CancelFunc), c redis.Cmdable,
	cursor uint64, pattern string) (keys []string, gets []*redis.StringCmd, next uint64, err error) {
	sctx, cancel := call(ctx)
	keys, next, err = c.Scan(sctx, cursor, pattern, scanBatch).Result()
	cancel()
	if err != nil || len(keys) == 0 {
		return nil, nil, next, err
	}
	gctx, cancel := call(ctx)
	defer cancel()
	_, err = c.Pipelined(gctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			gets = append(gets, p.Get(gctx, k))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, 0, err
	}
	return keys, gets, next, nil
}

// escapeGlob makes a key prefix literal in a SCAN pattern.
func escapeGlob(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}
