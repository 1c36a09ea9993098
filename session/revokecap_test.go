package session

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestTheCappedMessageNamesLeeway: the warning of a capped revoke names
// the cap, Leeway, in seconds, whatever Leeway is: it spelt "30 s" apart
// from it (close13). With Leeway made 45 s, it failed on the literal
// and passes on this message (checked).
func TestTheCappedMessageNamesLeeway(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.WarnLevel)
	now := time.Now()
	tellCapped(zap.New(core), nil, t.Name(), "alice", now.Add(Leeway+time.Minute), now) // a realm of its own: capTold
	want := fmt.Sprintf("capped at %d s past", int(Leeway.Seconds()))
	if told := logs.All(); len(told) != 1 || !strings.Contains(told[0].Message, want) {
		t.Errorf("the capped revoke told %v; want once, saying %q", told, want)
	}
}

// TestCappedRevokesOfTwoStoresAreToldApart: two gates of one realm name on
// two stores in one process (two sites, two Badger folders) each warn of
// their own capped revokes: the throttle was the realm's, so the first
// store's warning hid the second's for a minute (checked: the second was
// not told). Two handles on one Redis are one store, told once a minute.
func TestCappedRevokesOfTwoStoresAreToldApart(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.WarnLevel)
	now := time.Now()
	realm := t.Name() // a realm of its own: capTold is the process's
	for _, st := range []store.Store{storetest.Badger(t), storetest.Badger(t)} {
		tellCapped(zap.New(core), st, realm, "alice", now.Add(Leeway+time.Minute), now)
	}
	if n := logs.Len(); n != 2 {
		t.Errorf("two stores' capped revokes told %d times; want each store's once", n)
	}
	addr := redistest.Server(t)
	for range 2 {
		st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeStore() })
		tellCapped(zap.New(core), st, realm, "bob", now.Add(Leeway+time.Minute), now)
	}
	if n := logs.Len(); n != 3 {
		t.Errorf("one Redis (two handles) told %d times; want once", n-2)
	}
}
