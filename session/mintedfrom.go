package session

import (
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
)

// Which of an admin's console invites end with what ended (attack36 F3):
// each entry of her index names the session that minted it
// (endkeys.MintedFrom), and the trusts and devices of the sessions it
// moved to since (MoveMinted), each matched as its own (attack39 F2). An
// entry of the release before names none: a removal of a device of hers
// ends it (a thief's phone may have minted it), the end of one session
// does not.

// MintedFrom is the entry's record of the session cl minting an invite,
// with the token's own expiry (not this gate's lifetime's cap of it): the
// signed-out listing of a gate with a longer lifetime reads it
// (SignedOutMinted), as the session's end record goes at that expiry.
func MintedFrom(cl *Claims) *endkeys.MintedFrom {
	from := &endkeys.MintedFrom{SID: cl.SID, Device: cl.DeviceID()}
	if cl.IssuedAt != nil {
		from.Issued = cl.IssuedAt.UTC()
	}
	if cl.Trust != nil {
		from.Trust = *cl.Trust
	}
	switch {
	case !cl.signedUntil.IsZero():
		from.Expires = cl.signedUntil.UTC() // a longer gate's: live there till then
	case cl.ExpiresAt != nil:
		from.Expires = cl.ExpiresAt.UTC()
	}
	return from
}

// MintedOfDevice picks the invites minted through a session the removal
// of device ended (EndDevice: one the device earned, but keep where it
// stays), and those whose entry names no session.
func MintedOfDevice(device string, keep *Claims) func(endkeys.Minted) bool {
	keepSID, _ := kept(keep, device)
	return func(m endkeys.Minted) bool {
		return m.From == nil || m.From.HasDevice(device) && m.From.SID != keepSID
	}
}

// MintedOfUndone picks the invites minted through a session device earned
// while it was listed, its adding undone (EndUndoneDevice): those of a
// session naming it, not those whose entry names no session.
func MintedOfUndone(device string) func(endkeys.Minted) bool {
	return func(m endkeys.Minted) bool { return m.From != nil && m.From.HasDevice(device) }
}

// MintedIn picks the invites minted through session sid ("" for none),
// or through a session of trust ("" for none): End ends them all, and the
// devices page's end of a trust (its sessions) those of the trust.
func MintedIn(sid, trust string) func(endkeys.Minted) bool {
	return func(m endkeys.Minted) bool {
		return m.From != nil && (sid != "" && m.From.SID == sid || m.From.HasTrust(trust))
	}
}

// MintedUntil picks the invites minted through a session signed until at
// (a revocation of her sessions until then: a provisioned admin's lost
// number, EndUserUntil), and those whose entry names no session.
func MintedUntil(at time.Time) func(endkeys.Minted) bool {
	return func(m endkeys.Minted) bool { return m.From == nil || !m.From.Issued.After(at) }
}

// MintedOfUnlisted picks the invites minted through a session EndUnlisted
// ended with u: signed until u.Through, or of a trust it names or ended
// (u.Ended: past MaxListed trusts, every one issued until u.Through,
// whose sessions signed since end too: minted37).
func MintedOfUnlisted(u Unlisted) func(endkeys.Minted) bool {
	return func(m endkeys.Minted) bool {
		return m.From != nil && (!m.From.Issued.After(u.Through) ||
			slices.ContainsFunc(u.Trusts, m.From.HasTrust) || slices.ContainsFunc(u.Ended, m.From.HasTrust))
	}
}
