package caddymodule

import (
	"fmt"
	"slices"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/words"
)

// Which kinds of device a gate takes (factors) and which a session must
// have been earned with to pass it (require, e.g. totp webauthn on
// /admin*). Kinds are named as in the Caddyfile: sms, voice, totp
// (authenticator apps), webauthn (passkeys).

var kinds = []string{"sms", "voice", "totp", "webauthn"}

// kindOfAMR is the kind each RFC 8176 amr value proves.
var kindOfAMR = map[string]string{"sms": "sms", "tel": "voice", "otp": "totp", "hwk": "webauthn", "swk": "webauthn"}

// settleFactors checks factors and require against what the gate can do,
// and fills in the default: every kind it can offer.
func (g *Gate) settleFactors() error {
	can := append([]string{}, g.Channels...)
	can = append(can, "totp")
	if g.webauthn != nil {
		can = append(can, "webauthn")
	}
	if len(g.Factors) == 0 {
		g.Factors = can
	}
	for _, k := range g.Factors {
		switch {
		case !slices.Contains(kinds, k):
			return fmt.Errorf("factors: unknown kind %q: use sms, voice, totp or webauthn", k)
		case (k == "sms" || k == "voice") && !slices.Contains(g.Channels, k):
			return fmt.Errorf("factors %s: the channels do not include %s", k, k)
		case k == "webauthn" && g.webauthn == nil:
			return fmt.Errorf("factors webauthn: passkeys need the site's origin (public_origin or site_origin)")
		}
	}
	if !slices.Contains(g.Factors, "sms") && !slices.Contains(g.Factors, "voice") {
		return fmt.Errorf("factors: name sms or voice too: a user's first device is a phone")
	}
	for _, k := range g.Require {
		if !slices.Contains(g.Factors, k) {
			return fmt.Errorf("require %s: this gate does not take %s (factors %v)", k, k, g.Factors)
		}
	}
	if !g.takes("webauthn") {
		g.webauthn = nil
	}
	return nil
}

// takes reports whether the gate accepts kind at all.
func (g *Gate) takes(kind string) bool { return slices.Contains(g.Factors, kind) }

// strongEnough reports whether a session was earned with a kind this gate
// requires; a trusted browser's session never is (it proved no device now).
func (g *Gate) strongEnough(cl *session.Claims) bool {
	if len(g.Require) == 0 {
		return true
	}
	if cl.Trusted {
		return false
	}
	for _, a := range cl.AMR {
		if slices.Contains(g.Require, kindOfAMR[a]) {
			return true
		}
	}
	return false
}

// offers reports whether the verify step may offer kind now: a kind the
// gate takes, and, unless this is the devices page's step-up (which only
// asks for a fresh code), one it requires.
func (g *Gate) offers(req *request, kind string) bool {
	if !g.takes(kind) {
		return false
	}
	return len(g.Require) == 0 || req.flow.RD == g.PathPrefix+"devices" || slices.Contains(g.Require, kind)
}

// offersTexts reports whether a texted or called code may be used now.
func (g *Gate) offersTexts(req *request) bool { return g.offers(req, "sms") || g.offers(req, "voice") }

// offersRecovery reports whether a recovery code may be used now: it
// proves no device, so not where a kind is required (but at the devices
// page's step-up, yes).
func (g *Gate) offersRecovery(req *request) bool {
	return len(g.Require) == 0 || req.flow.RD == g.PathPrefix+"devices"
}

// requiredWords says, in the reader's language, what this gate asks for.
func (g *Gate) requiredWords(req *request) string {
	var names []string
	for _, k := range g.Require {
		names = append(names, g.sayID(req, "kind."+k))
	}
	return g.say(req, words.Newf("factor.required", "kinds", g.words.Or(req.lang, names)))
}
