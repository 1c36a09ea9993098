package caddymodule

// The store watch: while the gate runs, it asks every StoreWatch whether
// its store is still the one it knew (package continuity: a wiped store
// freezes new enrollments) and agrees with the store on the signing secret
// (session.Manager.Reconcile: put back when lost, adopted when another
// instance made a new one).

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
)

// StoreWatch is how often a running gate checks its store's epoch and
// secret: a wipe or a secret made elsewhere is noticed within it (a wipe
// at once, by an enrollment).
const StoreWatch = 2 * time.Second

// storeWatch is a gate's watch of its store.
type storeWatch struct {
	epoch  *continuity.Watch
	stop   func()
	faulty atomic.Bool // the last check could not reach the store
}

// openWatch reads what the gate remembers of its store and checks it. It
// returns how long to wait for a running instance to put back a secret the
// store lost (only when the store was found wiped).
func (g *Gate) openWatch(ctx context.Context) (time.Duration, error) {
	w, ch, err := continuity.Open(ctx, g.store, continuity.Options{Identity: g.storeID,
		Dir: continuity.Dir(), Probe: func(ctx context.Context) (bool, error) { return enrollment.AnyUsers(ctx, g.store) }, Now: g.now})
	if err != nil {
		return 0, errors.New("checking the store's epoch: " + err.Error())
	}
	if err := w.MarkerError(); err != nil {
		g.logger.Warn("cannot remember the store in Caddy's data directory: after a restart, a wiped store would not be noticed", zap.Error(err))
	}
	g.watch = &storeWatch{epoch: w}
	g.noticed(ch)
	if w.Frozen() != nil {
		return 2 * StoreWatch, nil
	}
	return 0, nil
}

// startWatch runs the watch until Cleanup, and makes every key derived
// from the secret follow when the gate adopts the store's.
func (g *Gate) startWatch() {
	g.sessions.OnNewSecret(func(secret []byte) {
		if _, err := g.deriveKeys(secret); err != nil {
			g.logger.Error("deriving keys from the store's new secret", zap.Error(err))
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	g.watch.stop = func() { cancel(); <-done }
	go func() {
		defer close(done)
		tick := time.NewTicker(StoreWatch)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				g.checkStore(ctx)
			}
		}
	}()
}

// deriveKeys makes (or, for a new secret, re-keys) the keys derived from
// the signing secret: flows, known browsers, the flow seal, apps' secrets,
// code hashes. It returns the apps' sealer.
func (g *Gate) deriveKeys(secret []byte) (*session.Sealer, error) {
	if g.flows == nil {
		g.flows = session.NewKeys(session.Derive(secret, "flow"), g.now)
		g.known = session.NewKeys(session.Derive(secret, "known browser"), g.now).WithType("smsgate-known+jwt")
		sealer, err := session.NewSealer(session.Derive(secret, "flow seal"))
		if err != nil {
			return nil, err
		}
		g.sealer = sealer
		return session.NewSealer(session.Derive(secret, "app secrets"))
	}
	g.flows.Rekey(session.Derive(secret, "flow"))
	g.known.Rekey(session.Derive(secret, "known browser"))
	if err := g.sealer.Rekey(session.Derive(secret, "flow seal")); err != nil {
		return nil, err
	}
	g.admin.Rekey(session.Derive(secret, "code"))
	apps, _ := g.admin.Secrets.(*session.Sealer)
	if apps != nil {
		return apps, apps.Rekey(session.Derive(secret, "app secrets"))
	}
	return nil, nil
}

// checkStore is one look at the store: its epoch, then its secret.
func (g *Gate) checkStore(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ch, err := g.watch.epoch.Check(ctx)
	if err == nil {
		g.noticed(ch)
		var sc session.SecretChange
		if sc, err = g.sessions.Reconcile(ctx); err == nil {
			g.secretNoticed(sc)
		}
	}
	switch {
	case err != nil && !g.watch.faulty.Swap(true):
		g.logger.Warn("checking the store's epoch and secret", zap.Error(err))
	case err == nil && g.watch.faulty.Swap(false):
		g.logger.Info("the store answers the watch again")
	}
}

// noticed logs what a check of the epoch found, loudly when the store was
// frozen, and makes the sessions' cache follow a new epoch.
func (g *Gate) noticed(ch continuity.Change) {
	if ch.Renewed && g.sessions != nil {
		g.sessions.StoreChanged()
	}
	switch {
	case ch.Frozen != nil:
		g.alarm(zap.ErrorLevel, "store_frozen", "the store lost its data: new users cannot enroll until an admin accepts the new state "+
			"(caddy smsgate accept-store) or imports an export", zap.String("reason", ch.Frozen.Reason), zap.Time("since", ch.Frozen.Since))
	case ch.Accepted != "":
		g.alarm(zap.InfoLevel, "store_accepted", "an admin accepted the store's new state: enrollment goes on", zap.String("how", ch.Accepted))
	case ch.Renewed:
		g.alarm(zap.WarnLevel, "store_renewed", "the store was emptied, but had held no users: starting afresh")
	}
}

// secretNoticed logs what Reconcile did.
func (g *Gate) secretNoticed(sc session.SecretChange) {
	switch sc {
	case session.SecretRestored:
		g.alarm(zap.WarnLevel, "secret_restored", "the store had lost the signing secret: this instance put its own back, so that instances still agree")
	case session.SecretAdopted:
		g.alarm(zap.ErrorLevel, "secret_adopted", "the store's signing secret changed (another instance made a new one): this instance signs with it now; "+
			"sessions and codes made with the old one end. Set signing_key from the environment on every instance to avoid this")
	}
}
