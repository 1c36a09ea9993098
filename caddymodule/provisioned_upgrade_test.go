package caddymodule_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAProvisionedUsersCodeFromThePreviousReleaseStillSignsIn: a
// provisioned user (the config's `user` line, no device record) is sent a
// code by a gate of the previous release, whose challenge record has no
// "provisioned" mark (a rolling upgrade on a shared Redis, or a code sent
// just before the upgrade); a gate of this release checks it. The right
// code must sign the user in while the config still gives them that phone.
// (An earlier build of main stored such a mark, and without it sent the
// check to the store's devices, where a provisioned user has none: the code
// was refused, and a resend copied the missing mark. Now the checking
// gate's config alone says who is provisioned: Scope.Provisioned.)
func TestAProvisionedUsersCodeFromThePreviousReleaseStillSignsIn(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	s := textSite(t, "store redis "+addr, []string{"alice"}, "\t\tuser alice +14155552671\n")
	alice := sitetest.NewClient(t, "alice")
	tok := codeSent(t, alice)
	code := s.LastCode()

	// The challenge as the previous release wrote it: no "provisioned".
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	keys, err := rc.Keys(ctx, "smsgate:challenge/localhost/*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("the challenge records: %v %v", keys, err)
	}
	raw, err := rc.Get(ctx, keys[0]).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	delete(rec, "provisioned") // a mark an earlier build of main stored
	old, _ := json.Marshal(rec)
	if err := rc.SetArgs(ctx, keys[0], old, redis.SetArgs{KeepTTL: true}).Err(); err != nil {
		t.Fatal(err)
	}

	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
}
