package store_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// previousSlide is the previous release's sliding window on Redis, as it
// ran: trimmed by the span of whoever counted, the key's expiry set to it,
// and no "~keep".
var previousSlide = redis.NewScript(`
local now, span, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - span)
if redis.call("ZCARD", KEYS[1]) >= limit then
	local oldest = redis.call("ZRANGE", KEYS[1], -limit, -limit, "WITHSCORES")
	return {0, tonumber(oldest[2]) + span - now}
end
redis.call("ZADD", KEYS[1], now, ARGV[4])
redis.call("PEXPIRE", KEYS[1], span)
return {1, 0}`)

// TestAnUpgradeKeepsALongWindowsHistory: a window the previous release
// wrote (sends counted by `limit ip 3 1h`, no keep recorded) is counted
// first after the upgrade by another gate's `limit ip 3 1m`: that count
// must not erase the hour's history, which still refuses its fourth send
// (before: the minute's count trimmed the hour's three sends, and the
// hour's window let three more through).
func TestAnUpgradeKeepsALongWindowsHistory(t *testing.T) {
	t.Parallel()
	const key = "limit/ip/192.0.2.1"
	at := func(start time.Time, m time.Duration) time.Time { return start.Add(m * time.Minute) }
	t.Run("Badger", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		s := restarted(t, func(s store.Store) {
			// What the previous release's Slide wrote: a key per send,
			// with no value and the hour's TTL.
			for i, id := range []string{"a", "b", "c"} {
				if err := s.Put(context.Background(), store.EventKey(key, at(start, time.Duration(i)), id), nil, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
		})
		upgraded(t, s, key, func(m time.Duration) time.Time { return at(start, m) }, func() {})
	})
	t.Run("Redis", func(t *testing.T) {
		t.Parallel()
		ctx, start := context.Background(), time.Unix(1_800_000_000, 0)
		cfg := store.Redis{Addresses: []string{redistest.Server(t)}, KeyPrefix: "old:"}
		s, closeFn, err := store.OpenRedis(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer closeFn()
		c := s.(*store.Redis).Client()
		for i, id := range []string{"a", "b", "c"} {
			now := at(start, time.Duration(i)).UnixMilli()
			if err := previousSlide.Run(ctx, c, []string{"old:" + key}, now, time.Hour.Milliseconds(), 3, id).Err(); err != nil {
				t.Fatal(err)
			}
		}
		upgraded(t, s, key, func(m time.Duration) time.Time { return at(start, m) }, func() {
			// Its expiry is the previous release's still (an hour from
			// its last send), not the minute's that counted first.
			if ttl, err := c.PTTL(ctx, "old:"+key).Result(); err != nil || ttl < 50*time.Minute {
				t.Fatalf("the old window expires in %v (%v) after the minute's count; want the hour the previous release gave it", ttl, err)
			}
		})
		// Once the old window would have expired, it is trimmed as any:
		// the minute's count two hours on keeps its send and "~keep" only.
		if ok, _, err := s.Slide(ctx, key, "late", 3, time.Minute, at(start, 120)); err != nil || !ok {
			t.Fatalf("a count two hours on: %v %v", ok, err)
		}
		if members, err := c.ZRange(ctx, "old:"+key, 0, -1).Result(); err != nil || fmt.Sprint(members) != "[~keep late]" {
			t.Fatalf("the window two hours on holds %v (%v), want [~keep late]", members, err)
		}
	})
}

// upgraded counts a window the previous release wrote with three sends at
// minutes 0, 1 and 2 of an hour's window: first through a minute's window
// (at 5), then through the hour's (at 6), which must still see its three;
// between them, between is run.
func upgraded(t *testing.T, s store.Store, key string, at func(time.Duration) time.Time, between func()) {
	t.Helper()
	ctx := context.Background()
	if ok, _, err := s.Slide(ctx, key, "minute", 3, time.Minute, at(5)); err != nil || !ok {
		t.Fatalf("the minute's window, empty in its minute: %v %v", ok, err)
	}
	between()
	if ok, wait, err := s.Slide(ctx, key, "hour", 3, time.Hour, at(6)); err != nil || ok || wait != 55*time.Minute {
		t.Fatalf("the hour's window after the upgrade and the minute's count: ok=%v wait=%v (%v); want refused for 55m (its three sends from before the upgrade)", ok, wait, err)
	}
}

// TestAnUpgradeKeepsLongerWhatAShortWindowCountedFirst: the release
// before this one kept the sends a short window counted first for that
// short span alone (its value and its TTL), under a window a long one
// counted after (`limit ip 2 2s` at one gate, then `limit ip 2 1h` at
// another). The first count after the upgrade keeps them as long as the
// long window does, so that a restart once the short span has passed
// still finds them (before: a1 had expired, and the hour's window let a
// second send through beside a2).
func TestAnUpgradeKeepsLongerWhatAShortWindowCountedFirst(t *testing.T) {
	t.Parallel()
	const key = "limit/ip/192.0.2.2"
	ctx, dir, start := context.Background(), t.TempDir(), time.Unix(1_800_000_000, 0)
	open := func() (store.Store, func() error) {
		s, closeDB, err := store.OpenBadger(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s, closeDB
	}
	s, closeDB := open()
	// What the release before wrote: each send's key with the span its
	// window was counted with when it was written.
	for _, send := range []struct {
		id       string
		at, kept time.Duration
	}{{"a1", 0, 2 * time.Second}, {"a2", time.Millisecond, time.Hour}} {
		v := binary.BigEndian.AppendUint64(nil, uint64(send.kept))
		if err := s.Put(ctx, store.EventKey(key, start.Add(send.at), send.id), v, send.kept); err != nil {
			t.Fatal(err)
		}
	}
	hour := func(at time.Duration) {
		t.Helper()
		if ok, wait, err := s.Slide(ctx, key, "a3", 2, time.Hour, start.Add(at)); err != nil || ok || wait != time.Hour-at {
			t.Fatalf("the hour's window at %v: ok=%v wait=%v (%v); want refused for %v (a1 and a2)", at, ok, wait, err, time.Hour-at)
		}
	}
	// The upgrade's first count, at once: a1's TTL (2 s, which Badger
	// keeps in whole seconds, so as little as 1 s) must not pass before
	// it, as a reopen first (slow under -race) could let it. Then the next
	// count, after a restart.
	hour(2 * time.Millisecond)
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}
	s, closeDB = open()
	hour(2 * time.Millisecond)
	storetest.WaitOut(t, s, "probe", 2*time.Second) // a1's old TTL has passed
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}
	s, closeDB = open()
	defer closeDB()
	hour(5 * time.Second)
}
