package session

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// Ending all of a user's sessions. Their revocation record (endkeys.User)
// ends those issued until an instant, by the clock of the instance (or the
// admin's workstation) that wrote it, compared with each session's iat, by
// the clock of the instance that signed it: the clocks of the instances
// differ by up to Leeway (the tokens tolerate it), so a session signed a
// moment before the revoke by an instance whose clock is ahead counted
// still after it, and stayed in her list (attack28 F2). So the revoke also
// ends, by its SID, every session her index lists as it begins signed
// later than the record's instant, by its signing instance's clock (the
// way a device's removal ends the sessions it earned: EndDevice; the
// record ends the rest without a write each), and where the
// index pushed some out (Unlisted) signed later than the revoke's instant,
// by that instance's clock, it writes the record at the newest of them, at most Leeway past its
// own clock: those end too (with a session signed in that moment since,
// on an instance on time: the revoke ends more, never less); one signed
// further ahead is one no gate on time accepts (Verify). The invites minted before it end by their ID (endkeys.NoInvite),
// not by their mint time. What neither the index nor its count knows (a
// session whose listing failed at its sign-in, or of a release before the
// index) is still ended by the clocks only (SECURITY.md).

// EndUser ends every trust of user in realm (UntrustAll), then every
// session issued until now and every invite (RevokeUser), then the open
// invites she minted as an admin at the console (EndMinted): the admin's
// revoke and reset. Trusts first, so that a trusted browser signing in
// again between the two gets a session the revocation ends; her mints
// last, so that one of hers after them is refused by its session's check.
// logger is RevokeUser's.
func EndUser(ctx context.Context, st store.Store, realm, user string, now time.Time, logger *zap.Logger) (MintedEnd, error) {
	if err := UntrustAll(ctx, st, realm, user); err != nil {
		return MintedEnd{}, err
	}
	if _, err := revokeAll(ctx, st, realm, user, now, logger); err != nil {
		return MintedEnd{}, err
	}
	return EndMinted(ctx, st, realm, user, now, logger)
}

// EndUserUntil is EndUser for what was issued until at, which may be past
// (a provisioned user who lost her number: the config's start, so that a
// retry does not sign her out of what she signed in to since): by the
// clocks alone, as every session signed since at stays; her invites are
// left (those minted before at end by their mint time: signin's
// readStanding).
func EndUserUntil(ctx context.Context, st store.Store, realm, user string, at time.Time) error {
	if err := UntrustAll(ctx, st, realm, user); err != nil {
		return err
	}
	return revokeUntil(ctx, st, realm, user, at)
}

// RevokeUser ends every session of user in realm issued until now, listed
// or pushed off her list, whatever the clocks of the instances that signed
// them, and every invite minted for her. It needs only the store, so the
// admin's tools use it with Caddy stopped. A revocation never moves back:
// one made by an instance whose clock is behind must not bring back the
// sessions a later one ended. A record it capped (a clock is wrong) is
// told through logger, Caddy's (nil: not told).
func RevokeUser(ctx context.Context, st store.Store, realm, user string, now time.Time, logger *zap.Logger) error {
	_, err := revokeAll(ctx, st, realm, user, now, logger)
	return err
}

// revokeUntil writes user's revocation at at, announces it, and takes the
// sessions it ends out of her index.
func revokeUntil(ctx context.Context, st store.Store, realm, user string, at time.Time) error {
	if err := revokeUserAt(store.Lasting(ctx), st, realm, user, at); err != nil {
		return err
	}
	if err := announce(ctx, st, revocation{Realm: realm, User: user, At: at.UnixNano()}); err != nil {
		return err
	}
	// Those it ended leave the index (a session signed meanwhile stays).
	dropSessions(ctx, st, realm, user, at, func(s Info) bool { return !s.Issued.After(at) })
	return nil
}

// revokeAll is RevokeUser; it returns the SIDs it ended one by one and
// the instant the record holds once done, for the caller's cache
// (Manager.RevokeUser). Her list is read before the record is written:
// a sign-in answered before the revoke began has listed its session by
// then (its listing comes before its answer: note), and one pushed off
// the list since was counted first (note), read next; a sign-in listed
// after the read was not answered before the revoke, and is not ended by
// its SID (only by the clocks: TestRacingIndex).
func revokeAll(ctx context.Context, st store.Store, realm, user string, now time.Time, logger *zap.Logger) (revokedAll, error) {
	done := revokedAll{at: now}
	// A read that fails writes the record all the same (review30: a revoke
	// refused for her list left every session standing): until now, as
	// before the list was read, and returns the failure once done. An
	// unreadable list is none, as at a sign-in (editIndex).
	list, listErr := unended(ctx, st, realm, user, now)
	u, unlistedErr := UnlistedSessions(ctx, st, realm, user, now)
	readErr := errors.Join(readable(listErr), readable(unlistedErr))
	if u.Count > 0 && u.Through.After(now) { // signed after now, by the clock of an instance ahead
		// At most Leeway ahead (review30): a gate on time refuses a token
		// signed further ahead than that (Verify), and one whose clock is
		// hours ahead must not make every sign-in of hers for hours be
		// born ended, nor every invite minted for her refused.
		done.at = minTime(u.Through, now.Add(Leeway))
		tellCapped(logger, st, realm, user, u.Through, now) // past Leeway: a clock is wrong
	}
	if err := revokeUntil(ctx, st, realm, user, done.at); err != nil {
		return done, errors.Join(err, readErr)
	}
	for _, s := range list {
		if s.Issued.After(done.at) { // the record ends the others: no write each
			done.sids = append(done.sids, s.SID)
		}
	}
	if err := endListed(ctx, st, realm, user, list, now, func(s Info) bool { return slices.Contains(done.sids, s.SID) }); err != nil {
		return done, errors.Join(err, readErr)
	}
	return done, errors.Join(endInvites(ctx, st, realm, user), readErr)
}

// readable is err where it is the store's, nil where a record could not
// be decoded: such a record is read as none (editIndex starts it again).
func readable(err error) error {
	var syntax *json.SyntaxError
	var kind *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &kind) {
		return nil
	}
	return err
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// revokedAll is what revokeAll ended: the sessions until at, and sids.
type revokedAll struct {
	at   time.Time
	sids []string
}

// endInvites writes user's newest invite as none (endkeys.NoInvite), where
// a record is there: every invite minted before ends by its ID. Where none
// is, none of hers was minted by this release (the record goes with the
// mint) or it expired with them: one of a release before ends by its mint
// time. Left without a record, a name that held nothing holds nothing
// (the admin's noSuchUser).
func endInvites(ctx context.Context, st store.Store, realm, user string) error {
	raw, _ := json.Marshal(struct {
		ID string `json:"id"`
	}{endkeys.NoInvite})
	return st.Update(store.Lasting(ctx), endkeys.LatestInvite(realm, user), func(_ []byte, found bool) ([]byte, time.Duration, error) {
		if !found {
			return nil, 0, store.ErrUnchanged
		}
		return raw, endkeys.InviteLife, nil
	})
}
