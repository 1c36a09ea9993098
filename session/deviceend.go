package session

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// Ending what a removed device earned. A session names the device whose
// code or answer earned it (Claims.Device, and its entry in the user's
// index, Where.Device), a trust its record (TrustedBrowser.Device): the
// removal of a device (a lost phone, by the user or the admin) writes the
// device's end (endkeys.Device: every session it earned issued until the
// removal, but the one asking for it), which every check of a session
// that names the device reads in the same round trip as its other ends
// (Manager.revoked), listed or not: one pushed off the user's list of
// MaxListed, or whose listing failed at its sign-in, ends too (one an
// instance ahead signed a moment before the removal: pushedAhead). It ends
// the trusts the device earned, with every session of them (endTrusts),
// and the listed sessions with their own ends (endListed), here at once
// and at every gate within RevocationPoll (the revocation log).
//
// A session or trust of a release before the claim names no device: each
// of those issued until the removal ends, but only as the user's list or
// a trust finds it (a removal is rare: signing the user's other browsers
// out once costs less than keeping a thief in); not at the undo of an
// adding (EndUndoneDevice): its device, listed for a moment, earned one
// only at a previous release's gate in a rolling upgrade (SECURITY.md).
//
// A sign-in with the device while it is removed is covered twice: its
// session began (its iat) before the removal, so the device's end covers
// it; and it writes its trust and lists its session, then reads the
// device again (signin.Service.Holds), while the removal takes the device
// away, then reads the trusts and the list: one sees the other.

// deviceEnd is the value of a device's end (endkeys.Device).
type deviceEnd struct {
	// At is the removal: the device's sessions issued until then end.
	At time.Time `json:"at"`
	// Keep is the SID of the session that asked for the removal where it
	// names the device and stays (a recovery code's: kept), else "".
	Keep string `json:"keep,omitempty"`
	// Mark is, where Keep is kept, the mark the removed device recorded
	// (enrollment.Device.AddedBy: a config phone's, at the root of its
	// chain), which a device Keep adds records (KeptMark): a device added
	// from its session while it was listed recorded it too.
	Mark string `json:"added_by,omitempty"`
}

// ends reports whether e ends cl, a session the device earned: all of
// them but the removing session where it stays (Keep).
func (e deviceEnd) ends(cl *Claims) bool {
	return !e.keeps(cl.SID) && (cl.IssuedAt == nil || e.endsAt(cl.IssuedAt.Time))
}

// keeps reports whether sid is the removing session that stays (Keep).
func (e deviceEnd) keeps(sid string) bool { return e.Keep != "" && sid == e.Keep }

// endsAt reports whether e ends what was issued at issued: until the removal.
func (e deviceEnd) endsAt(issued time.Time) bool { return !issued.After(e.At) }

// deviceEnds reports whether op, a read of the end of the device cl names
// (nil: it names none), ends cl; a record it cannot read does.
func deviceEnds(op *store.Op, cl *Claims) bool {
	if op == nil {
		return false
	}
	e, found, err := parseDeviceEnd(op.Value, op.Err)
	return err != nil || found && e.ends(cl)
}

// parseDeviceEnd is a device's end as the store answered its read (raw,
// err: the store's, which it returns): found is false where there is
// none. One it cannot read ends every session of the device and keeps
// none (unreadableEnd), for each of its readers (deviceEnds, StillKnown,
// KeptMark).
func parseDeviceEnd(raw []byte, err error) (e deviceEnd, found bool, _ error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return deviceEnd{}, false, nil
	case err != nil:
		return deviceEnd{}, false, err
	case json.Unmarshal(raw, &e) != nil:
		return unreadableEnd, true, nil
	}
	return e, true, nil
}

// unreadableEnd is what a device's end that cannot be read does: it ends
// every session of the device (issued until the end of time) and keeps none.
var unreadableEnd = deviceEnd{At: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}

// readDeviceEnd adds to b the read of the end of the device cl names, if
// it names one (nil if not).
func readDeviceEnd(b *store.Batch, realm string, cl *Claims) *store.Op {
	if cl.DeviceID() == "" || IsNumberMark(cl.DeviceID()) { // a config's phone: no device to end
		return nil
	}
	return b.Get(endkeys.Device(realm, cl.Subject, cl.DeviceID()))
}

