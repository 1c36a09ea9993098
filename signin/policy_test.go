package signin

import (
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/factor"
)

func TestPolicy(t *testing.T) {
	t.Parallel()
	p := &Policy{Require: []factor.Kind{factor.TOTP, factor.WebAuthn}}
	if err := p.Settle([]factor.Kind{factor.SMS, factor.TOTP, factor.WebAuthn}); err != nil {
		t.Fatal(err)
	}
	if factor.Join(p.Factors, " ") != "sms totp webauthn" {
		t.Fatalf("default factors %v", p.Factors)
	}
	for _, tc := range []struct {
		amr     []factor.AMR
		trusted bool
		want    bool
	}{
		{[]factor.AMR{factor.AMRSMS}, false, false},
		{[]factor.AMR{factor.AMRTel}, false, false},
		{[]factor.AMR{factor.AMRRecovery}, false, false},
		{[]factor.AMR{factor.AMROTP}, false, true},
		{[]factor.AMR{factor.AMRSoftware}, false, true},
		{[]factor.AMR{factor.AMRHardware}, false, true},
		{[]factor.AMR{factor.AMROTP}, true, false}, // a trusted browser proved no device now
	} {
		if got := p.Satisfied(tc.amr, tc.trusted); got != tc.want {
			t.Errorf("require totp webauthn, amr %v trusted %v: %v, want %v", tc.amr, tc.trusted, got, tc.want)
		}
	}
	if p.Offers(factor.SMS, false) || !p.Offers(factor.SMS, true) || p.OffersRecovery(false) || !p.OffersRecovery(true) {
		t.Error("a required route offers texts or recovery codes, or a step-up does not")
	}
	if EarnsTrust([]factor.AMR{factor.AMRRecovery}) || !EarnsTrust([]factor.AMR{factor.AMRSMS}) || NeedsStepUp("rename") || !NeedsStepUp("remove") {
		t.Error("trust or step-up rules")
	}
	for _, bad := range []struct {
		p    Policy
		want string
	}{
		{Policy{Factors: []factor.Kind{"email"}}, `unknown kind "email"`},
		{Policy{Factors: []factor.Kind{factor.Voice}}, "the channels do not include voice"},
		{Policy{Factors: []factor.Kind{factor.TOTP}}, "name sms or voice too"},
		{Policy{Factors: []factor.Kind{factor.SMS}, Require: []factor.Kind{factor.TOTP}}, "this gate does not take totp"},
	} {
		if err := bad.p.Settle([]factor.Kind{factor.SMS, factor.TOTP}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: %v, want %q", bad.p, err, bad.want)
		}
	}
}

