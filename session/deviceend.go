package session

import (
	"context"
	"encoding/json"
	"errors"
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
// MaxListed, or whose listing failed at its sign-in, ends too. It ends
// the trusts the device earned, with every session of them (endTrusts),
// and the listed sessions with their own ends (endListed), here at once
// and at every gate within RevocationPoll (the revocation log).
//
// A session or trust of a release before the claim names no device: each
// of those issued until the removal ends, but only as the user's list or
// a trust finds it (a removal is rare: signing the user's other browsers
// out once costs less than keeping a thief in).
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
	if op == nil || errors.Is(op.Err, store.ErrNotFound) {
		return false
	}
	var e deviceEnd
	return op.Err != nil || json.Unmarshal(op.Value, &e) != nil || e.ends(cl)
}

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

// endDeviceAt writes the end of user's device id (e) at now, unless one as
// late or later is there: it never moves back (a removal asked again, a
// gate putting back what the store lost, an import). It lasts until
// LongestLifetime past e.At (one already over is not written); one of a
// previous release, with no expiry, still counts. wrote says whether it
// was written.
func endDeviceAt(ctx context.Context, st store.Store, realm, user, id string, e deviceEnd, now time.Time) (wrote bool, err error) {
	return e.keepAt(ctx, st, endkeys.Device(realm, user, id), now)
}

// keepAt is endDeviceAt at key, in one Update.
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
	raw, _ := json.Marshal(deviceEnd{At: e.At.UTC(), Keep: e.Keep})
	return raw
}

// KeepLaterDeviceEnds writes each of ends, a device's end an import
// carries (Key: endkeys.Device, Value as stored), unless the store holds
// one as late or later (as endDeviceAt: the later removal wins), a batch
// of DeviceEndsABatch at a time, each with a request's store budget of
// its own, and answers how many it wrote. Once a batch is done, told (nil:
// none) is called with each of its ends and what it did with it: written,
// held as it is (the same removal's: EndHeld) or left, which the import
// announces or not by the rule of every end it carries (EndKept). told's
// error stops the import. An unreadable value is not written (the import
// checked it); of one key named twice, the later end only.
func KeepLaterDeviceEnds(ctx context.Context, st store.Store, ends []StoredEnd, now time.Time, told func(StoredEnd, EndKept) error) (wrote int, err error) {
	keyed := make([]keyedEnd, len(ends))
	for i, r := range ends {
		parts, ok := store.SplitKey(r.Key)
		var e deviceEnd
		if ok && len(parts) == 4 && json.Unmarshal(r.Value, &e) == nil {
			keyed[i] = keyedEnd{r.Key, e}
		}
	}
	err = keepLaterDeviceEnds(store.Lasting(ctx), st, keyed, now, store.RequestTime(), func(i int, k EndKept) error {
		if k == EndWritten {
			wrote++
		}
		if told == nil {
			return nil
		}
		return told(ends[i], k)
	})
	return wrote, err
}

// StoredEnd is a device's end as stored: its key and value.
type StoredEnd struct {
	Key   string
	Value []byte
}

// keyedEnd is a device's end to keep at its key ("": none).
type keyedEnd struct {
	key string
	end deviceEnd
}

// EndKept is what an import did with an end it carries (a user's
// revocation, a session's, a trust's or a device's end). The rule of
// every kind: it announces (AnnounceEnd) one it wrote and one the store
// holds as the file has it (the same revocation, removal or end: EndHeld),
// never one the store holds ending later (EndLeft: what wrote that
// announced it). One held as it is was written by an import that then
// failed before announcing it (the store gone meanwhile, a lost reply):
// the same import run again announces it, where before it found it "as
// late" and said nothing, and a gate that had cached a session it ends
// served it until its cache entry went.
type EndKept uint8

const (
	EndLeft    EndKept = iota // not written: the store holds one ending later, or it is over
	EndWritten                // written
	EndHeld                   // not written: the store holds it as the file has it
)

