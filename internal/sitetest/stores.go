package sitetest

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// OnEachStore runs test in two parts, on Badger and on a real Redis (a
// redis-server of the part's own), each with a Caddy of its own (Parallel).
// storeLine is the Caddyfile's store line; Badger's names {DIR}, a new
// folder at every Start: keep(s) is the line that names site s's store,
// for the configs after it (reloads) to share it.
func OnEachStore(t *testing.T, test func(t *testing.T, storeLine string, keep func(*Site) string)) {
	OnEachStoreAs(t, "", test)
}

// OnEachStoreAs is OnEachStore with the subtests named name+"badger" and
// name+"redis": for a test of several cases, each of them on both
// stores, all parts of the test itself (name "lookup/", say). A case
// that was a subtest of its own, whose parts are parallel, gave its slot
// back and its parts queued again behind every waiting test of the
// package (docs/TESTING.md, speed40b and speed41b).
func OnEachStoreAs(t *testing.T, name string, test func(t *testing.T, storeLine string, keep func(*Site) string)) {
	for _, kind := range []string{"badger", "redis"} {
		t.Run(name+kind, func(t *testing.T) {
			Parallel(t)
			storeLine := "store badger {DIR}"
			if kind == "redis" {
				storeLine = "store redis " + redistest.Server(t)
			}
			test(t, storeLine, func(s *Site) string {
				if kind == "redis" {
					return storeLine
				}
				return "store badger " + s.Store
			})
		})
	}
}

// OnEachStoreFirst runs test on Badger and on a redis-server of its own,
// each a subtest in parallel, with a StoreFirst of that kind: records
// written into st before the site opens it, closed (closeStore) first.
func OnEachStoreFirst(t *testing.T, test func(t *testing.T, st store.Store, closeStore func() error, storeLine string)) {
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			Parallel(t)
			st, closeStore, storeLine := StoreFirst(t, kind)
			test(t, st, closeStore, storeLine)
		})
	}
}

// StoreFirst opens a store of kind ("badger" or "redis": a redis-server
// of t's own) for t to write records into before a site opens it (an
// earlier release's, a damaged one), with the Caddyfile's line naming
// it. t closes it (closeStore) before the site starts: a Badger folder is
// one process's.
func StoreFirst(t *testing.T, kind string) (st store.Store, closeStore func() error, storeLine string) {
	t.Helper()
	var err error
	if kind == "badger" {
		dir := t.TempDir()
		st, closeStore, err = store.OpenBadger(dir)
		storeLine = "store badger " + dir
	} else {
		addr := redistest.Server(t)
		st, closeStore, err = store.OpenRedis(&store.Redis{Addresses: []string{addr}})
		storeLine = "store redis " + addr
	}
	if err != nil {
		t.Fatal(err)
	}
	return st, closeStore, storeLine
}
