package recent

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// stores are a Badger on disk (one store, two gates in one process) and
// a real redis-server (two clients: two Caddy instances).
func stores(t *testing.T) map[string]func() store.Store {
	addr := redistest.Server(t)
	dir := t.TempDir()
	var badger store.Store
	var once sync.Once
	return map[string]func() store.Store{
		"badger": func() store.Store {
			once.Do(func() {
				st, closeDB, err := store.OpenBadger(dir)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = closeDB() })
				badger = st
			})
			return badger
		},
		"redis": func() store.Store {
			st, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = closeRedis() })
			return st
		},
	}
}

// TestTwoInstancesShareTheRing: two gates adding events at once into one
// store lose none of them (up to Size), either reads both in time order,
// newest first, and the filters choose by user (or the admin who acted)
// and by the kind's beginning; past Size, the oldest go.
func TestTwoInstancesShareTheRing(t *testing.T) {
	t.Parallel()
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rings := []*Ring{{Store: open(), Realm: "example.com"}, {Store: open(), Realm: "example.com"}}
			start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			var wg sync.WaitGroup
			for i, r := range rings {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range 100 {
						r.Add(Event{Time: start.Add(time.Duration(2*n+i) * time.Second), Kind: "signed_in", User: fmt.Sprint("user", i)})
						if n%10 == 9 {
							if err := r.Flush(ctx); err != nil {
								t.Error(err)
							}
						}
					}
				}()
			}
			wg.Wait()
			rings[0].Add(Event{Time: start.Add(time.Hour), Kind: "admin_revoke", User: "bob", By: "alice"})
			all, err := rings[1].Read(ctx, Filter{}, 1000)
			if err != nil || len(all) != 200 {
				t.Fatalf("read %d, %v; want 200 (the other instance's last one is not flushed yet)", len(all), err)
			}
			all, err = rings[0].Read(ctx, Filter{}, 1000)
			if err != nil || len(all) != 201 || all[0].Kind != "admin_revoke" {
				t.Fatalf("read %d, %v, newest %+v", len(all), err, all[0])
			}
			for i := 1; i < len(all); i++ {
				if all[i].Time.After(all[i-1].Time) {
					t.Fatalf("not newest first at %d", i)
				}
			}
			if got, _ := rings[1].Read(ctx, Filter{User: "alice"}, 10); len(got) != 1 || got[0].User != "bob" {
				t.Fatalf("by alice: %+v", got)
			}
			if got, _ := rings[1].Read(ctx, Filter{User: "user1", Kind: "signed_"}, 1000); len(got) != 100 {
				t.Fatalf("user1's sign-ins: %d", len(got))
			}
			if got, _ := rings[1].Read(ctx, Filter{Kind: "admin_"}, 1000); len(got) != 1 {
				t.Fatalf("admin actions: %d", len(got))
			}
			// Past Size, the oldest go.
			for n := range Size {
				rings[1].Add(Event{Time: start.Add(2 * time.Hour).Add(time.Duration(n) * time.Second), Kind: "code_wrong"})
			}
			all, err = rings[1].Read(ctx, Filter{}, 2*Size)
			if err != nil || len(all) != Size || all[len(all)-1].Kind != "code_wrong" {
				t.Fatalf("after a burst: %d events, %v", len(all), err)
			}
		})
	}
}

// TestFlushKeepsWhatItCouldNotWrite: a store that fails loses no event;
// the next flush writes it.
func TestFlushKeepsWhatItCouldNotWrite(t *testing.T) {
	t.Parallel()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	r := &Ring{Store: failing{st}, Realm: "r"}
	r.Add(Event{Time: time.Now(), Kind: "signed_in"})
	if err := r.Flush(context.Background()); err == nil {
		t.Fatal("a failing store: no error")
	}
	r.Store = st
	if got, err := r.Read(context.Background(), Filter{}, 10); err != nil || len(got) != 1 {
		t.Fatalf("after the store came back: %+v, %v", got, err)
	}
}

// failing is a store whose Update fails.
type failing struct{ store.Store }

func (failing) Update(context.Context, string, func([]byte, bool) ([]byte, time.Duration, error)) error {
	return fmt.Errorf("down")
}
