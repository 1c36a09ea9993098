package session

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"
	"weak"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// Revocation news. Every revocation — a logout, or all of a user's
// sessions ended — is numbered by the store counter RevocationCounter and
// written for RevocationLogTTL as an entry of the revocation log: which
// realm, and which session or user. Every gate reads the counter at most
// every RevocationPoll and, when it moved, the entries since the last one
// it read (one batch), and forgets only the sessions they name. The rest
// of its cache stays: sessions it has checked keep working while the
// store cannot answer, however many people sign out elsewhere.
//
// An entry the gate cannot read empties its whole cache, as every
// revocation did before the log: one gone (the store was wiped, or the
// gate was away longer than the log keeps entries), one that is still
// missing at the next poll (its writer stopped between its two writes),
// or more than maxCatchUp at once.

// RevocationPoll bounds how long a revocation takes to reach every
// instance (and every gate on a shared store): each reads the revocation
// counter at most this often, never per request, and news reaches it at
// the first request after that (plus a round trip to the store).
const RevocationPoll = time.Second

// RevocationCounter is the store counter every gate watches: it numbers
// the revocation log's entries. (Gates of releases before the log watch it
// too, and empty their caches when it moves.)
const RevocationCounter = "revocations"

// RevocationLogTTL is how long an entry of the revocation log is kept: a
// gate that could not read the store for longer empties its cache.
const RevocationLogTTL = 10 * time.Minute

// maxCatchUp is the most entries a gate reads in one poll; further behind,
// it empties its cache instead.
const maxCatchUp = 1000

// revocation is an entry of the revocation log: a session (SID), all of
// a user's sessions (User), or every session of a trust (Trust) in Realm.
type revocation struct {
	Realm string `json:"r"`
	SID   string `json:"s,omitempty"`
	User  string `json:"u,omitempty"`
	// Trust: every session its token names as coming from, or having
	// made, this trust (Claims.Trust; endTrusts). A gate of an earlier
	// release reads such an entry as one it cannot read: it empties its
	// cache, and checks those sessions against the store again.
	Trust string `json:"b,omitempty"`
	// At is the time of a user's revocation record (Unix nanoseconds), so
	// that a gate that read it knows exactly which sessions it ended even
	// after the store forgot the record (coverage.revokes). Earlier
	// releases wrote none. In a device's end, the end's own.
	At int64 `json:"t,omitempty"`
	// Device, of user Of: every session its token names as earned by this
	// device (Claims.Device) issued until At ends
	// (EndDevice; the store's record: endkeys.Device). A gate of an
	// earlier release reads such an entry as one it cannot read, as one
	// of a trust.
	Device string `json:"d,omitempty"`
	Of     string `json:"o,omitempty"`
	// Keep, of a device's end, is the session it leaves (deviceEnd.Keep).
	Keep string `json:"k,omitempty"`
	// Mark, of a device's end, is the mark Keep adds with (deviceEnd.Mark),
	// so that a gate putting the end back keeps it.
	Mark string `json:"m,omitempty"`
}

// device is the key rv's device has among those the log ended ("" for
// none): its user's and its own ID.
func (rv revocation) device() deviceKey {
	if rv.Device == "" {
		return deviceKey{}
	}
	return deviceOf(rv.Of, rv.Device)
}

// names reports whether rv ends the session cl (its realm aside).
func (rv revocation) names(cl *Claims) bool {
	return (rv.SID != "" && cl.SID == rv.SID) || (rv.User != "" && cl.Subject == rv.User) ||
		(rv.Trust != "" && cl.Trust != nil && *cl.Trust == rv.Trust) || (rv.Device != "" && cl.Device != nil && *cl.Device == rv.Device && cl.Subject == rv.Of)
}

func revocationKey(n int64) string { return store.Key("revocation", strconv.FormatInt(n, 10)) }

