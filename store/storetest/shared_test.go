package storetest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestASharedDatabaseIsATestsOwnAndComesBackEmpty: redistest.Shared gives
// each test a database no running test holds, and a database a test
// wrote into comes back to the next one empty (speed41b: the store tests
// share one redis-server, each in a database of its own).
func TestASharedDatabaseIsATestsOwnAndComesBackEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	written := -1
	t.Run("writes", func(t *testing.T) {
		addr, db := redistest.Shared(t)
		if _, other := redistest.Shared(t); other == db {
			t.Fatalf("two takes of one test both got database %d", db)
		}
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		defer c.Close()
		if err := c.Set(ctx, "left", "behind", 0).Err(); err != nil {
			t.Fatal(err)
		}
		written = db
	})
	t.Run("comes after", func(t *testing.T) {
		if written < 0 {
			t.Skip("nothing written")
		}
		for range 1024 { // the databases other tests hold meanwhile are not given
			addr, db := redistest.Shared(t)
			if db != written {
				continue
			}
			c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
			defer c.Close()
			if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
				t.Fatalf("database %d given again with %d keys (%v); want it emptied", db, n, err)
			}
			return
		}
		t.Fatalf("database %d was never given again", written)
	})
}
