package factor

import (
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
// recovery code and a trusted browser prove none. Each channel is its
// kind's name.
func TestWhatEachSignInProves(t *testing.T) {
	t.Parallel()
	for a, k := range map[AMR]Kind{AMRSMS: SMS, AMRTel: Voice, AMROTP: TOTP, AMRSoftware: WebAuthn, AMRHardware: WebAuthn, AMRRecovery: "", AMRTrusted: "", "pwd": ""} {
		if got := a.Proves(); got != k {
			t.Errorf("%q proves %q, want %q", a, got, k)
		}
	}
	for _, k := range Kinds {
		if got := IsChannel(string(k)); got != (k == SMS || k == Voice) {
			t.Errorf("IsChannel(%q) = %v", k, got)
		} else if got && OfChannel(string(k)) != k {
			t.Errorf("OfChannel(%q) = %q", k, OfChannel(string(k)))
		}
	}
	if IsChannel("call") || IsChannel("") || Kind("passkey").Known() {
		t.Error("a word that is no channel or kind passes as one")
	}
	if got := Join([]AMR{AMRSMS, AMROTP}, " "); !strings.EqualFold(got, "sms otp") {
		t.Errorf("Join: %q", got)
	}
}
