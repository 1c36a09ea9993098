package signin

import (
	"fmt"
	"slices"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
)

// The sign-in's policy, decided in one place: which kinds of device
// (factor.Kind) a gate takes (factors), which a route requires (require),
// what a trusted browser may skip, which devices-page actions need no
// step-up, and which kinds of sign-in (factor.AMR) pass.

// AMRs is a set of amr values, one bit each: what a repeat visit tests a
// session against without a map or a string compare per factor.
type AMRs uint8

// amrBit is amr's bit (0 for a value no sign-in of this gate makes).
func amrBit(amr factor.AMR) AMRs {
	switch amr {
	case factor.AMRSMS:
		return 1 << 0
	case factor.AMRTel:
		return 1 << 1
	case factor.AMROTP:
		return 1 << 2
	case factor.AMRSoftware:
		return 1 << 3
	case factor.AMRHardware:
		return 1 << 4
	case factor.AMRRecovery:
		return 1 << 5
	}
	return 0
}

// Policy is what a gate takes and what its route requires.
type Policy struct {
	// Factors are the kinds the gate takes; Require those a session must
	// have been earned with to pass (none: any).
	Factors, Require []factor.Kind
	// earns are the amr values of the kinds the gate takes, and a
	// recovery code's; requires, those of the kinds it requires (Settle
	// fills them in).
	earns, requires AMRs
	// strongOnly: StrongOnly's, which takes no recovery code even where
	// the gate takes no app or passkey (Require is empty then).
	strongOnly bool
}

// Settle checks factors and require against can, the kinds the gate can
// offer, and fills in the default: all of them. A user's first device is
// a phone, so sms or voice must be among them.
func (p *Policy) Settle(can []factor.Kind) error {
	if len(p.Factors) == 0 {
		p.Factors = slices.Clone(can)
	}
	for _, k := range p.Factors {
		if !k.Known() {
			return fmt.Errorf("factors: unknown kind %q: use %s", k, factor.KindNames)
		}
		if !slices.Contains(can, k) {
			return fmt.Errorf("factors %s: %s", k, cannot[k])
		}
	}
	if !p.Takes(factor.SMS) && !p.Takes(factor.Voice) {
		return fmt.Errorf("factors: name sms or voice too: a user's first device is a phone")
	}
	for _, k := range p.Require {
		if !p.Takes(k) {
			return fmt.Errorf("require %s: this gate does not take %s (factors %v)", k, k, p.Factors)
		}
	}
	p.earns, p.requires = amrBit(factor.AMRRecovery)|amrsOfKinds(p.Factors), amrsOfKinds(p.Require)
	return nil
}

// CanOffer is the kinds a gate can offer, in order: its channels' (a
// text's sms, a call's voice), authenticator apps, and passkeys where it
// has a site's origin for them.
func CanOffer(channels []factor.Channel, passkeys bool) []factor.Kind {
	var can []factor.Kind
	for _, c := range channels {
		can = append(can, c.Kind())
	}
	can = append(can, factor.TOTP)
	if passkeys {
		can = append(can, factor.WebAuthn)
	}
	return can
}

// cannot says why a gate cannot offer a kind.
var cannot = map[factor.Kind]string{
	factor.SMS:      "the channels do not include sms",
	factor.Voice:    "the channels do not include voice",
	factor.TOTP:     "authenticator apps are not offered",
	factor.WebAuthn: "passkeys need the site's origin (public_origin or site_origin)",
}

// Takes reports whether the gate takes kind at all.
func (p *Policy) Takes(kind factor.Kind) bool { return slices.Contains(p.Factors, kind) }

// Earned reports whether a session (or a trust) earned with amr counts at
// this gate at all: earned with a kind it takes (a gate whose factors
// dropped sms opens nothing for a texted session), or with a recovery
// code. A session that names no way it was earned counts nowhere.
func (p *Policy) Earned(amr []factor.AMR) bool { return p.earns.Earned(amr) }

// Earns is the amr values a session earned at this gate may hold (one of
// them at least): Earned, for a caller to keep beside its hot fields.
func (p *Policy) Earns() AMRs { return p.earns }