// keepLaterDeviceEnds is endDeviceAt for each of ends, in two round trips
// a batch of DeviceEndsABatch (with budget of store time each, where
// given): their records read, then those to write swapped in where they
// still hold what was read (store.Batch.Swap); one changed meanwhile is
// decided again in an Update of its own (keepAt). Of one key named twice,
// the later end goes in the batch. Once a batch is written, done (nil:
// none) is called with each of its ends (its place in ends) and what the
// batch did with it; its error stops the run. err is the first failure
// (the others of the batch are still written, and told to done).
func keepLaterDeviceEnds(ctx context.Context, st store.Store, ends []keyedEnd, now time.Time, budget time.Duration, done func(int, EndKept) error) error {
	for from := 0; from < len(ends); from += DeviceEndsABatch {
		chunk := ends[from:min(from+DeviceEndsABatch, len(ends))]
		bctx := ctx
		if budget > 0 {
			bctx = store.WithBudget(ctx, budget)
		}
		kept, failed := keepDeviceEndsBatch(bctx, st, chunk, now)
		for i, k := range kept {
			if done != nil {
				if err := done(from+i, k); err != nil {
					return err
				}
			}
		}
		if failed != nil {
			return failed
		}
	}
	return nil
}

// keepDeviceEndsBatch is one batch of keepLaterDeviceEnds: what it did
// with each of ends.
func keepDeviceEndsBatch(ctx context.Context, st store.Store, ends []keyedEnd, now time.Time) (kept []EndKept, err error) {
	kept = make([]EndKept, len(ends))
	latest := map[string]int{} // a key's place in ends: one batch names a key once
	for i, e := range ends {
		if j, seen := latest[e.key]; e.key != "" && e.end.ttl(now) > 0 && (!seen || e.end.At.After(ends[j].end.At)) {
			latest[e.key] = i
		}
	}
	var reads, writes store.Batch
	got := make(map[int]*store.Op, len(latest))
	for _, i := range latest {
		got[i] = reads.Get(ends[i].key)
	}
	if err := store.Do(ctx, st, &reads); err != nil {
		return kept, err
	}
	swaps := make(map[int]*store.Op, len(got))
	for i, read := range got {
		switch e := ends[i].end; {
		case e.laterThan(read.Value, read.Err == nil):
			swaps[i] = writes.Swap(ends[i].key, read, e.record(), e.ttl(now))
		case e.heldIn(read.Value):
			kept[i] = EndHeld
		}
	}
	failed := store.Do(ctx, st, &writes)
	for i, op := range swaps {
		if op.OK {
			kept[i] = EndWritten
		} else if failed == nil { // changed since it was read
			w, err := ends[i].end.keepAt(ctx, st, ends[i].key, now)
			if failed = err; w {
				kept[i] = EndWritten
			}
		}
	}
	return kept, failed
}

// heldIn reports whether held, a device's end read from the store, is e
// (the same removal's).
func (e deviceEnd) heldIn(held []byte) bool {
	var h deviceEnd
	return json.Unmarshal(held, &h) == nil && h.At.Equal(e.At)
}

// DeviceEndsABatch is how many device ends keepLaterDeviceEnds writes a
// round trip.
const DeviceEndsABatch = 500

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
	keepSID, keepTrust := kept(keep, device)
	e := deviceEnd{At: now}
	if keep != nil && keep.DeviceID() == device {
		e.Keep = keepSID // a recovery code's session naming it, kept
	}
	if _, err := endDeviceAt(store.Lasting(ctx), st, realm, user, device, e, now); err != nil {
		return err
	}
	if err := announce(ctx, st, revocation{Realm: realm, Of: user, Device: device, At: now.UnixNano(), Keep: e.Keep}); err != nil {
		return err
	}
	earned := func(d *string, issued time.Time) bool {
		if d == nil { // a release before the claim: it names none
			return !issued.After(now)
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
	return endListed(ctx, st, realm, user, list, now, func(s Info) bool {
		return s.SID != keepSID && (endsTrust(ended, s) || earned(s.Where.Device, s.Issued))
	})
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

// KeptAtRemoval reports whether cl is the session the removal of the
// device it names kept (deviceEnd.Keep: a recovery code's, which asked for
// it): what it does since names no device that is still there (a set of
// codes it makes has no maker whose removal is to come).
func KeptAtRemoval(ctx context.Context, st store.Store, realm string, cl *Claims) (bool, error) {
	if cl.DeviceID() == "" || IsNumberMark(cl.DeviceID()) {
		return false, nil
	}
	raw, err := st.Get(ctx, endkeys.Device(realm, cl.Subject, cl.DeviceID()))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	var e deviceEnd
	if err != nil || json.Unmarshal(raw, &e) != nil {
		return false, err
	}
	return e.keeps(cl.SID), nil
}
