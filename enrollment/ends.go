package enrollment

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// The ends of sessions an export carries (endkeys.Carried) are the
// records that end one session (a logout, the admin's end of a session:
// endkeys.Session, kept for the session's remaining life) or every
// session of one trust (the admin's end of a trust: endkeys.Trust, kept
// with no expiry) or of one removed device (endkeys.Device, kept
// session.LongestLifetime past the removal; no expiry when a previous
// release wrote it): the live ones, with when each expires (Record.Until).
// With them, and as them, the records of which session replaced another
// (endkeys.ReplacedBy: a step-up's, kept for the replaced session's
// remaining life), which an end of the replaced session follows
// (endrace41: before, an end after an import ended the old session alone
// and the one its step-up made lived); announced as nothing, counted as
// no end.
// After a move with the signing key (`--with-keys`, or the same
// signing_key), a copy of a logged-out session was live again on the new
// store, which held no end.

// isEnd reports whether key is a record of those ends.
func isEnd(key string) bool {
	for _, p := range endkeys.Carried {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// scanEnds calls fn with each record of ends under prefix and when it
// expires, as the store says (store.Expiring: Badger, Redis); a store
// that cannot say gives none, and the record is carried without one,
// which keeps it longer, never shorter. Those already expired are left
// out.
func scanEnds(ctx context.Context, st store.Store, prefix string, fn func(key string, value []byte, expires time.Time) error) error {
	e, ok := st.(store.Expiring)
	if !ok {
		return st.Scan(ctx, prefix, func(key string, value []byte) error { return fn(key, value, time.Time{}) })
	}
	now := time.Now() // the store's clock: expiries are real time
	return e.ScanExpiring(ctx, prefix, func(key string, value []byte, expires time.Time) error {
		if !expires.IsZero() && !expires.After(now) {
			return nil
		}
		return fn(key, value, expires)
	})
}

// exportEnds appends realm's live ends (every realm's when realm is "")
// to out, their values as Export writes any other.
func exportEnds(ctx context.Context, st store.Store, realm string, out []Record) ([]Record, error) {
	for _, prefix := range endkeys.Carried {
		if realm != "" {
			prefix = endkeys.In(prefix, realm)
		}
		err := scanEnds(ctx, st, prefix, func(key string, value []byte, expires time.Time) error {
			r := record(key, value)
			if !expires.IsZero() {
				r.Until = &expires
			}
			out = append(out, r)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// record is key's value in an export: as it is where it is JSON, else
// (a signing secret, an end's mark) as base64 under "b64:"+key.
func record(key string, value []byte) Record {
	if json.Valid(value) {
		return Record{Key: key, Value: value}
	}
	v, _ := json.Marshal(value)
	return Record{Key: "b64:" + key, Value: v}
}

// stored is r's key and value as the store holds them (record's inverse).
func (r Record) stored() (key string, value []byte, err error) {
	key, value = r.Key, []byte(r.Value)
	if k, ok := strings.CutPrefix(key, "b64:"); ok {
		var raw []byte
		if json.Unmarshal(value, &raw) != nil {
			return "", nil, &ImportError{Key: r.Key}
		}
		key, value = k, raw
	}
	return key, value, nil
}

// end is one record of ends an import carries.
type end struct {
	key   string
	value []byte
	until time.Time // zero: no expiry
}

// keepLaterEnds writes the ends an import carries for what is left of
// each (one already over is not written), each unless the store holds it
// ending as late or later: where the store holds it ending earlier, its
// value stays (whether its logout was announced is the store's) and it
// lasts as long as the file's. The scan (heldEnds) spares the writes of
// those the store holds ending later; the write decides again in one
// step (store.KeepLonger), so that one a gate wrote meanwhile ending later
// (a logout, an admin's end of a trust: no expiry, a gate putting back the
// ends the store lost: its own session_lifetime) is never made to end
// sooner. A device's end is merged as the removal writes it instead
// (session.KeepLaterDeviceEnds, a batch of compare-and-sets a round trip,
// each batch with a request's store budget): the later removal wins,
// whatever the expiries say (each is its removal's plus
// session.LongestLifetime; none, one of the previous release). Each is
// announced by the rule of every end an import carries (tell): one
// written, and one the store holds as the file has it (a device's: the
// same removal; a session's or a trust's: ending when the file's does,
// heldAsFiled), which an import that failed before announcing it wrote.
// Before the other records, as keepLaterRevoked: a later end is never
// wrong to keep. An export of an earlier release carries none, and
// imports as before.
func (s *Admin) keepLaterEnds(ctx context.Context, list []end) (int, error) {
	kept, err := s.keepLaterDeviceEnds(ctx, list)
	if err != nil {
		return kept, err
	}
	held, err := s.heldEnds(ctx, list)
	if err != nil {
		return kept, err
	}
	for _, e := range list {
		if strings.HasPrefix(e.key, endkeys.DevicePrefix) {
			continue // kept above
		}
		left := time.Duration(0)
		if !e.until.IsZero() {
			if left = time.Until(e.until); left <= 0 {
				continue
			}
		}
		k := session.EndLeft
		switch h, ok := held[e.key]; {
		case ok && heldAsFiled(h, e.until):
			k = session.EndHeld
		case ok && (h.IsZero() || !e.until.IsZero() && !e.until.After(h)):
			// ending later: left
		default:
			put := store.Lasting(store.WithBudget(ctx, store.RequestTime()))
			wrote, err := store.KeepLonger(put, s.Store, e.key, e.value, left)
			if err != nil {
				return kept, fmt.Errorf("writing a session's end: %w", err)
			}
			if wrote { // else one ending later was written meanwhile, and announced
				k = session.EndWritten
			}
		}
		if err := s.tell(ctx, e.key, e.value, k); err != nil {
			return kept, fmt.Errorf("announcing a session's end (%s): %w", writtenUntold, err)
		}
		if k == session.EndWritten && !strings.HasPrefix(e.key, endkeys.ReplacedByPrefix) {
			kept++ // written and announced, as a user's revocation is counted
		}
	}
	return kept, nil
}

// heldAsFiled reports whether an end the store holds expiring at held
// (zero: never) is the file's, expiring at until: both never (a trust's),
// or at the same second (Badger keeps expiries in whole seconds; on Redis
// the store's expiry read back is a few milliseconds off).
func heldAsFiled(held, until time.Time) bool {
	return held.IsZero() == until.IsZero() && held.Sub(until).Abs() < time.Second
}

// tell announces an end the import kept as k, by the rule of every end it
// carries (session.EndKept): one it wrote, and one the store holds as the
// file has it (left untold by an import that wrote it and then failed),
// never one the store holds ending later (what wrote that announced it).
func (s *Admin) tell(ctx context.Context, key string, value []byte, k session.EndKept) error {
	if k == session.EndLeft {
		return nil
	}
	return s.announce(ctx, key, value)
}

// keepLaterDeviceEnds writes the devices' ends of list (keepLaterEnds),
// announcing each by tell's rule (session.KeepLaterDeviceEnds says which
// it wrote and which the store holds as it is: the same removal's), and
// counts those written and announced.
func (s *Admin) keepLaterDeviceEnds(ctx context.Context, list []end) (kept int, err error) {
	var ends []session.StoredEnd
	for _, e := range list {
		if strings.HasPrefix(e.key, endkeys.DevicePrefix) {
			ends = append(ends, session.StoredEnd{Key: e.key, Value: e.value})
		}
	}
	if len(ends) == 0 {
		return 0, nil
	}
	what := "writing"
	kept, err = session.KeepLaterDeviceEnds(ctx, s.Store, ends, s.Now(), func(e session.StoredEnd, k session.EndKept) error {
		err := s.tell(ctx, e.Key, e.Value, k)
		if err != nil {
			what = "announcing"
		}
		return err
	})
	if err != nil && what == "announcing" {
		return kept, fmt.Errorf("announcing a device's end (%s): %w", writtenUntold, err)
	} else if err != nil {
		return kept, fmt.Errorf("writing a device's end: %w", err)
	}
	return kept, nil
}

// writtenUntold says of an end an import wrote whose announcement failed that
// it is in the store, uncounted: the import run again announces it
// (session.EndHeld).
const writtenUntold = "written, not announced: the import run again announces it"

// heldEnds is when each end the store holds expires, of the realms and
// kinds of list's ends only (a device's end aside: keepLaterDeviceEnds
// reads those): a scan of each such realm's ends of each
// such kind, not of every realm's (a store that many sites share), and
// none for an import that carries no end. A key that names no realm is
// looked for by itself (a scan under the key).
func (s *Admin) heldEnds(ctx context.Context, list []end) (map[string]time.Time, error) {
	held, scanned := map[string]time.Time{}, map[string]bool{}
	for _, e := range list {
		if strings.HasPrefix(e.key, endkeys.DevicePrefix) {
			continue // keepLaterDeviceEnds reads its own
		}
		prefix, ok := endkeys.RealmPrefix(e.key)
		if !ok {
			prefix = e.key
		}
		if scanned[prefix] {
			continue
		}
		scanned[prefix] = true
		if err := scanEnds(ctx, s.Store, prefix, func(key string, _ []byte, expires time.Time) error {
			held[key] = expires
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return held, nil
}

// keepLaterRevoked writes a user's revocation an import carries (value, a
// JSON instant) unless the store holds a later one, or one unreadable
// (which ends every session: the stricter), in one atomic step: a
// revocation never moves back (session's revokeUserAt). Written over, an
// export taken before a revoke (a restore; an import running while the
// user was revoked) brought back the sessions that revoke had ended, at
// every gate that had not read it in the log. Before the other records,
// as keepEarlierRenamed: the later of two is never wrong to keep. It is
// announced by tell's rule: written, or held as the file has it (the same
// instant).
func (s *Admin) keepLaterRevoked(ctx context.Context, key string, value []byte) error {
	var at time.Time
	_ = json.Unmarshal(value, &at) // checked before anything was written
	k := session.EndLeft
	err := s.Store.Update(store.Lasting(store.WithBudget(ctx, store.RequestTime())), key, func(held []byte, found bool) ([]byte, time.Duration, error) {
		var was time.Time
		readable := found && json.Unmarshal(held, &was) == nil
		switch {
		case readable && was.Equal(at):
			k = session.EndHeld
		case found && (!readable || !at.After(was)):
			k = session.EndLeft
		default:
			k = session.EndWritten
			return value, 0, nil
		}
		return nil, 0, store.ErrUnchanged
	})
	if err != nil {
		return err
	}
	if err := s.tell(ctx, key, value, k); err != nil {
		return fmt.Errorf("announcing a user's revocation (%s): %w", writtenUntold, err)
	}
	return nil
}

// announce tells running gates of an end an import wrote, through
// Core.Announce (session's revocation log, as a logout or a revoke does):
// a gate that cached a session the import ends forgets it within the
// log's poll, instead of serving it until its cache entry goes.
func (s *Admin) announce(ctx context.Context, key string, value []byte) error {
	if s.Announce == nil {
		return nil
	}
	return s.Announce(store.WithBudget(ctx, store.RequestTime()), s.Store, key, value) // as Import's records
}
