package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store.Window, a sliding window counted without recording anything: on
// Redis a script (windowCount), on Badger the window in memory.

// windowCount counts a sliding window's events after ARGV[3] (its start,
// exclusive: "(" and now minus the span) and records none; it returns
// {count, ms until the oldest of them leaves} ({0, 0}: none). The marks
// "~keep" and "~until" are scored below 0, before any window's start.
var windowCount = redis.NewScript(`
local n = redis.call("ZCOUNT", KEYS[1], ARGV[3], "+inf")
if n == 0 then return {0, 0} end
local oldest = redis.call("ZRANGEBYSCORE", KEYS[1], ARGV[3], "+inf", "WITHSCORES", "LIMIT", 0, 1)
return {n, tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1])}`)

// windowCountArgs are windowCount's ARGV for op: now, the span (ms) and
// the window's start.
func windowCountArgs(op *Op) []any {
	now, span := op.now.UnixMilli(), op.window.Milliseconds()
	return []any{now, span, "(" + strconv.FormatInt(now-span, 10)}
}

// readWindowCount puts windowCount's reply into op.
func readWindowCount(op *Op, c *redis.Cmd) {
	res, err := c.Int64Slice()
	switch {
	case err != nil:
		op.Err = err
	case len(res) != 2:
		op.Err = fmt.Errorf("redis store: unexpected answer %v to a window's count", res)
	default:
		op.N, op.Wait = res[0], time.Duration(res[1])*time.Millisecond
	}
}

// Window implements Store.
func (r *Redis) Window(ctx context.Context, key string, span time.Duration, now time.Time) (int, time.Duration, error) {
	op := r.alone(ctx, &Op{kind: opWindow, key: key, window: span, now: now}, nil)
	return int(op.N), op.Wait, op.Err
}

func (b *badgerDB) Window(_ context.Context, key string, span time.Duration, now time.Time) (int, time.Duration, error) {
	return b.windows.count(key, span, now)
}

// count is Store.Window: the sends of key's window within span before
// now, none recorded or forgotten.
func (ws *windows) count(key string, span time.Duration, now time.Time) (int, time.Duration, error) {
	w, err := ws.get(key)
	if err != nil {
		return 0, 0, err
	}
	defer w.mu.Unlock()
	t := now.UnixNano()
	live := w.events[w.head:]
	live = live[sort.Search(len(live), func(i int) bool { return live[i].at > t-int64(span) }):]
	if len(live) == 0 {
		return 0, 0, nil
	}
	return len(live), time.Duration(live[0].at + int64(span) - t), nil
}
