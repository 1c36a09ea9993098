package admin

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAReloadSpelledAnotherWayAfterAnotherInstancesAcceptWaitsForTheOlderSettle:
// as TestAReloadAfterAcceptStoreWaitsForTheOlderSettle, but the accept is
// another instance's (this one's watch would read it within 2 s) and the
// reload names the store another way (a link to its folder): the reload's
// gates read the epoch record again where nothing matched (inherited),
// find the older config's store, and take its lock. Before (review17
// L3), the older config's gate still held the replaced ID, nothing
// matched, and both settles ran at once. (A trailing slash is no other
// name: continuity.Identity names Badger by its folder, cleaned.)
func TestAReloadSpelledAnotherWayAfterAnotherInstancesAcceptWaitsForTheOlderSettle(t *testing.T) {
	settleRetryOnBadgerAndRedis(t, reloadRespelledAfterAnotherInstancesAccept)
}

func reloadRespelledAfterAnotherInstancesAccept(t *testing.T, backing store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &settleWatch{Store: backing, in: make(chan struct{}), release: make(chan struct{})}
	released := sync.OnceFunc(func() { close(st.release) })
	defer released()
	older, _ := carolsConfig(ctx, t, st, "+14155552671", "/r")
	other, _, err := continuity.Open(ctx, st, continuity.Options{}) // another instance's watch
	if err != nil {
		t.Fatal(err)
	}
	st.retryAcrossAccept(ctx, t, older, other)
	newer, _ := carolsConfig(ctx, t, st, "+447400123456", "/r-link") // the same folder, by a symbolic link
	newer.settleProvisioned()
	if n := st.highest.Load(); n > 1 {
		t.Errorf("the reload's settle ran while the older retry held the realm: %d at once (keys %q, %q)", n, older.settles[0].key, newer.settles[0].key)
	}
	released()
	cancel()
	time.Sleep(300 * time.Millisecond) // the retries see the config stopped
}
