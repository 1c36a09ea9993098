package caddymodule_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAnEvictedDeviceFreezesEnrollment: a Redis with maxmemory, set to
// allkeys-lru after the gate started (one that evicts is refused at start:
// store.TestAnEvictingRedisIsRefused), which the gate's watch raises an
// alarm about, fills up and evicts alice's phone, least recently used,
// while the epoch record, read every 2 s, stays. Alice now looks never
// enrolled: whoever knows her password would enroll a phone of their own
// for her. Before, the gate let them (a code sent to the new phone); now
// evictions freeze new enrollments as a wipe does.
func TestAnEvictedDeviceFreezesEnrollment(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.StartWith(t, "--maxmemory", "3mb", "--maxmemory-policy", "noeviction", "--maxmemory-samples", "64")
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		store redis %[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, r.Addr))
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")

	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	ctx := context.Background()
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	const device, epoch, secret = "smsgate:device/localhost/alice", "smsgate:epoch", "smsgate:keys/secret"
	junk := strings.Repeat("x", 1000)
	var last string // the last key fill wrote
	fill := func(prefix string, until func() bool) {
		t.Helper()
		for i := 0; !until(); i++ {
			if i > 500 {
				t.Fatalf("filling Redis with %s keys: never done", prefix)
			}
			_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for j := range 10 {
					last = fmt.Sprintf("%s:%d:%d", prefix, i, j)
					p.Set(ctx, last, junk, 0)
				}
				// The epoch record and the secret stay the most recently
				// used, as the gate's reads keep them: else, once few old
				// keys are left, Redis's sampled LRU may take the epoch
				// (as old as the junk written the same second).
				p.Get(ctx, epoch)
				p.Get(ctx, secret)
				return nil
			})
		}
	}
	// First the old keys, written with alice's phone: Redis nearly full,
	// nothing evicted yet.
	fill("old", func() bool {
		info := c.InfoMap(ctx, "memory").Val()["Memory"]
		used, _ := strconv.Atoi(info["used_memory"])
		return used > 3<<20*8/10
	})
	// Redis's LRU clock counts seconds: two of them later, the records the
	// gate reads now are the recently used ones, and alice's phone is as
	// old as the junk around it. The new keys then evict old ones (never
	// the epoch record or the secret, which are newer than every old key
	// left), until one of them is alice's phone. Two seconds by Redis's
	// clock, as its LRU reads it: the last old key's idle time (OBJECT
	// IDLETIME leaves it as it is), asked for until it is 2, where a sleep
	// of 2.1 s waited on this machine's clock for Redis's (1-2 s).
	for start := time.Now(); c.ObjectIdleTime(ctx, last).Val() < 2*time.Second; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 30*time.Second { // a hang guard
			t.Fatalf("Redis's LRU clock did not move in 30 s: %s idle %v", last, c.ObjectIdleTime(ctx, last).Val())
		}
	}
	fill("new", func() bool { return c.Exists(ctx, device).Val() == 0 }) // EXISTS leaves a key's LRU time as it is
	if c.Exists(ctx, epoch).Val() != 1 {
		t.Fatal("the epoch record was evicted too: this is a wipe, not what the test is about")
	}

	mallory := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, mallory.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/enroll")
	var res *sitetest.Response
	if res = mallory.Get("/.smsgate/enroll"); res.StatusCode == http.StatusOK {
		tok := sitetest.CSRFField.FindStringSubmatch(res.Text)[1]
		res = mallory.Post("/.smsgate/enroll", url.Values{"phone": {"+14155550199"}, "csrf": {tok}})
	}
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	sitetest.ExpectBody(t, res, "New enrollments are paused")
	if s.Sent() != 1 {
		t.Fatalf("a code was sent to a new phone for alice after the eviction: %d messages", s.Sent())
	}
	if alarms := s.LogEntries("the store's Redis now evicts keys when its memory is full: a revoked session's record could be " +
		"dropped and the session let in again at another instance, a device lost; set maxmemory-policy noeviction"); len(alarms) != 1 ||
		alarms[0]["policy"] != "allkeys-lru" || alarms[0]["event"] != "store_evicts" {
		t.Errorf("the alarm about a Redis set to evict: %v", alarms)
	}
}

// TestAnEvictingRedisDoesNotLoad: a config whose Redis evicts keys when
// its memory is full (volatile-lru, a managed Redis's usual default:
// revocation records carry a TTL) does not load, and the error says what
// to set. Before, it loaded with a warning in the log.
func TestAnEvictingRedisDoesNotLoad(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.StartWith(t, "--maxmemory-policy", "volatile-lru")
	sitetest.AssertLoadError(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		store redis %[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, r.Addr), "Redis evicts keys when its memory is full (maxmemory-policy volatile-lru)", "set maxmemory-policy noeviction")
}
