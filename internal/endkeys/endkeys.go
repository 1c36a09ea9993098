// Package endkeys names the store's records that end sessions, in one
// place for the two rooms that read them: session, which writes them and
// reads them at every check, and enrollment, whose export and import carry
// them. The keys are the ones earlier releases wrote, byte for byte
// (TestEndsAsThePreviousReleaseWroteThem, enrollment/testdata/previous-release.json).
package endkeys

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

const (
	session = "revoked"
	trust   = "revoked-trust"
	user    = "revoked-user"
	device  = "revoked-device"
	// replacedBy is not an end: which session replaced a session in its
	// browser (a step-up), which an end of that session follows.
	replacedBy = "replaced-by"
)

// Session is the key of one session's end (a logout, the admin's end of
// one session), kept for the session's remaining life.
func Session(realm, sid string) string { return store.Key(session, realm, sid) }

// Trust is the key of the end of every session of one trusted browser (the
// admin's end of a trust). It has no expiry, as a user's revocation has
// none: only an admin's end writes it (one small record per trust), and
// the sessions it ends are not all known to the store (one signed by the
// trust while it ended lives a gate's session_lifetime, which the store
// alone does not know).
func Trust(realm, id string) string { return store.Key(trust, realm, id) }

// User is the key of a user's revocation (an admin's reset or revoke, a
// sign-out everywhere): every session of the user issued until the instant
// it holds ends. It never expires.
func User(realm, name string) string { return store.Key(user, realm, name) }

// Device is the key of the end of every session user's device id earned
// (its removal: session.EndDevice), issued until the instant it holds
// (session's deviceEnd). It expires session.LongestLifetime past the
// removal (the most any gate's session_lifetime can be, which the store
// alone, the admin's tools with Caddy stopped, does not know): every
// session it ends is over by then. One a previous release wrote has no
// expiry, and counts.
func Device(realm, user, id string) string { return store.Key(device, realm, user, id) }

// ReplacedBy is the key of the record of which session replaced sid in
// its browser (session.NoteReplaced: a step-up, a phone's confirmation),
// kept for sid's remaining life: an end of sid follows it there
// (session.EndWith).
func ReplacedBy(realm, sid string) string { return store.Key(replacedBy, realm, sid) }

// ReplacedByPrefix is the prefix of those records (ReplacedBy).
const ReplacedByPrefix = replacedBy + "/"

// Carried are the prefixes of the ends an export carries with when each
// expires (a session's, a device's; a trust's, none), and of the records
// of which session replaced another (ReplacedBy, endrace41: without it,
// an end after an import did not follow a step-up made before the
// export); UserPrefix, a user's revocation's, which has no expiry and
// goes with a user's lasting records.
var Carried = []string{session + "/", trust + "/", device + "/", ReplacedByPrefix}

// DevicePrefix is the prefix of devices' ends (Device).
const DevicePrefix = device + "/"

// UserPrefix is the prefix of users' revocations (User).
const UserPrefix = user + "/"

// In narrows prefix (one of Carried, or UserPrefix) to realm's records.
func In(prefix, realm string) string {
	return store.Key(strings.TrimSuffix(prefix, "/"), realm, "")
}

// RealmPrefix is the prefix of the records of ends that key (Session's,
// Trust's or Device's) is one of, in its own realm: key up to and with its second
// '/', its realm as the key escapes it (not store.SplitKey's: a scan's
// prefix is the key's own bytes, however it was written). ok is false for
// a key that names no realm.
func RealmPrefix(key string) (prefix string, ok bool) {
	kind, rest, ok1 := strings.Cut(key, "/")
	realm, _, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return "", false
	}
	return kind + "/" + realm + "/", true
}

// LatestInvite is the key of the record of user's newest invite
// (enrollment's): an invite is replaced exactly when the record names
// another. A revocation of all the user's sessions (session.RevokeUser: a
// reset, a revoke, a sign-out everywhere) writes it naming NoInvite, so
// that every invite minted before ends by its ID, whatever the clocks of
// the instances that minted it and ended it say (attack28 F2).
func LatestInvite(realm, user string) string { return store.Key("invite-latest", realm, user) }

// NoInvite is the ID no invite has (theirs are hex hashes) that a
// revocation writes as the newest (LatestInvite).
const NoInvite = "ended"

// InviteLife is the longest an invite works (enrollment.MaxInviteTTL),
// and so how long a record of the newest invite is kept.
const InviteLife = 30 * 24 * time.Hour

// Invite is the key of the invite whose ID (its token's hash) is id
// (enrollment's).
func Invite(realm, id string) string { return store.Key("invite", realm, id) }