// Earned reports whether amr holds a value of e.
func (e AMRs) Earned(amr []factor.AMR) bool { return e.Holds(AMRsOf(amr)) }

// Holds reports whether e and of share an amr value: Earned, for a set
// made once (AMRsOf, kept in the session cache's entry: session.Config's
// AMRs) and tested on every repeat visit.
func (e AMRs) Holds(of AMRs) bool { return e&of != 0 }

// amrsOfKinds is the amr values that prove one of kinds.
func amrsOfKinds(kinds []factor.Kind) AMRs {
	var e AMRs
	for _, a := range factor.AMRs {
		if slices.Contains(kinds, a.Proves()) {
			e |= amrBit(a)
		}
	}
	return e
}

// AMRsOf is the set of the amr values a session was earned with (those
// no sign-in of a gate makes have no bit: they count nowhere).
func AMRsOf(amr []factor.AMR) AMRs {
	var e AMRs
	for _, a := range amr {
		e |= amrBit(a)
	}
	return e
}

// AMRBits is AMRsOf as the session cache keeps it (session.Config.AMRs).
func AMRBits(amr []factor.AMR) uint8 { return uint8(AMRsOf(amr)) }

// Satisfied reports whether a session earned with amr passes the route: a
// kind the gate takes (Earned), and a kind it requires, if it requires
// any. A trusted browser's session never passes a require (it proved no
// device now).
func (p *Policy) Satisfied(amr []factor.AMR, trusted bool) bool {
	return p.SatisfiedBy(AMRsOf(amr), trusted)
}

// SatisfiedBy is Satisfied for amr as bits (AMRsOf: what the session
// cache keeps), for a repeat visit that reads no claims' strings.
func (p *Policy) SatisfiedBy(amr AMRs, trusted bool) bool {
	if !p.earns.Holds(amr) {
		return false
	}
	return len(p.Require) == 0 || !trusted && p.requires.Holds(amr)
}

// Offers reports whether the verify step may offer kind: a kind the gate
// takes, and, unless this is a step-up (which only asks for a fresh
// code), one it requires.
func (p *Policy) Offers(kind factor.Kind, stepUp bool) bool {
	return p.Takes(kind) && (len(p.Require) == 0 || stepUp || slices.Contains(p.Require, kind))
}

// Channels are the channels of all whose kind the gate takes, in order:
// a gate whose factors leave sms out sends no texts (and its first
// channel, the one a code goes by unless asked otherwise, is one it
// takes). Those whose kind the route requires come first, so that a route
// that requires voice calls first, though the channels put sms before it.
func (p *Policy) Channels(all []factor.Channel) []factor.Channel {
	var required, taken []factor.Channel
	for _, ch := range all {
		switch {
		case slices.Contains(p.Require, ch.Kind()):
			required = append(required, ch)
		case p.Takes(ch.Kind()):
			taken = append(taken, ch)
		}
	}
	return append(required, taken...)
}

// TakesChannel reports whether the gate takes the kind of code channel
// brings.
func (p *Policy) TakesChannel(channel factor.Channel) bool { return p.Takes(channel.Kind()) }

// OffersChannel is Offers for the kind of code a channel brings: a call's
// is voice, a text's sms.
func (p *Policy) OffersChannel(channel factor.Channel, stepUp bool) bool {
	return p.Offers(channel.Kind(), stepUp)
}

// OffersRecovery reports whether a recovery code may be used: it proves no
// device, so not where a kind is required (but at a step-up, yes).
func (p *Policy) OffersRecovery(stepUp bool) bool {
	return !p.strongOnly && (len(p.Require) == 0 || stepUp)
}

// EarnsTrust reports whether a sign-in with amr may make its browser
// trusted: not one with a recovery code (it is for a lost phone).
func EarnsTrust(amr []factor.AMR) bool { return len(amr) > 0 && amr[0] != factor.AMRRecovery }