// announce numbers rv and writes it to the log, and applies it at once
// to the gates of this process (see here). Its callers have written the
// revocation record itself before: a session forgotten here is checked
// against the store on its next use, and refused.
func announce(ctx context.Context, st store.Store, rv revocation) error {
	ms := applyHere(st, rv)
	n, err := st.Incr(ctx, RevocationCounter, 0)
	if err != nil {
		return err
	}
	for _, m := range ms {
		for w := m.wrote.Load(); w < n && !m.wrote.CompareAndSwap(w, n); w = m.wrote.Load() {
		}
	}
	raw, _ := json.Marshal(rv)
	// Lasting: on Redis with replicas, a failover must not lose the entry
	// (other instances would never forget the session) once logout answers.
	return st.Put(store.Lasting(ctx), revocationKey(n), raw, RevocationLogTTL)
}

// here is every Manager of this process. A revocation made in this
// process (an admin ending a session on the console, a reset through the
// admin API, a logout at one of several gates) reaches their caches at
// once instead of at the next poll: the poll waits at most pollWait for
// the store, so on a loaded machine the request after an admin's "end"
// could otherwise still be served from the cache. Other processes still
// learn it from the log within RevocationPoll. Weak pointers: a config
// Caddy replaced leaves no Manager held here.
var here struct {
	mu       sync.Mutex
	managers []weak.Pointer[Manager]
}

// listenHere adds m to here.
func listenHere(m *Manager) {
	here.mu.Lock()
	defer here.mu.Unlock()
	here.managers = slices.DeleteFunc(here.managers, func(p weak.Pointer[Manager]) bool { return p.Value() == nil })
	here.managers = append(here.managers, weak.Make(m))
}

// applyHere forgets what rv, written to st, names in the caches of this
// process's gates of its realm on st, as their next poll would.
// Forgetting is always safe: a forgotten session is only checked against
// the store again.
// It returns those gates.
func applyHere(st store.Store, rv revocation) []*Manager {
	here.mu.Lock()
	var ms []*Manager
	for _, p := range here.managers {
		if m := p.Value(); m != nil && m.realm == rv.Realm && store.Same(m.store, st) {
			ms = append(ms, m)
		}
	}
	here.mu.Unlock()
	for _, m := range ms {
		m.covered.add(m.now(), rv, m.lifetime)
		m.cache.Forget(rv.names)
	}
	return ms
}

// pollWait is the longest a request waits for the poll it started: a store
// that hangs (paused, not refusing) must not hold the request, which goes
// on with what the cache knows.
const pollWait = 100 * time.Millisecond

// syncRevocations applies the revocation news of the whole store since
// the last look; one call in RevocationPoll does the reading. now is in
// Unix nanoseconds. A clock that went back more than RevocationPoll since
// the last look polls at once too: else no poll would be due until the
// clock came back, and revocations made meanwhile at other instances would
// not reach the cache (TestRevocationsAfterTheClockWentBack). Not one that
// went back less: a call that read the clock just before another's poll
// must not poll again.
// Inlined where a repeat visit calls it: most calls only compare times.
// It reports false when the cache is not to be believed: a poll was due,
// and the owner has let go of the store (a gate after its Cleanup).
func (m *Manager) syncRevocations(ctx context.Context, now int64) bool {
	if uint64(now-m.polled.Load()+pollSlack) >= uint64(2*pollSlack) { // due, inlined
		return m.startPoll(ctx, now)
	}
	return true
}

// due reports whether a poll is due at now, the last at last: now is
// RevocationPoll or more after it, or more than RevocationPoll before it.
// One unsigned comparison: now-last+RevocationPoll in [0, 2·RevocationPoll)
// is not due.
func due(now, last int64) bool { return uint64(now-last+pollSlack) >= uint64(2*pollSlack) }

const pollSlack = int64(RevocationPoll)

