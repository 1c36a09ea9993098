package caddymodule

import (
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// settleFactors checks c's factors and require against what the gate can
// do, settled in g.policy (signin.Policy: the default, every kind it can offer).
func (g *gate) settleFactors(c *Gate) error {
	var can []signin.Kind
	for _, ch := range c.Channels {
		can = append(can, signin.Kind(ch))
	}
	can = append(can, signin.TOTP)
	if g.webauthn != nil {
		can = append(can, signin.WebAuthn)
	}
	g.policy = &signin.Policy{Factors: c.Factors, Require: c.Require}
	if err := g.policy.Settle(can); err != nil {
		return err
	}
	if !g.policy.Takes(signin.WebAuthn) {
		g.webauthn = nil
	}
	return nil
}

// strongEnough reports whether a session was earned with a kind this gate
// takes, and passes its require; amrs, its amr as bits (Repeat.Cached's).
func (g *gate) strongEnough(cl *session.Claims, amrs uint8) bool {
	return g.policy.SatisfiedBy(signin.AMRs(amrs), cl.Trusted)
}
