// Package factor names the kinds of sign-in in one place: the kinds of
// device a gate takes (its factors and require, as the Caddyfile names
// them), the channels a phone's code goes by, and the kinds of sign-in a
// session records (its amr, RFC 8176). It imports nothing of smsgate, so
// that enrollment, providers, phone and figures name them as signin does;
// what each kind lets through is signin's Policy.
//
// Every value here is a word on the wire: in Caddyfiles and JSON configs,
// in stored device records (an app's kind is "totp") and in sessions,
// tokens and trusts written by earlier releases. None may change.
package factor

import (
	"slices"
	"strings"
)

// Kind is a kind of device, named as in the Caddyfile.
type Kind string

// The kinds of device.
const (
	SMS      Kind = "sms"
	Voice    Kind = "voice"
	TOTP     Kind = "totp"     // authenticator apps
	WebAuthn Kind = "webauthn" // passkeys
)

// Kinds are every kind of device, in the order pages offer them.
var Kinds = []Kind{SMS, Voice, TOTP, WebAuthn}

// KindNames is Kinds for a message: "sms, voice, totp or webauthn".
const KindNames = "sms, voice, totp or webauthn"

// Known reports whether k is a kind of device.
func (k Kind) Known() bool { return slices.Contains(Kinds, k) }

// A channel is what a phone's code goes by, named as its kind is: a
// text's is sms, a call's voice (providers.Message.Channel, the channels
// option, the phone policy's and the costs' per-channel keys).

// IsChannel reports whether name is a channel's: sms or voice.
func IsChannel(name string) bool { return name == string(SMS) || name == string(Voice) }

// OfChannel is the kind of code channel brings: a call's is voice, a
// text's sms.
func OfChannel(channel string) Kind {
	if channel == string(Voice) {
		return Voice
	}
	return SMS
}

// AMR is a kind of sign-in a session records (an amr value, RFC 8176).
type AMR string

// The kinds of sign-in.
const (
	AMRSMS      AMR = "sms"      // a texted code
	AMRTel      AMR = "tel"      // a code read out in a call
	AMROTP      AMR = "otp"      // an authenticator app's code
	AMRSoftware AMR = "swk"      // a passkey that may be synced between devices
	AMRHardware AMR = "hwk"      // a passkey bound to its device
	AMRRecovery AMR = "recovery" // a recovery code: proves no device
	AMRTrusted  AMR = "trusted"  // a trusted browser: proved no device now
)

// AMRs are every kind of sign-in.
var AMRs = []AMR{AMRSMS, AMRTel, AMROTP, AMRSoftware, AMRHardware, AMRRecovery, AMRTrusted}

// Proves is the kind of device a sign-in with a proved: none ("") for a
// recovery code's or a trusted browser's.
func (a AMR) Proves() Kind {
	switch a {
	case AMRSMS:
		return SMS
	case AMRTel:
		return Voice
	case AMROTP:
		return TOTP
	case AMRSoftware, AMRHardware:
		return WebAuthn
	}
	return ""
}

// Join is strings.Join for kinds or amr values.
func Join[T Kind | AMR](list []T, sep string) string {
	var b strings.Builder
	for i, v := range list {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(string(v))
	}
	return b.String()
}
