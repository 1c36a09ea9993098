package storetest

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// OnBadgerAndRedis runs test in parallel subtests, "badger" and "redis",
// on a store of each: Badger on disk in the subtest's directory (as
// OpenBadger opens it), and one in a database of the subtest's own on the
// binary's shared Redis server (Redis).
func OnBadgerAndRedis(t *testing.T, test func(t *testing.T, s store.Store)) {
	OnBadgerAndRedisAs(t, "", test)
}

// OnBadgerAndRedisAs is OnBadgerAndRedis with the subtests named
// name+"badger" and name+"redis": for a test of several cases, each of
// them on both stores, all parts of the test itself (name "app/", say).
// A case that was a subtest of its own, whose parts are parallel, gave
// its slot back and its parts queued again behind every waiting test of
// the package (docs/TESTING.md, speed40b and speed41b).
func OnBadgerAndRedisAs(t *testing.T, name string, test func(t *testing.T, s store.Store)) {
	for kind, open := range map[string]func(testing.TB) store.Store{"badger": Badger, "redis": Redis} {
		t.Run(name+kind, func(t *testing.T) {
			t.Parallel()
			test(t, open(t))
		})
	}
}

// Badger is a Badger store in t's directory, closed when t ends.
func Badger(t testing.TB) store.Store {
	s, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	return s
}

// Redis is a store on a database of t's own on the test binary's shared
// Redis server (redistest.Shared), closed when t ends: the store is all
// t can reach, so it cannot stop, pause or fill the server. A test that
// needs a server of its own starts one (redistest.Server).
func Redis(t testing.TB) store.Store {
	addr, db := redistest.Shared(t)
	s, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeRedis() })
	return s
}
