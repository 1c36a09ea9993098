// Package factor names the kinds of sign-in in one place: the kinds of
// device a gate takes (its factors and require, as the Caddyfile names
// them), the channels a phone's code goes by, the kinds of device a user
// holds (as their records name them), and the kinds of sign-in a session
// records (its amr, RFC 8176). It imports nothing of smsgate, so
// that enrollment, providers, phone and figures name them as signin does;
// what each kind lets through is signin's Policy.
//
// Every value here is a word on the wire: in Caddyfiles and JSON configs,
// in stored device records (an app's kind is "totp"), challenges and
// cooldowns (their channel), and in sessions, tokens and trusts written
// by earlier releases. None may change.
package factor

import (
	"fmt"
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

// Channel is what a phone's code goes by, named as its kind is: a text's
// is sms, a call's voice (providers.Message.Channel, the channels option,
// the phone policy's and the costs' per-channel keys, a challenge's and a
// cooldown's stored channel).
type Channel string

// The channels.
const (
	ChannelSMS   Channel = Channel(SMS)   // a text (for Signal, a Signal message)
	ChannelVoice Channel = Channel(Voice) // a call that reads the code aloud
)

// Channels are every channel, in the order a gate sends by default.
var Channels = []Channel{ChannelSMS, ChannelVoice}

// ChannelNames is Channels for a message: "sms or voice".
const ChannelNames = "sms or voice"

// ParseChannel reads a channel's name, as a Caddyfile or JSON config
// writes it: an unknown word is an error that names it.
func ParseChannel(word string) (Channel, error) {
	if err := Channel(word).Check(); err != nil {
		return "", err
	}
	return Channel(word), nil
}

// Known reports whether c is a channel.
func (c Channel) Known() bool { return c == ChannelSMS || c == ChannelVoice }

// Check is ParseChannel's error for c, read as a channel from a JSON
// config: nil for a channel.
func (c Channel) Check() error {
	if c.Known() {
		return nil
	}
	return fmt.Errorf("unknown channel %q: use %s", string(c), ChannelNames)
}

// Kind is the kind of code c brings: a call's is voice, a text's sms.
func (c Channel) Kind() Kind {
	if c == ChannelVoice {
		return Voice
	}
	return SMS
}

// Device is the kind of a device a user holds, as its stored record names
// it (enrollment.Device.Kind): a phone's is empty, as records were first
// written; an app's is its Kind's name, "totp"; a passkey's "passkey".
type Device string

// The kinds of device held.
const (
	Phone   Device = ""
	App     Device = Device(TOTP)
	Passkey Device = "passkey"
)

// Name is d's name for people and logs: phone, app or passkey — a
// device's "kind" in the devices page's JSON and the admin's tables, the
// audit log's, and the words' keys (kind.app, notice.passkey_removed).
func (d Device) Name() string {
	switch d {
	case Phone:
		return "phone"
	case Passkey:
		return "passkey"
	}
	return "app"
}

// Proves is the kinds of sign-in d's device brings: a phone's, a text's or
// a call's code; an app's, its code; a passkey's, itself.
func (d Device) Proves() []Kind {
	switch d {
	case Phone:
		return []Kind{SMS, Voice}
	case App:
		return []Kind{TOTP}
	case Passkey:
		return []Kind{WebAuthn}
	}
	return nil
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

// Join is strings.Join for kinds, amr values or channels.
func Join[T Kind | AMR | Channel](list []T, sep string) string {
	if len(list) == 1 { // a session's one amr: no copy, as strings.Join
		return string(list[0])
	}
	var b strings.Builder
	for i, v := range list {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(string(v))
	}
	return b.String()
}
