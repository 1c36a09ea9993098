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
// volatile-lru (a managed Redis's usual default) after the gate started
// (one that evicts is refused at start: store.TestAnEvictingRedisIsRefused),
// which the gate's watch raises an alarm about, fills up and evicts
// alice's phone, while the epoch record stays. Alice now looks never
// enrolled: whoever knows her password would enroll a phone of their own
// for her. Before, the gate let them (a code sent to the new phone); now
// evictions freeze new enrollments as a wipe does.
//
// Which key Redis evicts is made certain, not left to its sampled LRU:
// under volatile-lru only a key with a TTL can go, and the test gives
// alice's phone one (the junk it fills Redis with, the epoch record and
// the secret have none), so the phone goes, with at most the gate's other
// short-lived records, and the epoch record cannot. Before, on
// allkeys-lru, the sample once took the epoch record at load ("the epoch
// record was evicted too": a wipe, not what the test is about).
func TestAnEvictedDeviceFreezesEnrollment(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.StartWith(t, "--maxmemory", "3mb", "--maxmemory-policy", "noeviction")
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
	const device, epoch, secret = "smsgate:device/localhost/alice", "smsgate:epoch", "smsgate:keys/secret"
	for _, key := range []string{epoch, secret} {
		if ttl := c.TTL(ctx, key).Val(); ttl != -1 { // -1: kept until deleted (-2: none)
			t.Fatalf("%s has a TTL (%v): volatile-lru could evict it, so the test would not know what it evicts", key, ttl)
		}
	}
	if !c.Expire(ctx, device, time.Hour).Val() {
		t.Fatal("alice's phone is not in Redis after her enrollment")
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "volatile-lru").Err(); err != nil {
		t.Fatal(err)
	}
	// Junk of no TTL until Redis, full, has evicted alice's phone (its
	// writes refused once nothing it may evict is left: ignored), then the
	// junk deleted, so that the gate's writes are not refused as they would
	// be by a full Redis (its 503 is not the freeze's).
	junk := strings.Repeat("x", 1000)
	var written []string
	for i := 0; c.Exists(ctx, device).Val() == 1; i++ {
		if i > 500 {
			t.Fatal("filling Redis: alice's phone never evicted")
		}
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := range 10 {
				written = append(written, fmt.Sprintf("junk:%d:%d", i, j))
				p.Set(ctx, written[len(written)-1], junk, 0)
			}
			return nil
		})
	}
	for len(written) > 0 {
		n := min(len(written), 500)
		if err := c.Del(ctx, written[:n]...).Err(); err != nil {
			t.Fatal(err)
		}
		written = written[n:]
	}
	if n, _ := strconv.Atoi(c.InfoMap(ctx, "stats").Val()["Stats"]["evicted_keys"]); n == 0 {
		t.Fatal("alice's phone is gone, but Redis evicted nothing")
	}
	if c.Exists(ctx, epoch).Val() != 1 || c.Exists(ctx, secret).Val() != 1 {
		t.Fatal("the epoch record or the secret was evicted too: this is a wipe, not what the test is about")
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
		alarms[0]["policy"] != "volatile-lru" || alarms[0]["event"] != "store_evicts" {
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
