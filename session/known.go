package session

import (
	"context"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// A known browser is one that signed in as a user before (the pages'
// known-browser cookie): it has guess windows and send budgets of its own,
// apart from strangers who name the user. It stays known after its own
// logout (the owner signs out of their own browser), but not after the
// admin ends the session it signed in with (End: a stolen browser), nor
// after a reset, revoke or sign-out everywhere (RevokedBefore), nor after
// the store forgot (a wipe, an eviction, an import or accept-store: a new
// epoch record, continuity), which may have taken the records of those
// with it: a browser is known by a cookie issued in the store's epoch.

// KnownLifetime is how long a browser stays known after a sign-in (the
// pages' known-browser cookie, which names the sign-in's session).
const KnownLifetime = 400 * 24 * time.Hour

// endedKey marks a session the admin ended (End), as long as a
// known-browser cookie naming it could last (endedFor): its browser is a
// stranger's again.
func endedKey(realm, sid string) string { return store.Key("ended-by-admin", realm, sid) }

// endedFor is how long End's mark of s must last at now: while the cookie
// of the browser that signed in with it may still be shown, which is long
// after the session itself has expired. (Kept only as long as the session,
// the mark went with it, and the stolen browser was the owner's again.)
func endedFor(s Info, now time.Time) time.Duration {
	return max(s.Expires.Sub(now), s.Issued.Add(KnownLifetime).Sub(now)) + Leeway
}

// StillKnown reports whether a browser that signed in as user at issued,
// in session sid ("" for a cookie from before sessions were named in it)
// that came from or made trust ("" for none; a cookie from before the
// known-browser cookie named it, Claims.Trust nil, is known no more: the
// pages do not ask), earned by device ("" for none: a recovery code of a
// set no device made, a cookie from before it named one), is still theirs: no
// reset, revoke or sign-out everywhere since, that session not ended by
// the admin, nor its trust (End ends a trust with every session of it,
// but marks as ended only those the user's list holds: a session pushed
// off it by MaxListed newer ones is ended by the trust's record alone),
// nor by the removal of its device (EndDevice marks the listed ones; one
// pushed off the list is ended by the device's end alone),
// and issued since the store's epoch began (none: the store forgot it,
// and is not known either). One round trip to the store.
func StillKnown(ctx context.Context, st store.Store, realm, user, sid, trust, device string, issued time.Time) (bool, error) {
	var b store.Batch
	all := b.Get(endkeys.User(realm, user))
	epoch := b.Get(continuity.Key)
	ended := &store.Op{Err: store.ErrNotFound}
	if sid != "" {
		ended = b.Get(endedKey(realm, sid))
	}
	trustEnded := &store.Op{Err: store.ErrNotFound}
	if trust != "" {
		trustEnded = b.Get(endkeys.Trust(realm, trust))
	}
	deviceEnded := &store.Op{Err: store.ErrNotFound}
	if device != "" && !IsNumberMark(device) { // a config's phone has no end: the pages ask whether it is still given
		deviceEnded = b.Get(endkeys.Device(realm, user, device))
	}
	if err := store.Do(ctx, st, &b); err != nil {
		return false, err
	}
	before, err := revokedBefore(all)
	if err != nil {
		return false, err
	}
	if !inEpoch(epoch, issued) {
		return false, nil
	}
	if !errors.Is(ended.Err, store.ErrNotFound) {
		return false, ended.Err // nil: ended by the admin
	}
	if !errors.Is(trustEnded.Err, store.ErrNotFound) {
		return false, trustEnded.Err // nil: its trust ended
	}
	if e, found, err := parseDeviceEnd(deviceEnded.Value, deviceEnded.Err); err != nil || found && !e.keeps(sid) && e.endsAt(issued) {
		return false, err
	}
	return before.IsZero() || issued.After(before), nil
}

// inEpoch reports whether a cookie issued at issued (whole seconds, as a
// token keeps it) was issued since the store's record op read can be
// believed whole (continuity.Record.Trusted): after a wipe or a freeze,
// whatever the store knew of the cookie's user and session before (a
// reset, the admin's end) may be gone. No record: the store has just
// forgotten it.
func inEpoch(op *store.Op, issued time.Time) bool {
	if op.Err != nil {
		return false
	}
	rec, err := continuity.Decode(op.Value)
	return err == nil && !issued.Before(rec.Trusted().Truncate(time.Second))
}
