package caddymodule

import (
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// settleFactors checks c's factors and require against what the gate can
// do, settled in g.policy (signin.Policy: the default, every kind it can offer).
func (g *gate) settleFactors(c *Gate) error {
	g.policy = &signin.Policy{Factors: c.Factors, Require: c.Require}
	if err := g.policy.Settle(signin.CanOffer(c.Channels, g.webauthn != nil)); err != nil {
		return err
	}
	if !g.policy.Takes(factor.WebAuthn) {
		g.webauthn = nil
	}
	return nil
}

// strongEnough reports whether a session was earned with a kind this gate
// takes, and passes its require; amrs, its amr as bits (Repeat.Cached's).
func (g *gate) strongEnough(cl *session.Claims, amrs uint8) bool {
	return g.policy.SatisfiedBy(signin.AMRs(amrs), cl.Trusted)
}
