package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/signin"
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
// store), and that answer is kept for the rest of the attempt (the
// config's start, then each of the settle's retries: regroup), so one
// load waits out at most one request budget per pair on a store that
// hangs, and the admin's tools answer as the settle grouped the gates.
func (a *App) oneStore(s, g *Site) bool {
	if a != nil {
		if one, ok := a.probes.Load(storePair{s, g}); ok {
			return one.(bool)
		}
		if _, failed := a.probesFailed.Load(storePair{s, g}); failed {
			return true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), store.RequestTime())
	defer cancel()
	one, err := readsAcross(ctx, s.Store, g.Store)
	if err != nil {
		if a != nil {
			a.probesFailed.Store(storePair{s, g}, true)
			a.probesFailed.Store(storePair{g, s}, true)
		}
		_, told := a.probesTold().LoadOrStore(storePair{s, g}, true)
		a.probesTold().Store(storePair{g, s}, true) // asked from either side, told once
		if !told && s.Logger != nil {
			s.Logger.Warn("could not ask whether two gates of the realm whose stores hold one epoch record are on one store; taken as one until the settle asks again",
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

// probesTold is the pairs whose failed probe was logged: once per pair
// and config, not at every retry while the store is away.
func (a *App) probesTold() *sync.Map {
	if a == nil {
		return new(sync.Map)
	}
	return &a.probesLogged
}

// unsure reports whether a probe of one of sites failed in this attempt:
// their grouping is a guess, which the settle does not act on.
func (a *App) unsure(sites []*Site) bool {
	found := false
	a.probesFailed.Range(func(k, _ any) bool {
		found = slices.Contains(sites, k.(storePair).s)
		return !found
	})
	return found
}

// regroup starts a new attempt for the gates of rs where a probe of
// theirs failed (at the start, or the attempt before): those probes are
// asked again and, where every one answers now, their realms are built
// again and each gate is given its realm's numbers (GiveNumbers), before
// the settle; else rs as they were, and false. rs as they are where no
// probe of theirs failed.
func (a *App) regroup(rs []realmSettle) ([]realmSettle, bool) {
	var sites []*Site
	for _, r := range rs {
		sites = append(sites, r.sites...)
	}
	if !a.unsure(sites) {
		return rs, true
	}
	a.probesFailed.Range(func(k, _ any) bool {
		if p := k.(storePair); slices.Contains(sites, p.s) || slices.Contains(sites, p.g) {
			a.probesFailed.Delete(k)
		}
		return true
	})
	regrouped := a.realmsOf(sites)
	if a.unsure(sites) {
		return rs, false
	}
	for _, r := range regrouped {
		for _, g := range r.gates {
			g.GiveNumbers(r.given)
			g.GiveAdmins(signin.AdminsOf(r.gates))
		}
	}
	return regrouped, true
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
