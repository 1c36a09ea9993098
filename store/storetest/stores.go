package storetest

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// OnBadgerAndRedis runs test in parallel subtests, "badger" and "redis",
// on a store of each: Badger on disk in the subtest's directory (as
// OpenBadger opens it), and one on a Redis server of the subtest's own.
func OnBadgerAndRedis(t *testing.T, test func(t *testing.T, s store.Store)) {
	for name, open := range map[string]func(testing.TB) store.Store{"badger": Badger, "redis": Redis} {
		t.Run(name, func(t *testing.T) {
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

// Redis is a store on a Redis server of t's own, closed when t ends.
func Redis(t testing.TB) store.Store {
	s, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{redistest.Server(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeRedis() })
	return s
}