// MintedInvites is the key of the index of the invites admin minted at
// the console (enrollment's, attack34b): each its user and ID, until it
// expires. A revocation of all her sessions ends those still open
// (session.EndMinted), by writing their users' newest as Withdrawn where
// it still names them, without a scan of the store.
func MintedInvites(realm, admin string) string { return store.Key("invites-minted", realm, admin) }

// Withdrawn is the ID no invite has that the end of the admin who minted
// an invite writes as its user's newest (LatestInvite) where it named it:
// the invite ends by its ID, as a revocation's NoInvite ends her own. A
// release before this one reads it as a newer invite: refused there too.
const Withdrawn = "withdrawn"

// Minted is one entry of MintedInvites: the invite (ID: its token's hash)
// of User, minted at Made, until Expires. Made names its enrollment's
// record (InviteSpent): one used is told from one open (fix35).
type Minted struct {
	User    string    `json:"user"`
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
	Made    time.Time `json:"made,omitzero"`
	// Pending marks a mint in progress: its record as its user's newest
	// (LatestInvite) may be written yet, so a record naming another does
	// not close it (attack36 F1). Its mint clears it once that record is
	// written or never will be; one still pending an hour past Made is a
	// mint that died, read as done (enrollment's mintGrace, minted37).
	// None: an entry of the release before.
	Pending bool `json:"pending,omitempty"`
	// From is the session that minted it (attack36 F3): the end of that
	// session, or of the device it signed in with, ends it. nil: an entry
	// of the release before, ended at any removal of a device of hers.
	From *MintedFrom `json:"from,omitempty"`
}

// MintedFrom is the admin's session that minted an invite: its SID, when
// it was signed (whole seconds, as its token), the trusted browser it
// came from or made, and the device that earned it ("" for none, or not
// known to it: a recovery code's, a session of a release before).
type MintedFrom struct {
	SID    string    `json:"sid"`
	Issued time.Time `json:"issued"`
	Trust  string    `json:"trust,omitempty"`
	Device string    `json:"device,omitempty"`
	// Trusts and Devices are those of the sessions its entry moved to
	// since (session.MoveMinted: a step-up, a phone's confirmation in the
	// same browser), kept beside Trust and Device (attack39 F2): the end
	// of either ends it. None: never moved, or an entry of a release
	// before them, which matches Trust and Device alone.
	Trusts  []string `json:"trusts,omitempty"`
	Devices []string `json:"devices,omitempty"`
	// Expires is when the session ends at the latest: its token's expiry
	// (a gate of the realm with a longer lifetime than the one that
	// minted it honours it until then), or, once the entry moved, the
	// expiry her list of sessions gives the session it moved to. Past it
	// the session is over at every gate, whether its own end record
	// (Session) still stands or not: a gate with a longer lifetime still
	// lists it as signed out (expiry40, attack39c F1). Zero: not known
	// (an entry of a release before it, one moved to a session her list
	// did not name), judged by the gate's lifetime past Issued.
	Expires time.Time `json:"expires,omitzero"`
}

// HasTrust reports whether the session that minted the invite came from
// or made trust, or one it moved to did ("" is none).
func (f *MintedFrom) HasTrust(trust string) bool {
	return trust != "" && (f.Trust == trust || slices.Contains(f.Trusts, trust))
}

// HasDevice reports whether device earned the session that minted the
// invite, or one it moved to ("" is none).
func (f *MintedFrom) HasDevice(device string) bool {
	return device != "" && (f.Device == device || slices.Contains(f.Devices, device))
}

// MintedLife is how long an index holding list is kept past now: until
// its last invite expires (a second more), InviteLife at most.
func MintedLife(list []Minted, now time.Time) time.Duration {
	last := now
	for _, m := range list {
		if m.Expires.After(last) {
			last = m.Expires
		}
	}
	return min(last.Sub(now)+time.Second, InviteLife)
}

// InviteSpent is the key of the record that the invite of user minted at
// at (Unix nanoseconds), or the recovery code used then, enrolled her
// phone (signin's). It lasts InviteLife: as long as the invite's entry in
// its admin's index (MintedInvites), whose end tells a used one (fix35).
func InviteSpent(realm, user string, at int64) string {
	return store.Key("invite-spent", realm, user, strconv.FormatInt(at, 10))
}

// MaxMinted is how many invites an admin may hold open at once (each
// until it expires, or until she is revoked): the index stays small, and
// a mint beyond it is refused, never recorded unindexed.
const MaxMinted = 500
