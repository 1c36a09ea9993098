package signin

import (
	"cmp"
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// The ends of a user's sessions and trusted browsers, each one step that
// ends it AND the console invites minted through it (attack36 F3,
// attack37 F2: a thief's link must not outlive his session), audited
// once: the devices page's "Stop trusting" (EndTrust) and sign out
// everywhere (SignOutEverywhere), the console's and the admin API's "End
// this session" (EndSession) and end of the sessions pushed off the list
// (EndUnlisted). The pages and the admin only render what they answer.
// Where the end of the invites fails, the step answers the error (the
// store failed: nothing is audited), and asking again ends them: a trust
// and its sessions once gone are asked again by the trust, an ended
// session stays in her index and the end of the unlisted ones keeps its
// record until their invites have ended (session.EndWith,
// session.EndUnlistedWith, review37 F2), a sign-out ends every invite.

// Ends is what those steps need: the store the realm's sessions, trusts
// and invites are on, its clock, the log (EndMintedOf's), and the audit
// (nil: not audited, as the admin's commands on a stopped Caddy's store);
// for SignOutEverywhere, the gate's sessions (its cache: ended here at
// once); for Reset, her devices (userends.go).
type Ends struct {
	Store    store.Store
	Realm    string
	Now      func() time.Time
	Logger   *zap.Logger
	Audit    Auditor
	Sessions *session.Manager
	Devices  *enrollment.Devices
	// Lifetime is the gate's session lifetime (0: not known, as the
	// admin's commands on a stopped Caddy's store): a session signed that
	// long ago is over, its invites listed and ended by it (SignedOut).
	Lifetime time.Duration
}

// Ended is what an end did: the session it ended (EndSession), whether
// the trust was there to end (EndTrust: false asked again after a
// failure), the sessions pushed off the list it ended (EndUnlisted), and
// what it did with the invites minted through them; of a Reset or a
// Revoke, whether she held anything (false: no such user, not audited).
type Ended struct {
	Session  *session.Info
	Trust    bool
	Unlisted session.Unlisted
	Minted   session.MintedEnd
	Held     bool
	// SignedOut: EndSession's session had signed out; only the invites
	// minted through it ended (endSignedOut).
	SignedOut bool
}

// EndTrust is the devices page's end of user's trusted browser trust:
// its sessions end with it (session.EndTrust), and the invites she
// minted, as an admin, in a session of it (session.MintedIn), audited as
// browser_untrusted (invites_ended where it ended any). Asked again after
// a failure, the trust is gone (Trust false): its invites end all the
// same (only hers, of a trust of hers).
func (e Ends) EndTrust(ctx context.Context, user, trust string) (Ended, error) {
	var out Ended
	var err error
	if out.Trust, err = session.EndTrust(ctx, e.Store, e.Realm, user, trust, e.Now()); err != nil {
		return out, err
	}
	if trust != "" {
		if out.Minted, err = e.endMinted(ctx, user, session.MintedIn("", trust)); err != nil {
			return out, err
		}
	}
	e.audit("browser_untrusted", user, MintedFields(out.Minted)...)
	return out, nil
}

// EndSession is an admin's end of user's session sid (by: the admin at
// the console; "" the admin API's caller): with its trust and that
// trust's sessions (session.EndWith), and the invites minted through any
// of them, audited as admin_sessions_end (invites_ended, even 0: the
// admin's answer says it). One that signed out (or expired) while
// invites minted through it are still in her index ends those
// (endSignedOut). Any other unknown sid is session.ErrNoSession; one it
// ended whose invites failed stays in her index until they end, and
// asked again, it ends them.
func (e Ends) EndSession(ctx context.Context, user, sid, by string) (Ended, error) {
	var out Ended
	var err error
	out.Session, err = session.EndWith(ctx, e.Store, e.Realm, user, sid, e.Now(), func(s session.Info) error {
		m, err := e.endMinted(ctx, user, session.MintedIn(s.SID, s.Where.Trust))
		out.Minted = addMinted(out.Minted, m) // and of the sessions it became (session.EndWith follows a step-up)
		return err
	})
	if errors.Is(err, session.ErrNoSession) && sid != "" {
		return e.endSignedOut(ctx, user, sid, by)
	}
	if err != nil {
		return out, err
	}
	e.audit("admin_sessions_end", user, append(byField(by, zap.String("session", ShortSID(sid))), countedFields(out.Minted)...)...)
	return out, nil
}

// endSignedOut is EndSession of a session of user's that ended by its own
// end (a sign-out), or by its lifetime, and that invites she minted through it still name
// (session.SignedOutWith, logout39): it ends them (MintedIn), audited as
// admin_sessions_end with signed_out. An honest sign-out leaves the
// invites she handed to another person; this is how the admin ends those
// a thief's session minted before he signed out. Any other sid is
// session.ErrNoSession. Asked again after a failure, the invites are
// still in her index: it ends them.
func (e Ends) endSignedOut(ctx context.Context, user, sid, by string) (Ended, error) {
	out := Ended{SignedOut: true}
	was, err := session.SignedOutWith(ctx, e.Store, e.Realm, user, sid, e.Now(), e.Lifetime)
	if err != nil || !was {
		return Ended{}, cmp.Or(err, session.ErrNoSession)
	}
	if out.Minted, err = e.endMinted(ctx, user, session.MintedIn(sid, "")); err != nil {
		return out, err
	}
	e.audit("admin_sessions_end", user, append(byField(by, zap.String("session", ShortSID(sid)), zap.Bool("signed_out", true)), countedFields(out.Minted)...)...)
	return out, nil
}

// SignedOut lists user's sessions that ended by their own end (a
// sign-out), or by their lifetime, while console invites she minted through them are still open
// (session.SignedOutMinted): the console lists them beside her live
// sessions, and EndSession of one ends those invites.
func (e Ends) SignedOut(ctx context.Context, user string) ([]session.SignedOut, error) {
	return session.SignedOutMinted(ctx, e.Store, e.Realm, user, e.Now(), e.Lifetime)
}

// EndUnlisted is an admin's end of user's sessions pushed off her list,
// with their trusted browsers (session.EndUnlistedWith), and the invites
// minted through them (session.MintedOfUnlisted), audited as
// admin_sessions_end_unlisted (invites_ended where any were pushed off).
// Its record stays until those invites have ended: asked again after a
// failure, it ends them.
func (e Ends) EndUnlisted(ctx context.Context, user, by string) (Ended, error) {
	var out Ended
	var err error
	out.Unlisted, err = session.EndUnlistedWith(ctx, e.Store, e.Realm, user, e.Now(), func(u session.Unlisted) (err error) {
		out.Minted, err = e.endMinted(ctx, user, session.MintedOfUnlisted(u))
		return err
	})
	if err != nil {
		return out, err
	}
	fields := byField(by)
	if out.Unlisted.Count > 0 {
		fields = append(fields, countedFields(out.Minted)...)
	}
	e.audit("admin_sessions_end_unlisted", user, fields...)
	return out, nil
}

// SignOutEverywhere is the devices page's sign out everywhere: every
// trusted browser of user, then every session (here at once, and within
// the revocation poll at every instance), then every open invite she
// minted as an admin at the console (session.EndMinted, attack34b): a
// sign-out everywhere is what she does when she fears another holds her
// account, and the invites that other minted end with his sessions (one
// of her own she still wants, she mints again). Trusts first, as
// session.EndUser: a trusted browser signing in again between the two
// gets a session the revocation ends. Audited as signed_out_everywhere
// (invites_ended, invites_used: who enrolled by one); nothing where a
// step failed (her sessions may have ended: she signs in and asks again).
func (e Ends) SignOutEverywhere(ctx context.Context, user string) (Ended, error) {
	var out Ended
	if err := session.UntrustAll(ctx, e.Store, e.Realm, user); err != nil {
		return out, err
	}
	if err := e.Sessions.RevokeUser(ctx, user); err != nil {
		return out, err
	}
	var err error
	if out.Minted, err = session.EndMinted(ctx, e.Store, e.Realm, user, e.Now(), e.Logger); err != nil {
		return out, err
	}
	e.audit("signed_out_everywhere", user, countedFields(out.Minted)...)
	return out, nil
}

// ShortSID is a session's ID as the admin's answers and audit name it:
// enough to tell it among hers, not enough to use.
func ShortSID(sid string) string { return sid[:min(len(sid), 8)] }

// endMinted ends the invites user minted that picks names.
func (e Ends) endMinted(ctx context.Context, user string, picks func(endkeys.Minted) bool) (session.MintedEnd, error) {
	return session.EndMintedOf(ctx, e.Store, e.Realm, user, e.Now(), e.Logger, picks)
}

// audit tells the audit of an end, where there is one.
func (e Ends) audit(event, user string, fields ...zap.Field) {
	if e.Audit != nil {
		e.Audit(event, user, "", fields...)
	}
}

// byField is the audit's by (the admin at the console), where there is
// one, then more.
func byField(by string, more ...zap.Field) []zap.Field {
	if by == "" {
		return more
	}
	return append([]zap.Field{zap.String("by", by)}, more...)
}