// startPoll polls in the background, waiting at most pollWait for it,
// unless another call took the turn (polled moved). It reports false when
// the owner has let go of the store (a gate after its Cleanup): no poll
// will tell the cache of a revocation any more, and polled stays due.
func (m *Manager) startPoll(ctx context.Context, now int64) bool {
	last := m.polled.Load()
	if !due(now, last) || !m.polled.CompareAndSwap(last, now) {
		return true
	}
	if !m.pollMu.TryLock() {
		return true // the previous poll is still waiting for the store
	}
	if m.uses != nil && !m.uses.Enter() {
		m.polled.Store(last)
		m.pollMu.Unlock()
		return false
	}
	done := make(chan struct{})
	go func() {
		defer close(done) // after the unlock: a caller that saw it may poll again
		defer m.pollMu.Unlock()
		if m.uses != nil {
			defer m.uses.Release()
		}
		ctx, cancel := context.WithTimeout(store.WithoutBudget(context.WithoutCancel(ctx)), 30*time.Second)
		defer cancel()
		m.poll(ctx)
	}()
	select {
	case <-done:
	case <-time.After(m.pollWait):
	}
	return true
}

// poll reads the revocation log since the last entry read.
func (m *Manager) poll(ctx context.Context) {
	// What this process wrote, taken before the counter is read: an entry
	// written meanwhile is above the counter read, and no loss.
	w := m.wrote.Load()
	n, err := m.store.Counter(ctx, RevocationCounter)
	if err != nil {
		m.storeFault("reading the revocation counter", err)
		return
	}
	if m.faulty.Swap(false) {
		m.logger.Info("the store answers again: revocations are read again")
	}
	seen := m.seen.Load()
	// The log lost entries: the store was wiped (its epoch), its counter
	// went back, or it is below an entry this process wrote before it read
	// it (a Sentinel failover lost the last writes the old master took).
	if m.putBackDue.Swap(false) || n < seen || n < w {
		m.putBack(ctx)
		m.wrote.CompareAndSwap(w, 0)
	}
	switch {
	case n == seen:
		return
	case n < seen || n-seen > maxCatchUp:
		m.forgetAll(n) // a wiped store, or too far behind to catch up
		return
	}

	var b store.Batch
	ops := make([]*store.Op, 0, n-seen)
	for i := seen + 1; i <= n; i++ {
		ops = append(ops, b.Get(revocationKey(i)))
	}
	if err := store.Do(ctx, m.store, &b); err != nil {
		m.storeFault("reading the revocation log", err)
		return // read again at the next poll
	}
	sids, users, trusts, devices := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[deviceKey]bool{}
	upTo := n
	for i, op := range ops {
		var rv revocation
		if op.Err == nil && json.Unmarshal(op.Value, &rv) == nil && (rv.SID != "" || rv.User != "" || rv.Trust != "" || rv.Device != "") {
			if rv.Realm == m.realm {
				sids[rv.SID], users[rv.User], trusts[rv.Trust], devices[rv.device()] = true, true, true, true
				m.covered.add(m.now(), rv, m.lifetime)
			}
			continue
		}
		missing := seen + 1 + int64(i)
		if errors.Is(op.Err, store.ErrNotFound) && m.pending.Swap(missing) != missing {
			upTo = missing - 1 // perhaps still being written: look again at the next poll
			break
		}
		m.forgetAll(n)
		return
	}
	delete(sids, "")
	delete(users, "")
	delete(trusts, "")
	delete(devices, deviceKey{})
	if len(sids)+len(users)+len(trusts)+len(devices) > 0 {
		m.cache.Forget(func(cl *Claims) bool {
			return sids[cl.SID] || users[cl.Subject] || (cl.Trust != nil && trusts[*cl.Trust]) ||
				(len(devices) > 0 && devices[claimedDevice(cl)])
		})
	}
	m.seen.Store(upTo)
}

// forgetAll empties the cache and takes n as the last revocation seen;
// the log's coverage begins again.
func (m *Manager) forgetAll(n int64) {
	m.cache.Flush()
	m.covered.reset(m.now())
	m.seen.Store(n)
}

