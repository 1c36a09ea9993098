// Package storewatch is a running gate's look at its store, every
// StoreWatch: whether the store is still the one the gate knew (package
// continuity: a wiped store freezes new enrollments) and which signing
// secret it holds (session.Manager.Reconcile: put back when lost, adopted
// when another instance made a new one). What it finds, it logs and emits
// as alarms.
package storewatch

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// StoreWatch is how often a running gate checks its store's epoch and
// secret: a wipe or a secret made elsewhere is noticed within it (a wipe
// at once, by an enrollment).
const StoreWatch = 2 * time.Second

// watchEvery is StoreWatch as the watch reads it (clock.Shorten).
var watchEvery = clock.NewWait("store-watch", StoreWatch)

// Watch is a gate's watch of its store.
type Watch struct {
	epoch    *continuity.Watch
	sessions *session.Manager
	log      *audit.Log
	stop     func()
	faulty   atomic.Bool  // the last check could not reach the store
	evicts   atomic.Bool  // the store's server was last seen set to evict keys
	replica  atomic.Bool  // a replica of it was last seen set to evict keys
	evicted  atomic.Int64 // its count of evicted keys, as last read (-1: none yet)
}

// evicting is a store that can tell whether it drops keys (a Redis).
type evicting interface {
	Evictions(context.Context) (store.Evictions, error)
}

// Open reads what the gate remembers of st (identity and former: its
// names, see continuity.Identity and continuity.Former) and checks it. It returns how long the sessions
// should wait for a running instance to put back a secret the store lost
// (only when the store was found wiped).
func Open(ctx context.Context, st store.Store, identity, former string, log *audit.Log, now func() time.Time) (*Watch, time.Duration, error) {
	w := &Watch{log: log}
	o := continuity.Options{Identity: identity, Former: former, Dir: continuity.Dir(),
		Probe: func(ctx context.Context) (bool, error) { return enrollment.AnyUsers(ctx, st) }, Now: now, Notice: w.noticed}
	w.evicted.Store(-1)
	if ev, ok := st.(evicting); ok {
		// A Redis: a device evicted freezes enrollment as a wipe does (see
		// continuity), a server set to evict since the start is an alarm,
		// and evictions put back the revocations this gate knows of.
		o.Evicted = func(ctx context.Context) (int64, error) {
			e, err := ev.Evictions(ctx)
			if err == nil {
				w.policyNoticed(e.Policy)
				w.replicaNoticed(e)
				w.evictionsNoticed(e.Evicted)
			}
			return e.Evicted, err
		}
	}
	e, _, err := continuity.Open(ctx, st, o)
	if err != nil {
		return nil, 0, errors.New("checking the store's epoch: " + err.Error())
	}
	if err := e.MarkerError(); err != nil {
		log.Logger.Warn("cannot remember the store in Caddy's data directory: after a restart, a wiped store would not be noticed", zap.Error(err))
	}
	w.epoch = e
	if e.Frozen() != nil {
		return w, 2 * watchEvery.Get(), nil
	}
	return w, 0, nil
}

// Epoch is the store's epoch as the gate knows it.
func (w *Watch) Epoch() *continuity.Watch { return w.epoch }

// Start runs the watch until Stop, reconciling sessions' secret.
func (w *Watch) Start(sessions *session.Manager) {
	w.sessions = sessions
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w.stop = func() { cancel(); <-done }
	go func() {
		defer close(done)
		tick := time.NewTicker(watchEvery.Get())
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				w.check(ctx)
			}
		}
	}()
}

// Stop ends a started watch.
func (w *Watch) Stop() {
	if w != nil && w.stop != nil {
		w.stop()
	}
}

// check is one look at the store: its epoch, then its secret.
func (w *Watch) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := w.epoch.Check(ctx)
	if err == nil {
		var sc session.SecretChange
		if sc, err = w.sessions.Reconcile(ctx); err == nil {
			w.secretNoticed(sc)
		}
	}
	switch {
	case err != nil && !w.faulty.Swap(true):
		w.log.Logger.Warn("checking the store's epoch and secret", zap.Error(err))
	case err == nil && w.faulty.Swap(false):
		w.log.Logger.Info("the store answers the watch again")
	}
}

