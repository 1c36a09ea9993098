package signin

import (
	"context"
	"strconv"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// The admin's reset (a lost phone) and revoke of a user, each one step of
// signin's as the ends of ends.go are (#23: before, admin/ops.go decided
// their order itself): whether she held anything is read first, and
// decides the audit and the answer. A name that held nothing (a typo of a
// lost phone's owner) is reset or revoked all the same — a session from
// before sessions were listed is in no list, and ends with it — answered
// Held false (the admin's 404) and audited nowhere. Where a step fails,
// the step answers the error (the store failed: nothing is audited), and
// asking again does it all again (each write may be made twice). A reset
// of one who held anything writes first that it began (reset-begun/, a
// record of its own, lasting resetBegunLife) and takes it away last,
// once all is done: asked again after a failure, it finds her by that
// record though every other record of hers went before the failure (her
// only phone), finishes what the first try began, and audits it
// (redesign39; before, adminops38 left: "No such user", and her reset
// audited nowhere).

// userKinds are the records under a user's name that make her someone a
// reset or a revocation finds: her phones, apps and passkeys (device),
// recovery codes, the numbers the config gave her (provisioned-number),
// her sessions listed and pushed out of the list, her trusted browsers,
// an invite made for her (invite-latest), an app being set up, and, an
// admin's, the index of the invites she minted at the console
// (invites-minted: one who never enrolled a device of her own is reset or
// revoked, her invites ended and said, not "no such user": invite36), and
// a reset of hers begun and not finished (resetBegun).
var userKinds = []string{"device", "recovery", "provisioned-number", "sessions", "sessions-unlisted", "trusted", "invite-latest", "app-setup", "invites-minted", resetBegun}

// resetBegun is the kind of the record a reset of one who held anything
// writes before its first change and takes away after its last: the
// instant it began (Unix seconds; read by nobody but holds). It lasts
// resetBegunLife: a reset left half done is finished by the next reset of
// her within that time. Not exported (an export holds what she has left).
const resetBegun = "reset-begun"

// resetBegunLife is how long the record that a reset began lasts past its
// beginning: session.LongestLifetime and Leeway (older41; before, no
// expiry, so a reset never asked again left it in the store for good). A
// reset running is never that long, so the record cannot go while its
// reset runs: the reset deletes it last, and a retry begun meanwhile
// writes it again from its own beginning. Once that long has passed, what
// a finish would end has ended by itself: every session and trusted
// browser issued before the reset began (LongestLifetime is the longest
// session_lifetime and remember allow; a sign-in that straddled the reset
// is ended by its device's end, which the first try wrote, and the
// revocation, both kept as long), every invite she minted (InviteLife,
// shorter); only the finish's audit (admin_reset) is not made: asked
// again then, she is "No such user", as a name that holds nothing.
const resetBegunLife = session.LongestLifetime + session.Leeway

// begunStands reports whether a reset-begun/ record read at now still
// tells of a reset to finish: one of the previous release has no expiry,
// so its age is read from its value, the instant its reset began; one
// whose value cannot be read stands (erring toward finishing the reset).
func begunStands(value []byte, now time.Time) bool {
	began, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil {
		return true
	}
	return !now.After(time.Unix(began, 0).Add(resetBegunLife))
}

// Reset is the admin's reset of user (by: the admin at the console; ""
// the admin API's caller or the CLI's): her sessions revoked first, as a
// preparation (store.Preparing: a guarded reset, an admin's console
// session, is decided by its first write of her records, as a removal by
// its list's), so that a change a session let in meanwhile (an app, a
// phone, a passkey, recovery codes) is checked again once written
// (session.Manager.Live) and undone; then every device and recovery code
// of hers (enrollment.Devices.ResetUser); then, for sign-ins made with a
// device before it went, every trust and session again and every invite
// she minted as an admin (session.EndUser). Where she held anything, the
// record that her reset began (resetBegun) is written before all that
// and taken away after it; audited then as admin_reset (by, invites_ended
// even 0, invites_used).
func (e Ends) Reset(ctx context.Context, user, by string) (Ended, error) {
	var out Ended
	var err error
	var stale bool
	if out.Held, stale, err = e.holdsOrStale(ctx, user); err != nil {
		return out, err
	}
	begun := store.Key(resetBegun, e.Realm, user)
	if out.Held {
		// A preparation, as the revocation is: checked, spends no guard.
		if err := e.Store.Put(store.Lasting(store.Preparing(ctx)), begun, []byte(strconv.FormatInt(e.Now().Unix(), 10)), resetBegunLife); err != nil {
			return out, err
		}
	}
	if err := session.RevokeUser(store.Preparing(ctx), e.Store, e.Realm, user, e.Now(), e.Logger); err != nil {
		return out, err
	}
	if err := e.Devices.ResetUser(ctx, e.Realm, user); err != nil {
		return out, err
	}
	if out.Minted, err = session.EndUser(ctx, e.Store, e.Realm, user, e.Now(), e.Logger); err != nil {
		return out, err
	}
	if out.Held || stale {
		// stale: the previous release's record, past resetBegunLife and
		// with no expiry, goes with this reset of a name that holds
		// nothing else.
		if err := e.Store.Delete(store.Lasting(ctx), begun); err != nil {
			return out, err // asked again, it is found by it, and finishes
		}
	}
	return e.told(out, "admin_reset", user, by), nil
}

// Revoke is the admin's revocation of user (by as Reset's): every trusted
// browser and session of hers (the trusts would not work any more, and
// her devices page must not list them as if they did), and every invite
// she minted as an admin (session.EndUser). Audited as admin_revoke (by,
// invites_ended even 0, invites_used) where she held anything.
func (e Ends) Revoke(ctx context.Context, user, by string) (Ended, error) {
	var out Ended
	var err error
	if out.Held, err = e.holds(ctx, user); err != nil {
		return out, err
	}
	return e.endUser(ctx, out, "admin_revoke", user, by)
}

// endUser ends user's trusts, sessions and minted invites into out, and
// audits event where she held anything.
func (e Ends) endUser(ctx context.Context, out Ended, event, user, by string) (Ended, error) {
	var err error
	if out.Minted, err = session.EndUser(ctx, e.Store, e.Realm, user, e.Now(), e.Logger); err != nil {
		return out, err
	}
	return e.told(out, event, user, by), nil
}

// told audits event of out where she held anything, and answers out.
func (e Ends) told(out Ended, event, user, by string) Ended {
	if out.Held {
		e.audit(event, user, byField(by, countedFields(out.Minted)...)...)
	}
	return out
}

// holds reports whether user holds any record of userKinds in the realm,
// in one read (one round trip on Redis, not one a kind).
func (e Ends) holds(ctx context.Context, user string) (bool, error) {
	held, _, err := e.holdsOrStale(ctx, user)
	return held, err
}

// holdsOrStale is holds, and also reports whether she holds nothing but a
// reset-begun/ record past resetBegunLife (stale: the previous release's,
// which has no expiry), which holds does not count.
func (e Ends) holdsOrStale(ctx context.Context, user string) (held, stale bool, err error) {
	var b store.Batch
	reads := make([]*store.Op, len(userKinds))
	for i, kind := range userKinds {
		reads[i] = b.Get(store.Key(kind, e.Realm, user))
	}
	if err := store.Do(ctx, e.Store, &b); err != nil {
		return false, false, err
	}
	for i, read := range reads {
		if read.Err != nil {
			continue
		}
		if userKinds[i] == resetBegun && !begunStands(read.Value, e.Now()) {
			stale = true
			continue
		}
		return true, false, nil
	}
	return false, stale, nil
}