// LongestLifetime is the longest a session or a trusted browser can last
// (the most session_lifetime and remember allow: a browser keeps no cookie
// longer either). A device's end lasts that long past its removal (and
// Leeway): every session it ends has expired by then, at every gate of the
// realm, whatever its config, so the admin's tools with Caddy stopped,
// which know no gate's, write the same expiry.
const LongestLifetime = 400 * 24 * time.Hour

// againAt writes the end of a device (e, at key) at now, the removal's
// (EndDevice), unless one as late or later is there: it never moves back
// (a removal asked again by an instance whose clock is behind). It lasts
// until LongestLifetime past e.At; one of a previous release, with no
// expiry, still counts. A device ended already
// (the same removal asked again later, by her or by the admin: its
// tombstone) keeps the session the first end kept, and no other: e.Keep
// gives way, for a session the first end did not keep has ended, and a
// later removal brings back none. Its Mark too, but where the first had
// none to give for the session both keep (a removal that found the device
// gone wrote it before the one that took it away, or a retry that could
// not read it): e's fills it in (review17). held is the end the store
// holds once done (e, where none was there).
func (e deviceEnd) againAt(ctx context.Context, st store.Store, key string, now time.Time) (held deviceEnd, err error) {
	err = st.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		held = e
		var first deviceEnd
		if found && json.Unmarshal(old, &first) == nil {
			held.Keep, held.Mark = first.Keep, first.Mark
			filled := first.Mark == "" && e.Mark != "" && first.keeps(e.Keep)
			if filled {
				held.Mark = e.Mark
			}
			if !e.At.After(first.At) {
				if held.At = first.At; !filled {
					held = first
					return nil, 0, store.ErrUnchanged
				}
			}
		}
		return held.record(), held.ttl(now), nil
	})
	return held, err
}

// keepAt writes e at key, in one Update, unless one as late or later is
// there: a gate putting back what the store lost, an import (the end it
// carries, its Keep as it is). One already over is not written. wrote
// says whether it was written.
func (e deviceEnd) keepAt(ctx context.Context, st store.Store, key string, now time.Time) (wrote bool, err error) {
	ttl := e.ttl(now)
	if ttl <= 0 {
		return false, nil
	}
	err = st.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		if wrote = e.laterThan(old, found); !wrote {
			return nil, 0, store.ErrUnchanged
		}
		return e.record(), ttl, nil
	})
	return wrote && err == nil, err
}

// ttl is how long e is to last from now (LongestLifetime and Leeway past
// its removal): 0 or less, over.
func (e deviceEnd) ttl(now time.Time) time.Duration {
	return e.At.Add(LongestLifetime + Leeway).Sub(now)
}

// laterThan reports whether e is to be written over old (found: a record
// is there): there is none, or one unreadable, or ending earlier.
func (e deviceEnd) laterThan(old []byte, found bool) bool {
	var held deviceEnd
	return !found || json.Unmarshal(old, &held) != nil || e.At.After(held.At)
}

// record is e as stored.
func (e deviceEnd) record() []byte {
	raw, _ := json.Marshal(deviceEnd{At: e.At.UTC(), Keep: e.Keep, Mark: e.Mark})
	return raw
}

// kept is what of keep, the session asking for the removal of device,
// stays: its SID and the ID of its trust (the one it came from or made),
// unless the device earned them (Claims.Device, TrustedBrowser.Device): a
// thief who signed in with the stolen phone and removes it keeps nothing.
// A session of a previous release names no device: it stays, as before.
// A recovery code's session names the device whose session made the set
// (Claims.Device): it stays (she lost the phone, signed
// in with a code, and removes it: with allow_remove_last, ending it left
// her locked out); another browser's session of a code of that set ends.
func kept(keep *Claims, device string) (sid, trust string) {
	if keep == nil || keep.EndsWith(device) {
		return "", ""
	}
	if keep.Trust != nil {
		trust = *keep.Trust
	}
	return keep.SID, trust
}