// StoreChanged empties the cache: the store is not the one its sessions
// were checked against (a wipe), so each is checked again; and which
// unmarked tokens count under the old names is read again at the next
// Reconcile (RereadRenamed).
func (m *Manager) StoreChanged() {
	m.cache.Flush()
	m.covered.reset(m.now())
	m.putBackDue.Store(true) // at the next poll
	m.polled.Store(0)
	m.renamed.stale.Store(true) // at the next Reconcile
}

// putBack writes the revocations this gate was told of (and that still
// matter: the sessions they end have not all expired) back into a store
// that forgot them (Redis restarted without persistence): the store's
// records, not this gate's memory, are what other instances and a
// restarted gate read. A record still there stays as it is; a user's
// revocation never moves back. A failure is logged: this gate still
// refuses those sessions from memory (coverage.revokes).
func (m *Manager) putBack(ctx context.Context) {
	sids, trusts, users := m.covered.known()
	now := m.now()
	var failed error
	// In batches (one round trip each on Redis: 20,000 one at a time took
	// ~20 s on a remote one). A session's only where the store holds none:
	// one still there may be an end's mark (end@<ns>), which a step-up
	// replacing the session reads (signin's afterTheMove); "announced" put
	// over it hid that end (endrace41). A trust's value is always 1.
	var b store.Batch
	flush := func() {
		if err := store.Do(ctx, m.store, &b); err != nil {
			failed = err
		}
		b = store.Batch{}
	}
	n := 0
	for sid, told := range sids {
		if ttl := told.Add(m.lifetime + Leeway).Sub(now); ttl > 0 {
			b.PutIfAbsent(endkeys.Session(m.realm, sid), []byte(revokedAnnounced), ttl)
			if n++; n%putBackBatch == 0 {
				flush()
			}
		}
	}
	for id, told := range trusts {
		// Without expiry, as the end wrote it (endkeys.Trust): a session
		// the trust signed while it ended may be another gate's, with a
		// longer session_lifetime than this one's.
		if told.Add(m.lifetime + Leeway).After(now) {
			b.Put(endkeys.Trust(m.realm, id), []byte{1}, 0)
			if n++; n%putBackBatch == 0 {
				flush()
			}
		}
	}
	flush()
	devices := m.covered.knownDevices()
	var ends []keyedEnd
	for key, d := range devices {
		if d.read.Add(m.lifetime + Leeway).After(now) { // a session it ends may still live
			ends = append(ends, keyedEnd{endkeys.Device(m.realm, key.user, key.id), d.end})
		}
	}
	// Every batch tried (every), as above: putBack is not run again (poll clears
	// what asked for it), so a batch left after a failed one was never
	// written, and other instances served the sessions it ends.
	if err := keepLaterDeviceEnds(ctx, m.store, ends, now, 0, true, nil); err != nil {
		failed = err
	}
	for user, at := range users {
		if err := revokeUserAt(ctx, m.store, m.realm, user, at); err != nil {
			failed = err
		}
	}
	if failed != nil {
		m.logger.Error("putting back revocations the store lost; this gate still refuses those sessions", zap.Error(failed))
	} else if len(sids)+len(trusts)+len(users)+len(devices) > 0 {
		m.logger.Warn("the store had lost revocations: this gate put back those it knew of",
			zap.Int("sessions", len(sids)), zap.Int("trusts", len(trusts)), zap.Int("users", len(users)), zap.Int("devices", len(devices)))
	}
}

// storeFault logs that the store could not answer a poll, once while it
// keeps failing (a poll a second would flood the log during an outage).
func (m *Manager) storeFault(what string, err error) {
	if !m.faulty.Swap(true) {
		m.logger.Error(what+"; sessions already checked here keep working until the store answers", zap.Error(err))
	}
}

// putBackBatch is how many revocation records putBack writes a round trip.
const putBackBatch = 500
