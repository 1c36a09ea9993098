package caddymodule_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAnEvictedDeviceFreezesEnrollment: a Redis with maxmemory and
// allkeys-lru (a warning at start) fills up and evicts alice's phone,
// least recently used, while the epoch record, read every 2 s, stays.
// Alice now looks never enrolled: whoever knows her password would enroll
// a phone of their own for her. Before, the gate let them (a code sent to
// the new phone); now evictions freeze new enrollments as a wipe does.
func TestAnEvictedDeviceFreezesEnrollment(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.StartWith(t, "--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru", "--maxmemory-samples", "64")
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth {
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
	time.Sleep(2100 * time.Millisecond) // Redis's LRU clock counts seconds: alice's phone is now the older
	c.Get(ctx, epoch)
	c.Get(ctx, secret)
	junk := strings.Repeat("x", 1000)
	for i := 0; c.Exists(ctx, device).Val() == 1; i++ { // EXISTS leaves a key's LRU time as it is
		if i > 100 {
			t.Fatal("the phone was never evicted")
		}
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := range 50 {
				p.Set(ctx, fmt.Sprintf("junk:%d:%d", i, j), junk, 0)
			}
			return nil
		})
	}
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
}
