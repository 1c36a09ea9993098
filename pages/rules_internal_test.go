package pages

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// stepUpRequests are a verify step's requests whose rules are a step-up's
// own policy: the console's for an admin sent for her app or passkey, and
// the devices page's step-up of a change that must prove a passkey, or an
// app or a passkey. p is a gate that takes and requires every kind.
func stepUpRequests(t testing.TB) (*Pages, map[string]*request) {
	pol := &signin.Policy{Require: []factor.Kind{factor.TOTP, factor.WebAuthn}}
	if err := pol.Settle(signin.CanOffer([]factor.Channel{factor.ChannelSMS}, true)); err != nil {
		t.Fatal(err)
	}
	p := New(Config{Policy: pol, PathPrefix: DefaultPrefix, SignIn: &signin.Service{Identity: signin.FirstFactor{}}})
	stepUp := func(pending *pendingChange) *request {
		return &request{user: "alice", sessionRead: true, session: &session.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "alice"}, AMR: []factor.AMR{factor.AMRSMS}},
			flow: &flowClaims{RD: DefaultPrefix + "devices", Pending: pending}}
	}
	return p, map[string]*request{
		"console":         {user: "alice", flow: &flowClaims{RD: DefaultPrefix + "admin/", Why: consoleWhyStrong}},
		"passkey step-up": stepUp(&pendingChange{Passkey: true}),
		"strong step-up":  stepUp(&pendingChange{Strong: true}),
	}
}

// TestAStepUpsRulesAreBuiltOnce: the policies of a step-up are built with
// the pages, not at each of the verify page's questions of what it offers
// (up to five a page). Before: 2 or 3 allocations a question, 10 or 15 a
// page (BenchmarkStepUpRules).
func TestAStepUpsRulesAreBuiltOnce(t *testing.T) {
	p, reqs := stepUpRequests(t)
	for name, req := range reqs {
		if pol, _ := p.rules(req); pol.Offers(factor.TOTP, false) != (name != "passkey step-up") || pol.Offers(factor.SMS, true) {
			t.Errorf("%s: the step-up's rules offer an app %v, a text %v", name, pol.Offers(factor.TOTP, false), pol.Offers(factor.SMS, true))
		}
		if n := testing.AllocsPerRun(100, func() { p.offers(req, factor.TOTP) }); n != 0 {
			t.Errorf("%s: %v allocations a question of what the page offers, want none", name, n)
		}
	}
}

// BenchmarkStepUpRules is a verify page's five questions of what it offers,
// at each step-up.
func BenchmarkStepUpRules(b *testing.B) {
	p, reqs := stepUpRequests(b)
	for name, req := range reqs {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.offers(req, factor.TOTP)
				p.offers(req, factor.WebAuthn)
				p.offersTexts(req)
				p.offersRecovery(req)
			}
		})
	}
}