// noticed logs what a check of the epoch found (the watch's own, or an
// enrollment's), loudly when the store was frozen, and makes the
// sessions' cache follow a new epoch: as the check ends, before the
// epoch shows what it found (continuity.Options.Notice), so that no page
// refuses an enrollment for a freeze not yet in the log.
func (w *Watch) noticed(ch continuity.Change) {
	if ch.Renewed && w.sessions != nil {
		w.sessions.StoreChanged()
	}
	switch {
	case ch.Frozen != nil:
		w.log.Alarm(zap.ErrorLevel, "store_frozen", "the store lost its data: new users cannot enroll until an admin accepts the new state "+
			"(caddy smsgate accept-store) or imports an export", zap.String("reason", ch.Frozen.Reason), zap.Time("since", ch.Frozen.Since))
	case ch.Accepted != "":
		w.log.Alarm(zap.InfoLevel, "store_accepted", "an admin accepted the store's new state: enrollment goes on", zap.String("how", ch.Accepted))
	case ch.Renewed:
		w.log.Alarm(zap.WarnLevel, "store_renewed", "the store was emptied, but had held no users: starting afresh")
	}
}

// policyNoticed raises the alarm when the store's server turns to a
// maxmemory-policy that evicts keys, which the start refuses (store.Redis):
// set so since (CONFIG SET, or a failover to a replica set up otherwise),
// it may drop a revocation before another instance reads it. Once, and
// once more when it is set back.
func (w *Watch) policyNoticed(policy string) {
	switch evicts := store.Evicts(policy); {
	case evicts && !w.evicts.Swap(true):
		w.log.Alarm(zap.ErrorLevel, "store_evicts", "the store's Redis now evicts keys when its memory is full: a revoked session's "+
			"record could be dropped and the session let in again at another instance, a device lost; set maxmemory-policy noeviction",
			zap.String("policy", policy))
	case !evicts && policy != "" && w.evicts.Swap(false):
		w.log.Alarm(zap.InfoLevel, "store_keeps", "the store's Redis no longer evicts keys", zap.String("policy", policy))
	}
}

// replicaNoticed raises the alarm when a replica of the store's server
// is set to evict keys, which the start refuses (store.Redis): set so
// since, or attached since, it would be an evicting master after a
// failover. Once, and once more when every replica was read and none
// evicts.
func (w *Watch) replicaNoticed(e store.Evictions) {
	switch {
	case e.Replica != "" && !w.replica.Swap(true):
		w.log.Alarm(zap.ErrorLevel, "store_replica_evicts", "a replica of the store's Redis evicts keys when its memory is full: "+
			"a failover would make it a master that drops a revoked session's record or a device; set maxmemory-policy noeviction on it",
			zap.String("replica", e.Replica), zap.String("policy", e.ReplicaPolicy))
	case e.Replica == "" && e.ReplicasRead && w.replica.Swap(false):
		w.log.Alarm(zap.InfoLevel, "store_replica_keeps", "no replica of the store's Redis evicts keys now")
	}
}

// evictionsNoticed makes the sessions follow a store that evicted keys
// since the last look (n is its count): a session's revocation record may
// be gone, so every cached session is checked again and this gate puts
// back the revocations it knows of (session.StoreChanged), at its next
// poll, for the other instances to read. One it never read, evicted
// before any gate read it, stays lost: hence the refusal at start.
func (w *Watch) evictionsNoticed(n int64) {
	if last := w.evicted.Swap(n); last >= 0 && n > last && w.sessions != nil {
		w.sessions.StoreChanged()
	}
}

// secretNoticed logs what Reconcile did.
func (w *Watch) secretNoticed(sc session.SecretChange) {
	switch sc {
	case session.SecretRestored:
		w.log.Alarm(zap.WarnLevel, "secret_restored", "the store had lost the signing secret: this instance put its own back, so that instances still agree")
	case session.SecretAdopted:
		w.log.Alarm(zap.ErrorLevel, "secret_adopted", "the store's signing secret changed (another instance made a new one): this instance signs with it now; "+
			"sessions and codes made with the old one end. Set signing_key from the environment on every instance to avoid this")
	}
}
