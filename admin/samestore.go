package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/store"
)

// sameStore reports whether g's store is s's: written alike, or written
// two ways (a Redis by name and by number, say) that reach one store:
// else the realm's gates on it would be two realms, each settling the
// one record of each provisioned user against its own numbers, and
// ending her sessions at every load. Two spellings of a store hold one
// epoch record (continuity.Record.ID), but so do two stores copied byte
// for byte (one volume restored twice, a Redis started from another's
// dump): those are two, each settled against its own gates' numbers, and
// the admin's tools refuse the realm (pick's 409). So where the records
// agree, a record written through s's store must be read through g's
// (oneStore), once per pair of the config's gates.
func (s *Site) sameStore(g *Site) bool {
	if s.StoreID() == g.StoreID() {
		return true
	}
	id := s.Epoch.ID()
	return id != "" && id == g.Epoch.ID() && s.app.oneStore(s, g)
}

// storePair is two gates whose stores' records agree, in the order asked.
type storePair struct{ s, g *Site }

// oneStore reports whether a record s writes is read through g's store:
// asked once per pair of the app's gates (a's probes; none kept for a nil
// app). A store that fails the probe is taken as one, as the epoch
// records say (how it was before the probe: never two realms of one
// store), and asked again the next time.
func (a *App) oneStore(s, g *Site) bool {
	if a != nil {
		if one, ok := a.probes.Load(storePair{s, g}); ok {
			return one.(bool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), store.RequestTime())
	defer cancel()
	one, err := readsAcross(ctx, s.Store, g.Store)
	if err != nil {
		if _, told := a.probeFailed().LoadOrStore(storePair{s, g}, true); !told && s.Logger != nil {
			s.Logger.Warn("could not ask whether two gates of the realm whose stores hold one epoch record are on one store; taken as one",
				zap.String("store", continuity.Describe(s.StoreConfig)), zap.String("other", continuity.Describe(g.StoreConfig)), zap.Error(err))
		}
		return true
	}
	if a != nil {
		a.probes.Store(storePair{s, g}, one)
		a.probes.Store(storePair{g, s}, one)
	}
	return one
}

// probeFailed is the pairs whose probe failed and was logged: once per
// pair and config, not at every admin request while the store is away.
func (a *App) probeFailed() *sync.Map {
	if a == nil {
		return new(sync.Map)
	}
	return &a.probesFailed
}

// probeKey is where readsAcross writes (a minute at most).
const probeKey = "store-probe"

// readsAcross reports whether a record written to a is read from b.
func readsAcross(ctx context.Context, a, b store.Store) (bool, error) {
	if a == nil || b == nil {
		return false, errors.New("a gate has no store open")
	}
	key, token := store.Key(probeKey, rand.Text()), []byte(rand.Text())
	if _, err := a.PutIfAbsent(ctx, key, token, time.Minute); err != nil {
		return false, err
	}
	defer func() { _ = a.Delete(ctx, key) }() // else it expires
	got, err := b.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && bytes.Equal(got, token), err
}
