package factor

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestTheWordsStay: every kind and amr value is a word written down
// elsewhere — in Caddyfiles and JSON configs (factors, require,
// channels), in device records (an app's kind), and in the sessions,
// tokens and trusts earlier releases wrote, which must read the same.
// Renaming one here would break them all, so each is pinned.
func TestTheWordsStay(t *testing.T) {
	t.Parallel()
	kinds := map[Kind]string{SMS: "sms", Voice: "voice", TOTP: "totp", WebAuthn: "webauthn"}
	for k, want := range kinds {
		if string(k) != want || !k.Known() {
			t.Errorf("kind %q, want %q, known", k, want)
		}
	}
	if len(Kinds) != len(kinds) || Join(Kinds, ", ") != "sms, voice, totp, webauthn" || KindNames != "sms, voice, totp or webauthn" {
		t.Errorf("Kinds %v, KindNames %q", Kinds, KindNames)
	}
	amrs := map[AMR]string{AMRSMS: "sms", AMRTel: "tel", AMROTP: "otp", AMRSoftware: "swk", AMRHardware: "hwk", AMRRecovery: "recovery", AMRTrusted: "trusted"}
	for a, want := range amrs {
		if string(a) != want || !slices.Contains(AMRs, a) {
			t.Errorf("amr %q, want %q, in AMRs", a, want)
		}
	}
	if len(AMRs) != len(amrs) {
		t.Errorf("AMRs %v: %d, want %d", AMRs, len(AMRs), len(amrs))
	}
}

// TestWhatEachSignInProves: each amr value proves its kind of device; a
// recovery code and a trusted browser prove none.
func TestWhatEachSignInProves(t *testing.T) {
	t.Parallel()
	for a, k := range map[AMR]Kind{AMRSMS: SMS, AMRTel: Voice, AMROTP: TOTP, AMRSoftware: WebAuthn, AMRHardware: WebAuthn, AMRRecovery: "", AMRTrusted: "", "pwd": ""} {
		if got := a.Proves(); got != k {
			t.Errorf("%q proves %q, want %q", a, got, k)
		}
	}
	if Kind("passkey").Known() {
		t.Error("a word that is no kind passes as one")
	}
	if got := Join([]AMR{AMRSMS, AMROTP}, " "); !strings.EqualFold(got, "sms otp") {
		t.Errorf("Join: %q", got)
	}
}

// TestChannelsAreTheirKindsNames: a channel is the name of the kind of
// code it brings (a text's sms, a call's voice), so a gate's channels and
// its factors speak one language; every other word is refused in words
// that name it and the two channels, for a config's error.
func TestChannelsAreTheirKindsNames(t *testing.T) {
	t.Parallel()
	if ChannelSMS != "sms" || ChannelVoice != "voice" || Join(Channels, " ") != "sms voice" || ChannelNames != "sms or voice" {
		t.Fatalf("the channels' words changed: %v, %q", Channels, ChannelNames)
	}
	for _, c := range Channels {
		got, err := ParseChannel(string(c))
		if err != nil || got != c || c.Check() != nil || string(c.Kind()) != string(c) {
			t.Errorf("channel %q: parsed %q, %v; kind %q", c, got, err, c.Kind())
		}
	}
	for _, word := range []string{"", "call", "SMS", "totp", "fax"} {
		c, err := ParseChannel(word)
		if err == nil || c != "" || Channel(word).Known() {
			t.Errorf("ParseChannel(%q) = %q, %v: want refused", word, c, err)
			continue
		}
		if want := fmt.Sprintf("unknown channel %q: use sms or voice", word); err.Error() != want || Channel(word).Check().Error() != want {
			t.Errorf("ParseChannel(%q): %q, want %q", word, err, want)
		}
	}
}

// TestDevicesAsRecordsNameThem: the kind of a device a user holds is a
// word its stored record carries — none for a phone (as the first
// records were written), an app's kind's name (totp), "passkey" — and
// earlier releases' records must read the same; its name for people and
// logs (the devices page's JSON, the audit log, the words' keys) is
// pinned too.
func TestDevicesAsRecordsNameThem(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d            Device
		stored, name string
	}{{Phone, "", "phone"}, {App, "totp", "app"}, {Passkey, "passkey", "passkey"}} {
		if string(c.d) != c.stored || c.d.Name() != c.name {
			t.Errorf("device %q named %q, want %q named %q", c.d, c.d.Name(), c.stored, c.name)
		}
	}
	proves := map[Device][]Kind{Phone: {SMS, Voice}, App: {TOTP}, Passkey: {WebAuthn}, "webauthn": nil}
	for d, kinds := range proves {
		if got := d.Proves(); !slices.Equal(got, kinds) {
			t.Errorf("%q proves %v, want %v", d, got, kinds)
		}
	}
}