// EndDevice ends, at the removal of user's device at now, every session
// and trust it earned, except keep (the session asking for the removal:
// nil for the admin's) and the trust keep came from or made, where the
// device earned neither (kept): the user stays signed in where she
// removed another device; removing the one that signed this browser in
// signs it out too. It reads only the store, so the admin's tools use it
// with Caddy stopped too.
func EndDevice(ctx context.Context, st store.Store, realm, user, device string, keep *Claims, now time.Time) error {
	return EndMarkedDevice(ctx, st, realm, user, device, "", keep, now)
}

// EndMarkedDevice is EndDevice for a device that recorded mark (its
// AddedBy), which a recovery code's session it keeps adds with (KeptMark).
func EndMarkedDevice(ctx context.Context, st store.Store, realm, user, device, mark string, keep *Claims, now time.Time) error {
	return endDevice(ctx, st, realm, user, device, mark, keep, now, true)
}

// EndUndoneDevice is EndDevice for a device whose adding was undone (its
// session ended while it ran), with keep nil: it was listed only from its
// write to the undo, and what names no device (a session or trust of a
// release before the claim, the user's own) stays. Its end is written as
// any device's, for every session and trust naming it.
func EndUndoneDevice(ctx context.Context, st store.Store, realm, user, device string, now time.Time) error {
	return endDevice(ctx, st, realm, user, device, "", nil, now, false)
}

// endDevice is EndMarkedDevice; unnamed says whether what names no device
// (a release before the claim) and was issued until now ends too.
func endDevice(ctx context.Context, st store.Store, realm, user, device, mark string, keep *Claims, now time.Time, unnamed bool) error {
	keepSID, keepTrust := kept(keep, device)
	e := deviceEnd{At: now}
	if keep != nil && keep.DeviceID() == device {
		e.Keep, keepSID = keepSID, "" // a recovery code's session naming it, kept where the end keeps it
		if e.Keep != "" {
			e.Mark = mark
		}
	}
	e, err := e.againAt(store.Lasting(ctx), st, endkeys.Device(realm, user, device), now)
	if err != nil {
		return err
	}
	if err := announce(ctx, st, revocation{Realm: realm, Of: user, Device: device, At: e.At.UnixNano(), Keep: e.Keep, Mark: e.Mark}); err != nil {
		return err
	}
	earned := func(d *string, issued time.Time) bool {
		if d == nil { // a release before the claim: it names none
			return unnamed && !issued.After(now)
		}
		return *d == device
	}
	ended, err := endTrusts(ctx, st, realm, user, nil, func(tb TrustedBrowser) bool {
		return (tb.ID != keepTrust || tb.Device != nil) && earned(tb.Device, tb.issued())
	}, now)
	if err != nil {
		return err
	}
	// Read once the trusts have ended: a sign-in by one of them that found
	// it before has listed its session by now, or withdraws it
	// (IssueTrusted reads the trust again once listed).
	list, err := unended(ctx, st, realm, user, now)
	if err != nil {
		return err
	}
	pushedErr := e.pushedAhead(ctx, st, realm, user, device, now)
	return errors.Join(endListed(ctx, st, realm, user, list, now, func(s Info) bool {
		return s.SID != keepSID && !e.keeps(s.SID) && (endsTrust(ended, s) || earned(s.Where.Device, s.Issued))
	}), pushedErr)
}

// pushedAhead moves e, the end of user's device just written, on to the
// newest session pushed off her list where that was signed later than
// e.At (by the clock of an instance ahead), at most Leeway past now, as a
// revoke does (revokeAll): a session the device earned a moment before
// the removal at such an instance, pushed off the list (before, or by a
// sign-in racing the removal: counted before it leaves the list, so read
// after the list), ends by the end alone, which ended it by the clocks
// (clock32). The device is gone: no session signed since names it.
func (e deviceEnd) pushedAhead(ctx context.Context, st store.Store, realm, user, device string, now time.Time) error {
	u, err := UnlistedSessions(ctx, st, realm, user, now)
	if err != nil {
		return readable(err)
	}
	later := e
	if later.At = minTime(u.Through, now.Add(Leeway)); u.Count == 0 || !later.At.After(e.At) {
		return nil
	}
	held, err := later.againAt(store.Lasting(ctx), st, endkeys.Device(realm, user, device), now)
	if err != nil {
		return err
	}
	return announce(ctx, st, revocation{Realm: realm, Of: user, Device: device, At: held.At.UnixNano(), Keep: held.Keep, Mark: held.Mark})
}

