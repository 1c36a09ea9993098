package session

import (
	"context"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// Ending a trust with its sessions. A session's token names the trust it
// came from or that its sign-in made (Claims.Trust), so the admin's end
// of a trust (End, EndUnlisted) ends every session of it, whether the
// user's index lists it or pushed it out (MaxListed) or never got it: a
// record beside the session's own that every check reads in the same
// round trip (Manager.revoked), and an entry of the revocation log. A
// session of a release before the claim names no trust: only its own
// revocation, or its user's, ends it.

// endTrusts ends user's trusts named by ids (each ended, in the record or
// not: a retry after a fault finds it gone) and every one of the record
// that also picks (nil: none), in the one edit of the record, each with
// every session it made or came from. The trusts end first: a browser
// refused once its session is revoked goes to the login page at once, and
// a trust still there signed it in again (TestAnEndedSessionDoesNot-
// ComeBackByItsTrustMeanwhile); a session that trust signed meanwhile
// names it, and the revocation that follows ends it too. It answers the
// IDs of the trusts it ended (ids, and those also picked).
func endTrusts(ctx context.Context, st store.Store, realm, user string, ids []string, also func(TrustedBrowser) bool, now time.Time) ([]string, error) {
	var ended []string
	err := editTrusted(store.Lasting(ctx), st, realm, user, now, func(list []TrustedBrowser) []TrustedBrowser {
		ended = slices.Clone(ids) // again at each try
		return slices.DeleteFunc(list, func(tb TrustedBrowser) bool {
			if slices.Contains(ids, tb.ID) {
				return true
			}
			if also == nil || !also(tb) {
				return false
			}
			ended = append(ended, tb.ID)
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ended {
		if err := st.Put(store.Lasting(ctx), endkeys.Trust(realm, id), []byte{1}, 0); err != nil {
			return nil, err
		}
		if err := announce(ctx, st, revocation{Realm: realm, Trust: id}); err != nil {
			return nil, err
		}
	}
	return ended, nil
}

// EndTrust ends user's trust id (the devices page's "Stop trusting":
// signin.Ends.EndTrust, which ends the invites minted in its sessions
// too) with every session it gave or whose sign-in made it (endTrusts),
// as the admin's end of one of its sessions does: a browser the user
// stopped trusting (a thief's, or one holding a copy of the trust's
// cookie) is signed out, not left its session until it expires. Only a
// trust of user's own record ends: another user's ID names none. It
// reports whether one ended.
func EndTrust(ctx context.Context, st store.Store, realm, user, id string, now time.Time) (bool, error) {
	ended, err := endTrusts(ctx, st, realm, user, nil, func(tb TrustedBrowser) bool { return tb.ID == id }, now)
	return len(ended) > 0, err
}
