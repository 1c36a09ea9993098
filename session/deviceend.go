package session

import (
	"context"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Ending what a removed device earned. A session names the device whose
// code or answer earned it (Claims.Device, and its entry in the user's
// index, Where.Device), a trust its record (TrustedBrowser.Device): the
// removal of a device (a lost phone, by the user or the admin) ends each
// of them with the ends there are, a trust's with every session of it
// (endTrusts) and a session's own (endListed), here at once and at every
// gate within RevocationPoll (the revocation log).
//
// A session or trust of a release before the claim names no device: each
// of those issued until the removal ends (a removal is rare: signing the
// user's other browsers out once costs less than keeping a thief in).
//
// A sign-in with the device while it is removed is covered by the
// sign-in: it writes its trust and lists its session, then reads the
// device again (signin.Service.Holds), while the removal takes the device
// away, then reads the trusts and the list: one sees the other.

// EndDevice ends, at the removal of user's device at now, every session
// and trust it earned, except keep (the session asking for the removal:
// nil for the admin's) and the trust keep came from or made: the user
// stays signed in where she removed it. It reads only the store, so the
// admin's tools use it with Caddy stopped too.
func EndDevice(ctx context.Context, st store.Store, realm, user, device string, keep *Claims, now time.Time) error {
	var keepSID, keepTrust string
	if keep != nil {
		keepSID = keep.SID
		if keep.Trust != nil {
			keepTrust = *keep.Trust
		}
	}
	earned := func(d *string, issued time.Time) bool {
		if d == nil { // a release before the claim: it names none
			return !issued.After(now)
		}
		return *d == device
	}
	var ids []string
	raw, err := st.Get(ctx, trustedKey(realm, user))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil {
		list, err := liveTrusts(raw, now)
		if err != nil {
			return err
		}
		for _, tb := range list {
			if tb.ID != keepTrust && earned(tb.Device, tb.issued()) {
				ids = append(ids, tb.ID)
			}
		}
	}
	var ended []string
	if len(ids) > 0 {
		if ended, err = endTrusts(ctx, st, realm, user, ids, time.Time{}, now); err != nil {
			return err
		}
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
