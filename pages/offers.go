package pages

import (
	"slices"

	"github.com/smsgate/caddy-smsgate/words"
)

// takes reports whether the gate accepts kind at all.
func (p *Pages) takes(kind string) bool { return slices.Contains(p.Factors, kind) }

// offers reports whether the verify step may offer kind now: a kind the
// gate takes, and, unless this is the devices page's step-up (which only
// asks for a fresh code), one it requires.
func (p *Pages) offers(req *request, kind string) bool {
	if !p.takes(kind) {
		return false
	}
	return len(p.Require) == 0 || req.flow.RD == p.PathPrefix+"devices" || slices.Contains(p.Require, kind)
}

// offersTexts reports whether a texted or called code may be used now.
func (p *Pages) offersTexts(req *request) bool { return p.offers(req, "sms") || p.offers(req, "voice") }

// offersRecovery reports whether a recovery code may be used now: it
// proves no device, so not where a kind is required (but at the devices
// page's step-up, yes).
func (p *Pages) offersRecovery(req *request) bool {
	return len(p.Require) == 0 || req.flow.RD == p.PathPrefix+"devices"
}

// requiredWords says, in the reader's language, what this gate asks for.
func (p *Pages) requiredWords(req *request) string {
	var names []string
	for _, k := range p.Require {
		names = append(names, p.sayID(req, "kind."+k))
	}
	return p.say(req, words.Newf("factor.required", "kinds", p.Words.Or(req.lang, names)))
}
