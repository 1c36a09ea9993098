package caddymodule_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestTwoGatesOfARealmOnStoresCopiedByteForByteAreTwo: carol signs in at
// gate b of realm sso.localhost, whose gates are on one Redis and give
// her one number; the Redis is copied key by key (DUMP, RESTORE) into
// another, and the config that starts puts b on the copy, giving her
// another number there. The copy holds the first's epoch record
// (review13 L5), but it is another store: b's gate is settled against
// its own number, so the session the lost number earned there ends, and
// the admin's tools refuse the realm (409: gates with different stores).
// Through a real Caddy. (Before, one epoch record made them one store:
// the copy was never settled, her session counted at b, the number lost
// there given by the other store's gate, and the admin API answered 200.)
// TestTwoGatesOfARealmOnOneRedisWrittenTwoWaysEndNothingAtAReload keeps
// one store written two ways one.
func TestTwoGatesOfARealmOnStoresCopiedByteForByteAreTwo(t *testing.T) {
	sitetest.Parallel(t)
	first, copied := redistest.Server(t), redistest.Server(t)
	s := sitetest.Start(t, realmsGiving("store redis "+first, "+14155552671", "+14155552671"))
	carol := sitetest.NewClient(t, "")
	carolAt(t, s, carol, "b.sso.localhost")
	copyRedis(t, first, copied)

	config := realmsGiving("store redis "+first, "+14155552671", "+447400123456") // gates a, b, o
	config = strings.Replace(config, "store redis "+first, "\x00", 2)
	config = strings.Replace(config, "\x00", "store redis "+first, 1)
	config = strings.Replace(config, "\x00", "store redis "+copied, 1) // b's
	s = sitetest.Start(t, config)
	carol.HTTP.CloseIdleConnections()
	if res := carol.GetURL(absolute(s, "b.sso.localhost", "/")); strings.Contains(res.Text, "b.sso.localhost carol") {
		t.Errorf("b on the copy, giving carol another number: the lost number's session there: %d %s", res.StatusCode, res.Text)
	}
	if n := len(s.LogEntries("provisioned_number_changed")); n != 1 {
		t.Errorf("%d settles found carol's number lost; want 1 (the copy's)", n)
	}
	if st, body := s.Admin("GET", "/smsgate/users?realm=sso.localhost", ""); st != http.StatusConflict {
		t.Errorf("the admin API on a realm served from two stores: %d %s; want 409", st, body)
	}
}

// copyRedis copies every key of the Redis at from into the one at to, as
// it is held (DUMP, RESTORE, with its expiry).
func copyRedis(t *testing.T, from, to string) {
	t.Helper()
	ctx := context.Background()
	src, dst := redis.NewClient(&redis.Options{Addr: from}), redis.NewClient(&redis.Options{Addr: to})
	defer src.Close()
	defer dst.Close()
	keys, err := src.Keys(ctx, "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("%d keys to copy: %v", len(keys), err)
	}
	for _, k := range keys {
		raw, err := src.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		ttl, err := src.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := dst.RestoreReplace(ctx, k, max(ttl, 0), raw).Err(); err != nil {
			t.Fatal(err)
		}
	}
}