// TestPolicyChannels: a gate sends by the channels whose kind it takes,
// and offers a channel's codes only where its route takes them.
func TestPolicyChannels(t *testing.T) {
	t.Parallel()
	p := &Policy{Factors: []factor.Kind{factor.Voice, factor.TOTP}}
	if err := p.Settle([]factor.Kind{factor.SMS, factor.Voice, factor.TOTP}); err != nil {
		t.Fatal(err)
	}
	if got := factor.Join(p.Channels([]factor.Channel{"sms", "voice"}), " "); got != "voice" {
		t.Fatalf("channels of a gate that takes voice and totp: %q", got)
	}
	if p.TakesChannel("sms") || !p.TakesChannel("voice") {
		t.Fatal("TakesChannel")
	}
	r := &Policy{Require: []factor.Kind{factor.SMS}}
	if err := r.Settle([]factor.Kind{factor.SMS, factor.Voice}); err != nil {
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
	p := &Policy{Factors: []factor.Kind{factor.Voice, factor.TOTP}}
	if err := p.Settle([]factor.Kind{factor.SMS, factor.Voice, factor.TOTP, factor.WebAuthn}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		amr  []factor.AMR
		want bool
	}{
		{[]factor.AMR{factor.AMRSMS}, false},
		{[]factor.AMR{factor.AMRSoftware}, false},
		{[]factor.AMR{factor.AMRHardware}, false},
		{nil, false},
		{[]factor.AMR{"pwd"}, false},
		{[]factor.AMR{factor.AMRTel}, true},
		{[]factor.AMR{factor.AMROTP}, true},
		{[]factor.AMR{factor.AMRRecovery}, true},
		{[]factor.AMR{factor.AMRSMS, factor.AMROTP}, true},
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
	values := []factor.AMR{factor.AMRSMS, factor.AMRTel, factor.AMROTP, factor.AMRSoftware, factor.AMRHardware, factor.AMRRecovery, "pwd"}
	for _, gate := range []struct {
		factors, require []factor.Kind
		strong, passkey  bool
	}{
		{[]factor.Kind{factor.SMS, factor.Voice, factor.TOTP, factor.WebAuthn}, nil, false, false},
		{[]factor.Kind{factor.Voice, factor.TOTP}, nil, false, false},
		{[]factor.Kind{factor.SMS, factor.TOTP, factor.WebAuthn}, []factor.Kind{factor.TOTP, factor.WebAuthn}, false, false},
		{[]factor.Kind{factor.SMS, factor.Voice}, []factor.Kind{factor.Voice}, false, false},
		{[]factor.Kind{factor.SMS, factor.Voice, factor.TOTP, factor.WebAuthn}, []factor.Kind{factor.TOTP, factor.WebAuthn}, true, false}, // StrongOnly of the first
		{[]factor.Kind{factor.SMS, factor.Voice, factor.TOTP, factor.WebAuthn}, []factor.Kind{factor.WebAuthn}, false, true},              // PasskeyOnly of the first
	} {
		p := &Policy{Factors: gate.factors}
		if !gate.strong && !gate.passkey {
			p.Require = gate.require
		}
		if err := p.Settle(factor.Kinds); err != nil {
			t.Fatal(err)
		}
		if gate.strong {
			p = p.StrongOnly()
		}
		if gate.passkey {
			p = p.PasskeyOnly()
		}
		for set := range 1 << len(values) {
			var amr []factor.AMR
			for i, v := range values {
				if set&(1<<i) != 0 {
					amr = append(amr, v)
				}
			}
			for _, trusted := range []bool{false, true} {
				earned, required := false, len(gate.require) == 0
				for _, a := range amr {
					k := a.Proves()
					earned = earned || a == factor.AMRRecovery || k != "" && slices.Contains(gate.factors, k)
					required = required || !trusted && k != "" && slices.Contains(gate.require, k)
				}
				if got := p.SatisfiedBy(AMRsOf(amr), trusted); got != (earned && required) {
					t.Errorf("factors %v require %v, amr %v trusted %v: %v, want %v", gate.factors, gate.require, amr, trusted, got, earned && required)
				}
			}
		}
	}
}

// TestStrongOnlyWithinKeepsToTheRoutesRequire: the console's step-up for
// an app or a passkey (StrongOnlyWithin) offers, at a route that requires
// a passkey, the passkey alone — an app's code would pass the step-up and
// not the route, and send the admin round again; at a route that requires
// no app nor passkey (or nothing), both, as StrongOnly; at a gate that
// takes neither, nothing, and never a text, a call or a recovery code.
func TestStrongOnlyWithinKeepsToTheRoutesRequire(t *testing.T) {
	t.Parallel()
	all := []factor.Kind{factor.SMS, factor.Voice, factor.TOTP, factor.WebAuthn}
	for _, gate := range []struct {
		factors, require, want []factor.Kind
	}{
		{all, nil, []factor.Kind{factor.TOTP, factor.WebAuthn}},
		{all, []factor.Kind{factor.WebAuthn}, []factor.Kind{factor.WebAuthn}},
		{all, []factor.Kind{factor.TOTP}, []factor.Kind{factor.TOTP}},
		{all, []factor.Kind{factor.Voice}, []factor.Kind{factor.TOTP, factor.WebAuthn}},
		{[]factor.Kind{factor.SMS, factor.TOTP}, []factor.Kind{factor.SMS}, []factor.Kind{factor.TOTP}},
		{[]factor.Kind{factor.SMS}, nil, nil},
	} {
		p := &Policy{Factors: gate.factors, Require: gate.require}
		if err := p.Settle(factor.Kinds); err != nil {
			t.Fatal(err)
		}
		s := p.StrongOnlyWithin()
		for _, k := range all {
			if got, want := s.Offers(k, false), slices.Contains(gate.want, k); got != want {
				t.Errorf("factors %v require %v: offers %s %v, want %v", gate.factors, gate.require, k, got, want)
			}
		}
		if s.OffersRecovery(false) || s.OffersRecovery(true) {
			t.Errorf("factors %v require %v: a recovery code offered", gate.factors, gate.require)
		}
	}
}