// deviceKey is a device among those the log ended: its user's and its
// own ID (a struct, so that a session's lookup builds no string).
type deviceKey struct{ user, id string }

func deviceOf(user, device string) deviceKey { return deviceKey{user, device} }

// claimedDevice is the key of the device cl names (deviceOf), none for none.
func claimedDevice(cl *Claims) deviceKey {
	if cl.DeviceID() == "" {
		return deviceKey{}
	}
	return deviceOf(cl.Subject, cl.DeviceID())
}

// KeptMark reports whether cl is the session the removal of the device it
// names kept (deviceEnd.Keep: a recovery code's, which asked for it): what
// it does since names no device that is still there (a set of codes it
// makes has no maker whose removal is to come); and where kept the mark
// the removed device recorded (deviceEnd.Mark: "" for none, or an end of
// a build before it).
func KeptMark(ctx context.Context, st store.Store, realm string, cl *Claims) (kept bool, mark string, err error) {
	if cl.DeviceID() == "" || IsNumberMark(cl.DeviceID()) {
		return false, "", nil
	}
	e, _, err := parseDeviceEnd(st.Get(ctx, endkeys.Device(realm, cl.Subject, cl.DeviceID())))
	if kept = err == nil && e.keeps(cl.SID); kept {
		mark = e.Mark
	}
	return kept, mark, err
}

// EndKeptOfLost ends the session each end of user's devices removed
// (their IDs: her tombstones, enrollment's) keeps (Keep) where the removed
// device recorded the mark of one of lost (keyed hashes of numbers the
// config no longer gives her: NumberMark): the settle of a lost number
// (signin's endLost) ends a recovery session kept at the removal of a
// device that number's chain added, though signed in after the config's
// start (EndUser ends only those before it): else it outlived the settle
// and added devices recording the lost mark, which no later settle looks
// for (review17 L). The end keeps nothing since (the session ends as
// every other the device earned: KeptMark no longer answers it kept), its
// Mark left; announced in the revocation log. The ends are read in one
// batch (no scan: on Redis that walks every key).
func EndKeptOfLost(ctx context.Context, st store.Store, realm, user string, removed, lost []string, now time.Time) error {
	ofLost := func(e deviceEnd) bool {
		return e.Keep != "" && slices.ContainsFunc(lost, func(id string) bool { return e.Mark == NumberMark(id) })
	}
	if len(removed) == 0 {
		return nil
	}
	var b store.Batch
	ids := slices.Compact(slices.Sorted(slices.Values(removed)))
	reads := make([]*store.Op, len(ids))
	for i, id := range ids {
		reads[i] = b.Get(endkeys.Device(realm, user, id))
	}
	err := store.Do(ctx, st, &b)
	for i, op := range reads {
		if err != nil {
			break
		}
		e, found, rerr := parseDeviceEnd(op.Value, op.Err)
		if err = rerr; !found || !ofLost(e) {
			continue
		}
		var held deviceEnd
		wrote := false
		err = st.Update(store.Lasting(ctx), op.Key(), func(old []byte, found bool) ([]byte, time.Duration, error) {
			held = deviceEnd{}
			if wrote = found && json.Unmarshal(old, &held) == nil && ofLost(held) && held.ttl(now) > 0; !wrote {
				return nil, 0, store.ErrUnchanged
			}
			held.Keep = ""
			return held.record(), held.ttl(now), nil
		})
		if err == nil && wrote {
			err = announce(ctx, st, revocation{Realm: realm, Of: user, Device: ids[i], At: held.At.UnixNano(), Mark: held.Mark})
		}
	}
	return err
}
