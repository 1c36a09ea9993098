package signin

import (
	"slices"
	"strings"
	"testing"
)

func TestPolicy(t *testing.T) {
	t.Parallel()
	p := &Policy{Require: []string{"totp", "webauthn"}}
	if err := p.Settle([]Kind{SMS, TOTP, WebAuthn}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Factors, " ") != "sms totp webauthn" {
		t.Fatalf("default factors %v", p.Factors)
	}
	for _, tc := range []struct {
		amr     []string
		trusted bool
		want    bool
	}{
		{[]string{AMRSMS}, false, false},
		{[]string{AMRTel}, false, false},
		{[]string{AMRRecovery}, false, false},
		{[]string{AMROTP}, false, true},
		{[]string{AMRSoftware}, false, true},
		{[]string{AMRHardware}, false, true},
		{[]string{AMROTP}, true, false}, // a trusted browser proved no device now
	} {
		if got := p.Satisfied(tc.amr, tc.trusted); got != tc.want {
			t.Errorf("require totp webauthn, amr %v trusted %v: %v, want %v", tc.amr, tc.trusted, got, tc.want)
		}
	}
	if p.Offers(SMS, false) || !p.Offers(SMS, true) || p.OffersRecovery(false) || !p.OffersRecovery(true) {
		t.Error("a required route offers texts or recovery codes, or a step-up does not")
	}
	if EarnsTrust([]string{AMRRecovery}) || !EarnsTrust([]string{AMRSMS}) || NeedsStepUp("rename") || !NeedsStepUp("remove") {
		t.Error("trust or step-up rules")
	}
	for _, bad := range []struct {
		p    Policy
		want string
	}{
		{Policy{Factors: []string{"email"}}, `unknown kind "email"`},
		{Policy{Factors: []string{"voice"}}, "the channels do not include voice"},
		{Policy{Factors: []string{"totp"}}, "name sms or voice too"},
		{Policy{Factors: []string{"sms"}, Require: []string{"totp"}}, "this gate does not take totp"},
	} {
		if err := bad.p.Settle([]Kind{SMS, TOTP}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: %v, want %q", bad.p, err, bad.want)
		}
	}
}

// TestPolicyChannels: a gate sends by the channels whose kind it takes,
// and offers a channel's codes only where its route takes them.
func TestPolicyChannels(t *testing.T) {
	t.Parallel()
	p := &Policy{Factors: []string{"voice", "totp"}}
	if err := p.Settle([]Kind{SMS, Voice, TOTP}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Channels([]string{"sms", "voice"}), " "); got != "voice" {
		t.Fatalf("channels of a gate that takes voice and totp: %q", got)
	}
	if p.TakesChannel("sms") || !p.TakesChannel("voice") {
		t.Fatal("TakesChannel")
	}
	r := &Policy{Require: []string{"sms"}}
	if err := r.Settle([]Kind{SMS, Voice}); err != nil {
		t.Fatal(err)
	}
	if r.OffersChannel("voice", false) || !r.OffersChannel("voice", true) || !r.OffersChannel("sms", false) {
		t.Fatal("OffersChannel: a call where texts are required, but at a step-up")
	}
}

// TestEarned: a session counts at a gate only when it was earned with a
// kind the gate takes (or a recovery code); one that names no kind, or
// one the gate dropped from its factors, counts nowhere — though the
// gate requires nothing.
func TestEarned(t *testing.T) {
	t.Parallel()
	p := &Policy{Factors: []string{"voice", "totp"}}
	if err := p.Settle([]Kind{SMS, Voice, TOTP, WebAuthn}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		amr  []string
		want bool
	}{
		{[]string{AMRSMS}, false},
		{[]string{AMRSoftware}, false},
		{[]string{AMRHardware}, false},
		{nil, false},
		{[]string{"pwd"}, false},
		{[]string{AMRTel}, true},
		{[]string{AMROTP}, true},
		{[]string{AMRRecovery}, true},
		{[]string{AMRSMS, AMROTP}, true},
	} {
		if got := p.Earned(tc.amr); got != tc.want || p.Satisfied(tc.amr, false) != tc.want {
			t.Errorf("factors voice totp, amr %v: earned %v, satisfied %v; want %v", tc.amr, got, p.Satisfied(tc.amr, false), tc.want)
		}
	}
}

// TestSatisfiedByBitsIsSatisfied: the amr as bits (what the session cache
// keeps) passes exactly where the amr values do, read one by one as the
// kinds they prove — for every set of amr values (and one no gate makes),
// trusted or not, at gates taking and requiring different kinds, and at
// a step-up that must prove an app or a passkey (StrongOnly), or a passkey
// (PasskeyOnly).
func TestSatisfiedByBitsIsSatisfied(t *testing.T) {
	t.Parallel()
	values := []string{AMRSMS, AMRTel, AMROTP, AMRSoftware, AMRHardware, AMRRecovery, "pwd"}
	for _, gate := range []struct {
		factors, require []string
		strong, passkey  bool
	}{
		{[]string{"sms", "voice", "totp", "webauthn"}, nil, false, false},
		{[]string{"voice", "totp"}, nil, false, false},
		{[]string{"sms", "totp", "webauthn"}, []string{"totp", "webauthn"}, false, false},
		{[]string{"sms", "voice"}, []string{"voice"}, false, false},
		{[]string{"sms", "voice", "totp", "webauthn"}, []string{"totp", "webauthn"}, true, false}, // StrongOnly of the first
		{[]string{"sms", "voice", "totp", "webauthn"}, []string{"webauthn"}, false, true},         // PasskeyOnly of the first
	} {
		p := &Policy{Factors: gate.factors}
		if !gate.strong && !gate.passkey {
			p.Require = gate.require
		}
		if err := p.Settle(Kinds); err != nil {
			t.Fatal(err)
		}
		if gate.strong {
			p = p.StrongOnly()
		}
		if gate.passkey {
			p = p.PasskeyOnly()
		}
		for set := range 1 << len(values) {
			var amr []string
			for i, v := range values {
				if set&(1<<i) != 0 {
					amr = append(amr, v)
				}
			}
			for _, trusted := range []bool{false, true} {
				earned, required := false, len(gate.require) == 0
				for _, a := range amr {
					k, ok := kindOfAMR[a]
					earned = earned || a == AMRRecovery || ok && slices.Contains(gate.factors, string(k))
					required = required || !trusted && ok && slices.Contains(gate.require, string(k))
				}
				if got := p.SatisfiedBy(AMRsOf(amr), trusted); got != (earned && required) {
					t.Errorf("factors %v require %v, amr %v trusted %v: %v, want %v", gate.factors, gate.require, amr, trusted, got, earned && required)
				}
			}
		}
	}
}
