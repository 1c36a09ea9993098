package enrollment

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// heldAfterPut holds a caller whose context it marked (heldPutKey) right
// after its first write of key (a Put, or a PutAll that holds it), until
// released. It is a store.AllOrNothing where its store is one, so that an
// import writes as it would on that store.
type heldAfterPut struct {
	store.Store
	key              string
	once             sync.Once
	reached, release chan struct{}
}

type heldPutKey struct{}

func (h *heldAfterPut) hold(ctx context.Context, key string) {
	if key == h.key && ctx.Value(heldPutKey{}) == h {
		h.once.Do(func() { close(h.reached); <-h.release })
	}
}

func (h *heldAfterPut) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	err := h.Store.Put(ctx, key, value, ttl)
	h.hold(ctx, key)
	return err
}

func (h *heldAfterPut) PutAll(ctx context.Context, records map[string][]byte, read ...string) (map[string][]byte, error) {
	a, ok := h.Store.(store.AllOrNothing)
	if !ok {
		return nil, store.ErrNoTransaction
	}
	held, err := a.PutAll(ctx, records, read...)
	if _, ok := records[h.key]; ok && err == nil {
		h.hold(ctx, h.key)
	}
	return held, err
}

// TestAnImportBringsBackNoRemovedPhoneBeforeItsSweep: alice's export holds
// her phones a and b; she removes a (buried: tombstones.go); then the
// admin imports that export, held right after it writes her device list,
// before its sweep. In that moment her list does not hold a: the import
// took it out before it wrote (honourTombstones), and a sign-in with it
// (which finds it in her list: Devices.Find) is not let in. The sweep
// after the write would take it out too, but only after: without
// honourTombstones, a was listed again in between. Then b alone stays,
// and the import tells of one device not restored. On Badger and on a
// real Redis.
func TestAnImportBringsBackNoRemovedPhoneBeforeItsSweep(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	onRaceStores(t, func(t *testing.T, st store.Store) {
		h := &heldAfterPut{Store: st, key: deviceKey(realm, alice), reached: make(chan struct{}), release: make(chan struct{})}
		s, _, _ := raceService(t, h)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		putDevices(t, s.Devices, alice,
			Device{ID: "a", Name: "A", Phone: num, Enrolled: earlier},
			Device{ID: "b", Name: "B", Phone: "+14155550100", Enrolled: earlier})
		export, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		records := slices.DeleteFunc(export, func(r Record) bool { return r.Key != deviceKey(realm, alice) })
		if len(records) != 1 {
			t.Fatalf("the export holds %d device lists of alice's", len(records))
		}
		if _, err := s.Devices.Remove(ctx, realm, alice, "a", false); err != nil {
			t.Fatal(err)
		}
		var done Imported
		imported := make(chan error, 1)
		go func() {
			var err error
			done, err = admin.Import(context.WithValue(ctx, heldPutKey{}, h), records)
			imported <- err
		}()
		select {
		case <-h.reached:
		case err := <-imported:
			t.Fatalf("the import wrote no device list of alice's: %v", err)
		}
		list, err := s.Devices.List(ctx, realm, alice)
		if err != nil {
			t.Fatal(err)
		}
		found, err := s.Devices.Find(ctx, realm, alice, "a")
		if err != nil {
			t.Fatal(err)
		}
		close(h.release)
		if err := <-imported; err != nil {
			t.Fatal(err)
		}
		if byID(list, "a") != nil || found != nil {
			t.Errorf("between the import's write and its sweep, the removed phone is listed again (found for a sign-in: %v): %v", found != nil, list)
		}
		after, err := s.Devices.List(ctx, realm, alice)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != 1 || after[0].ID != "b" || done.NotRestored.Devices != 1 {
			t.Errorf("after the import: %v, told %+v; want b alone, one device not restored", after, done.NotRestored)
		}
	})
}