// NeedsStepUp reports whether a devices-page action needs a fresh code:
// renaming, and ending trust or sessions, protect more than they risk.
func NeedsStepUp(action string) bool { return !stepUpExempt[action] }

var stepUpExempt = map[string]bool{"rename": true, "untrust": true, "signout-all": true}

// Strong reports whether a session earned with amr proved an app or a
// passkey when it began (a trusted browser's proved nothing then).
func Strong(amr []factor.AMR, trusted bool) bool {
	return !trusted && strongAMRs.Holds(AMRsOf(amr))
}

// strongAMRs are the amr values of an app or a passkey.
var strongAMRs = amrsOfKinds([]factor.Kind{factor.TOTP, factor.WebAuthn})

// GuardsStrong reports whether a devices-page action changes what proves
// more than a phone: adding an app or a passkey, or removing one
// (removed: the kind of the device removed). Such a change, by a user who
// holds an app or a passkey (HoldsStrong), needs a step-up with one of
// them, not a text: else whoever has the user's texts (a SIM swap) adds
// an app of their own and passes a route that requires one.
func GuardsStrong(action string, removed factor.Device) bool {
	switch action {
	case "app", "app-confirm", "passkey":
		return true
	case "remove":
		return removed == factor.App || removed == factor.Passkey
	}
	return false
}

// GuardsPasskeys reports whether a devices-page action adds or removes a
// passkey (removed: the kind of the device removed). Such a change, by a
// user who holds a passkey, needs a passkey proved, not an app: an app's
// code can be phished, as a passkey cannot, and a passkey of the phisher's
// own passes a route that requires one (require webauthn).
func GuardsPasskeys(action string, removed factor.Device) bool {
	return action == "passkey" || action == "remove" && removed == factor.Passkey
}

// ProvesPasskey reports whether a session earned with amr proved a passkey
// when it began (a trusted browser's proved nothing then).
func ProvesPasskey(amr []factor.AMR, trusted bool) bool {
	return !trusted && passkeyAMRs.Holds(AMRsOf(amr))
}

// passkeyAMRs are the amr values of a passkey.
var passkeyAMRs = amrsOfKinds([]factor.Kind{factor.WebAuthn})

// HoldsStrong reports whether list holds an app or a passkey.
func HoldsStrong(list []enrollment.Device) bool {
	return enrollment.HasKind(list, factor.App) || enrollment.HasKind(list, factor.Passkey)
}

// StrongOnly is the policy of a step-up that must prove an app or a
// passkey (GuardsStrong): the gate's kinds among them, each required, so
// that no text, call or recovery code is offered or taken — at a gate
// that takes neither, nothing (its user proves one at a gate of the realm
// that takes it, or asks the admin).
func (p *Policy) StrongOnly() *Policy { return p.only(factor.TOTP, factor.WebAuthn) }

// StrongOnlyWithin is StrongOnly within what the route requires: of an
// app and a passkey, those the route requires where it requires one of
// them (a passkey where it requires webauthn: an app's code would pass
// the step-up and not the route). The console's, for an admin who holds
// one and signed in with neither (pages' rules).
func (p *Policy) StrongOnlyWithin() *Policy {
	var kinds []factor.Kind
	for _, k := range []factor.Kind{factor.TOTP, factor.WebAuthn} {
		if slices.Contains(p.Require, k) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return p.StrongOnly()
	}
	return p.only(kinds...)
}

// PasskeyOnly is the policy of a step-up that must prove a passkey
// (GuardsPasskeys, for a user who holds one): StrongOnly's, with passkeys
// alone — at a gate that takes none, nothing.
func (p *Policy) PasskeyOnly() *Policy { return p.only(factor.WebAuthn) }

// only is a step-up's policy that takes and requires those of kinds this
// gate takes, and nothing else.
func (p *Policy) only(kinds ...factor.Kind) *Policy {
	var taken []factor.Kind
	for _, k := range kinds {
		if p.Takes(k) {
			taken = append(taken, k)
		}
	}
	return &Policy{Factors: taken, Require: taken, earns: p.earns, requires: amrsOfKinds(taken), strongOnly: true}
}
