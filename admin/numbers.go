package admin

import (
	"cmp"
	"context"
	"slices"

	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
)

// giveNumbers builds the config's realms once (realmsOf: each realm's gates
// on one store, with the numbers they give each provisioned user, their
// union), which the settle then keeps (settleProvisioned; a realm built
// on a failed probe is built again by the retry: regroup), and hands each
// gate its realm's numbers: a session or a trust that a config's phone
// earned stands at a gate only while one of them is its number
// (signin.Service.GiveNumbers). Before, each gate knows its own `user`
// lines, which the union holds: a gate's numbers only grow (but where the
// retry's regroup splits a realm a failed probe had joined). Each gate's
// settle lock is fixed now, for the config's life (settleKey): the
// config before's for a realm on a store it served (inherited).
func (a *App) giveNumbers() {
	a.settles = a.realmsOf(a.all())
	ctx, cancel := context.WithTimeout(context.Background(), store.RequestTime())
	defer cancel() // one budget for every realm's re-read (inherited)
	for i, r := range a.settles {
		r.key = a.inherited(ctx, r)
		a.settles[i].key = r.key
		for j, g := range r.gates {
			g.GiveNumbers(r.given)
			g.GiveAdmins(signin.AdminsOf(r.gates)) // an admin's invite stands while one names her (minted37)
			r.sites[j].lockKey = r.key
		}
	}
}

// inherited is the key of r's settle lock: that of the config that
// started last, where it served r's realm on one of r's stores (alike
// spelled, or holding the epoch record one of r's gates read), else r's
// own. Else an accept-store (a new epoch ID: storeKey) between the two
// starts gave the older config's settle retry and the newer's settle
// two locks, and both ran at once. Where none matches but that config
// served the realm, the gates read the epoch record again first: an
// accept by another instance is seen by this one's watch within its look
// (2 s), so the older config's gates could still hold the ID it replaced
// (review17 L3). Those re-reads share ctx, one request budget for the
// whole start (every realm's), and none waits past it for a watch busy
// with its own look (a dead store holds it up to 10 s): a gate not read
// in time is taken as not matching, its own lock kept, so the two
// settles may overlap at that reload, as before review17 L3 (review19 M1).
func (a *App) inherited(ctx context.Context, r realmSettle) string {
	last := settling.latest.Load()
	if last == nil || last == a {
		return r.key
	}
	key, served := last.served(r)
	if key != "" || !served {
		return cmp.Or(key, r.key)
	}
	sites := slices.Clone(r.sites) // each gate read once
	for _, o := range last.settles {
		if o.realm == r.realm {
			for _, s := range o.sites {
				if !slices.Contains(sites, s) {
					sites = append(sites, s)
				}
			}
		}
	}
	for _, s := range sites {
		if s.Epoch != nil && ctx.Err() == nil {
			_, _ = s.Epoch.Reread(ctx) // a failure leaves the ID as it was read
		}
	}
	key, _ = last.served(r)
	return cmp.Or(key, r.key)
}

// served is the key of the settle lock a's config took for r's realm on
// one of r's stores ("" for none), and whether it served that realm.
func (a *App) served(r realmSettle) (key string, realm bool) {
	for _, o := range a.settles {
		if o.realm != r.realm {
			continue
		}
		realm = true
		if slices.ContainsFunc(o.sites, func(old *Site) bool {
			return slices.ContainsFunc(r.sites, func(s *Site) bool { return s.StoreID() == old.StoreID() || s.storeKey() == old.storeKey() })
		}) {
			return o.key, true
		}
	}
	return "", realm
}
