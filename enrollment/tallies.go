package enrollment

import (
	"cmp"
	"context"
	"sync"
)

// shared are the Tallies the gates of this process hold (Strangers.Shared):
// one a realm on a store.
var shared struct {
	sync.Mutex
	list []*sharedTallies
}

// sharedTallies are a realm's Tallies on one store, and how many gates
// hold them.
type sharedTallies struct {
	realm, store, epoch string
	held                int
	t                   *Tallies
}

// Shared gives s the Tallies of realm's gates on its store in this
// process, and returns s: the store as written (storeID: its config's
// continuity.Identity), or holding the epoch record epoch (the store's
// continuity.Record.ID; "" unread): a Redis written by name at one gate
// and by number at another is one store, as the admin's tools take it. A
// realm's gates each kept tallies of their own: an address was given
// stranger_ip once a gate, N times with N gates (a site's host names or
// routes, each its own handler). The gate holds them until ctx is done
// (its config stopped); the last one's end forgets them. A reload's gates
// take them before the old ones let go (Caddy provisions the new config
// first, then stops the old), so the counts outlive a reload too. Each
// gate holds the shared counts to its own rates (two gates of a realm
// configured apart: the lower refuses first).
func (s *Strangers) Shared(ctx context.Context, realm, storeID, epoch string) *Strangers {
	shared.Lock()
	defer shared.Unlock()
	var held *sharedTallies
	for _, e := range shared.list {
		if e.realm == realm && (e.store == storeID || epoch != "" && e.epoch == epoch) {
			held = e
			break
		}
	}
	if held == nil {
		held = &sharedTallies{realm: realm, store: storeID, t: new(Tallies)}
		shared.list = append(shared.list, held)
	}
	held.held++
	held.epoch = cmp.Or(held.epoch, epoch)
	s.Tallies = held.t
	context.AfterFunc(ctx, held.release)
	return s
}

// release lets go of e for one gate: the last one's forgets it.
func (e *sharedTallies) release() {
	shared.Lock()
	defer shared.Unlock()
	if e.held--; e.held > 0 {
		return
	}
	for i, other := range shared.list {
		if other == e {
			shared.list = append(shared.list[:i], shared.list[i+1:]...)
			return
		}
	}
}
