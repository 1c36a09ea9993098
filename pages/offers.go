package pages

import (
	"net/http"
	"slices"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// stepUp reports whether this verify step is the devices page's step-up,
// which only asks for a fresh code: on the way back to the devices page,
// for the user a session of this browser already signed in. The return
// address alone is the client's to choose: a stranger's rd makes no
// step-up.
func (p *Pages) stepUp(req *request) bool {
	if req.flow.RD != p.PathPrefix+"devices" || req.user == "" {
		return false
	}
	cl := p.session(req)
	return cl != nil && cl.Subject == req.user && p.SignIn.Identity.Admits(cl.Subject, req.user)
}

// rules are the policy the verify step follows now, and whether it is a
// step-up: the gate's; for the step-up of a change that must prove an app
// or a passkey (pendingChange.Strong), those kinds only, as at a route
// that requires them (no text, no call, no recovery code); and so for the
// console's admin sent for her app or passkey (consoleWhyStrong): nothing
// else proved here opens the console for her (strongEnough), so a text,
// a call or a recovery code is neither offered nor taken — it would be
// paid for, or used up, and send her back to this page. The flow decides
// it, not her devices read again: one removed meanwhile leaves her
// nothing to prove here, and the page says so (verifyData). The step-ups'
// policies are built once, with the pages (New).
func (p *Pages) rules(req *request) (*signin.Policy, bool) {
	if p.consoleWhy(req) == consoleWhyStrong {
		return p.strongWithin, false
	}
	stepUp := p.stepUp(req)
	if stepUp && req.flow.Pending != nil && req.flow.Pending.Passkey {
		return p.passkeyOnly, false
	}
	if stepUp && req.flow.Pending != nil && req.flow.Pending.Strong {
		return p.strongOnly, false
	}
	return p.Policy, stepUp
}

// offers reports whether the verify step may offer kind now.
func (p *Pages) offers(req *request, kind factor.Kind) bool {
	pol, stepUp := p.rules(req)
	return pol.Offers(kind, stepUp)
}

// offersTexts reports whether a texted or called code may be used now.
func (p *Pages) offersTexts(req *request) bool {
	return p.offers(req, factor.SMS) || p.offers(req, factor.Voice)
}

// offersChannel reports whether codes may come by channel now: a channel
// of the gate's whose kind the route takes (no calls where texts are
// required, nor texts where calls are).
func (p *Pages) offersChannel(req *request, channel factor.Channel) bool {
	return slices.Contains(p.Channels, channel) && p.channelKind(req, channel)
}

// channelKind reports whether the kind of code channel brings may be
// used now (a call's voice, a text's sms).
func (p *Pages) channelKind(req *request, channel factor.Channel) bool {
	pol, stepUp := p.rules(req)
	return pol.OffersChannel(channel, stepUp)
}

// offersRecovery reports whether a recovery code may be used now.
func (p *Pages) offersRecovery(req *request) bool {
	pol, stepUp := p.rules(req)
	return pol.OffersRecovery(stepUp)
}

// requiredWords says, in the reader's language, what this gate asks for;
// at a gate that requires no kind (a call posted where no voice provider
// is loaded: a page from before a reload, a hand-made form), that what
// was asked for is not offered here.
func (p *Pages) requiredWords(req *request) string {
	if kinds := p.requiredKinds(req); kinds != "" && p.changesStrong(req) {
		// A change to her apps or passkeys, whose step-up takes only
		// those: she holds one (no "if you have none yet"); lost, the
		// admin removes it (README §Authenticator apps).
		return p.say(req, words.Newf("factor.change_needs", "kinds", kinds))
	} else if kinds != "" {
		return p.say(req, words.Newf("factor.required", "kinds", kinds))
	}
	return p.say(req, words.New("factor.not_offered"))
}

// requiredKinds names the kinds the route requires: "an authenticator app
// or a passkey".
func (p *Pages) requiredKinds(req *request) string {
	var names []string
	pol, _ := p.rules(req)
	for _, k := range pol.Require {
		names = append(names, p.sayID(req, "kind."+string(k)))
	}
	return p.Words.Or(req.lang, names)
}

// stranded answers the enroll step where it cannot be taken: a first
// device is a phone, and a route that requires an app or a passkey takes
// no phone's code, so a code sent to it could never sign in here. No form
// and no text: the page says why, and where to begin instead.
func (p *Pages) stranded(req *request) bool {
	if p.offersTexts(req) {
		return false
	}
	status := http.StatusOK
	if req.r.Method != http.MethodGet {
		status = http.StatusBadRequest
	}
	p.page(req, status, "enroll", pageData{Stranded: true,
		Error: p.say(req, words.Newf("factor.no_first_phone", "kinds", p.requiredKinds(req)))})
	return true
}

// changesStrong reports whether this step-up is for a change to an app or
// a passkey (its policy takes only those: rules).
func (p *Pages) changesStrong(req *request) bool {
	return p.consoleWhy(req) != consoleWhyStrong && p.stepUp(req) && req.flow.Pending != nil && (req.flow.Pending.Strong || req.flow.Pending.Passkey)
}
