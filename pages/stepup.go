package pages

import (
	"net/http"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// A devices-page change that needs a fresh code is kept, sealed in the
// flow cookie, while the user enters one (the step-up); the devices page
// then finishes it instead of showing an empty form.

// pendingChange is a devices-page form waiting for its step-up.
type pendingChange struct {
	User string            `json:"u"`
	At   int64             `json:"at"` // when it was asked for (unix seconds)
	Form map[string]string `json:"f"`
	// From is the session that asked for it: only a step-up of that
	// session, in this flow, carries it on (passedStepUp). Passed is the
	// session that step-up issued: only it carries the change out
	// (resumeChange). Any other sign-in, or leaving the step-up
	// (leftStepUp), drops it.
	From   string `json:"fr"`
	Passed string `json:"ps,omitempty"`
	// Strong: the change needs an app or a passkey proved (strongChange),
	// and its step-up offers nothing else (rules).
	Strong bool `json:"s,omitempty"`
	// Passkey: the change adds or removes a passkey of a user who holds
	// one (signin.GuardsPasskeys): a passkey proved, not an app.
	Passkey bool `json:"pk,omitempty"`
}

// pendingFields are the devices form's fields a change keeps.
var pendingFields = []string{"action", "device", "name", "phone", "region", "trust", "confirm"}

// keepChange keeps the devices form of req for after the step-up; need:
// what the step-up must prove (strongChange).
func (p *Pages) keepChange(req *request, cl *session.Claims, need proof) {
	form := make(map[string]string)
	for _, k := range pendingFields {
		if v := req.form[k]; v != "" {
			form[k] = trimField(v)
		}
	}
	req.flow.Pending = &pendingChange{User: cl.Subject, At: p.Now().Unix(), Form: form, From: cl.SID, Strong: need.strong, Passkey: need.passkey}
}

// passedStepUp is the change kept in req's flow, if the sign-in of user
// now finishing (its new session sid) is that change's step-up: the
// devices page's, by the session that asked for it. Any other sign-in in
// this browser drops it (nil): a change left waiting is never carried out
// by a later, ordinary sign-in, hers or the next user's of a shared
// browser.
func (p *Pages) passedStepUp(req *request, user, sid string) *pendingChange {
	pc := req.flow.Pending
	if pc == nil || pc.User != user || pc.From == "" || !p.stepUp(req) || p.session(req).SID != pc.From {
		return nil
	}
	pc.Passed = sid
	return pc
}

// carryApp hands the app setup the session this browser holds began (a
// wrong first code shows its key again to that session only) to sid, the
// session a step-up of the same user issued in its place: the browser
// that was shown the key keeps it. A setup of another session stays put.
func (p *Pages) carryApp(req *request, user, sid string) {
	if old := p.readSession(req); old != nil && old.Subject == user {
		if err := p.SignIn.CarryApp(req.r.Context(), req.realm, user, old.SID, sid); err != nil {
			p.Logger.Warn("carrying an app's setup to the new session", zap.Error(err))
		}
	}
}

// replaced ends the session this browser's cookie named before sid was
// handed out in its place: a copy of the old cookie signs nobody in after
// (walk38). Asked once the new session's cookie is set and the step-up it
// passed was read. signin decides what ends with it and audits it
// (signin.Ends.EndReplaced); a failure is logged here.
func (p *Pages) replaced(req *request, user, sid string) {
	old, _ := p.sessionCookie(req)
	if _, err := p.ends(req).EndReplaced(req.r.Context(), old, user, sid); err != nil {
		p.Logger.Error("ending the session a sign-in replaced in this browser; it lasts until it expires", zap.Error(err))
	}
}

// leftStepUp drops a change kept for a step-up when a page other than the
// step-up's own (the verify step, its delivery status, the devices page
// that finishes it; its passkey ceremony never gets here: serve hands it
// off first) is asked for: left, it is not carried out later.
func leftStepUp(req *request, step string) {
	if step != "verify" && step != "devices" && step != "status" {
		req.flow.Pending = nil
	}
}

// proof is what a devices-page change must have its session prove
// (strongChange): an app or a passkey (strong), a passkey (passkey), or a
// code of any kind the gate takes (neither).
type proof struct{ strong, passkey bool }

// provedBy reports whether cl's sign-in proved what need asks.
func (need proof) provedBy(cl *session.Claims) bool {
	switch {
	case need.passkey:
		return signin.ProvesPasskey(cl.AMR, cl.Trusted)
	case need.strong:
		return signin.Strong(cl.AMR, cl.Trusted)
	}
	return true
}

// strongChange reports whether the devices-page change action (on
// req.form's device) needs an app or a passkey proved: it adds or removes
// one (signin.GuardsStrong) and the user holds one; and a passkey, where it
// adds or removes a passkey and the user holds one (signin.GuardsPasskeys).
// ok is false when the store could not say (answered 503). list is the
// user's devices it read (none for an action that touches no app or
// passkey), for strongElsewhere.
func (p *Pages) strongChange(req *request, user, action string) (need proof, ok bool, list []enrollment.Device) {
	if !signin.GuardsStrong(action, factor.App) {
		return proof{}, true, nil // an action that touches no app or passkey
	}
	list, err := p.SignIn.PhonesOf(req.r.Context(), req.realm, user)
	if err != nil {
		p.Logger.Error("reading devices", zap.Error(err))
		p.unavailable(req)
		return proof{}, false, nil
	}
	removed := factor.Phone
	for _, d := range list {
		if d.ID == req.form["device"] {
			removed = d.Kind
		}
	}
	need.strong = signin.GuardsStrong(action, removed) && signin.HoldsStrong(list)
	need.passkey = need.strong && signin.GuardsPasskeys(action, removed) && enrollment.HasKind(list, factor.Passkey)
	return need, true, list
}

// strongElsewhere answers a change that must prove an app or a passkey
// where this gate takes none of those the user holds (a passkey, at a gate
// of factors sms totp): its step-up could take nothing they have — a dead
// end that asked for the very app they came to add. The change stays
// refused here (failing closed), and the devices page says where it can be
// made instead. It reports whether it answered; list is the user's
// devices (strongChange's). A change that must prove a passkey (need) is
// answered so where the gate takes no passkeys.
func (p *Pages) strongElsewhere(req *request, list []enrollment.Device, need proof, show func(int, string)) bool {
	if need.passkey {
		if p.Policy.Takes(factor.WebAuthn) {
			return false
		}
		show(http.StatusBadRequest, p.say(req, words.Newf("factor.strong_elsewhere", "kinds", p.sayID(req, "kind."+string(factor.WebAuthn)))))
		return true
	}
	kinds, taken := p.strongNotTaken(req, list)
	if taken || kinds == "" {
		return false // its step-up takes one
	}
	show(http.StatusBadRequest, p.say(req, words.Newf("factor.strong_elsewhere", "kinds", kinds)))
	return true
}

// strongNotTaken names the kinds of the apps and passkeys in list that this
// gate does not take ("a passkey"), and reports whether list holds one it
// takes.
func (p *Pages) strongNotTaken(req *request, list []enrollment.Device) (kinds string, taken bool) {
	var names []string
	for _, d := range []factor.Device{factor.App, factor.Passkey} {
		kind := d.Proves()[0] // an app's totp, a passkey's webauthn
		switch {
		case !enrollment.HasKind(list, d):
		case p.Policy.Takes(kind):
			taken = true
		default:
			names = append(names, p.sayID(req, "kind."+string(kind)))
		}
	}
	return p.Words.Or(req.lang, names), taken
}

// resumeChange takes the change kept for user, when the session's code is
// newer than the change and the session is the one its step-up issued
// (passedStepUp), into req's form: the
// devices page then carries it out. A change left waiting is dropped.
func (p *Pages) resumeChange(req *request, cl *session.Claims) bool {
	pc := req.flow.Pending
	req.flow.Pending = nil
	if pc == nil || pc.User != cl.Subject || pc.Passed == "" || pc.Passed != cl.SID || cl.AuthTime < pc.At || p.Now().Sub(time.Unix(pc.At, 0)) > flowLifetime {
		return false
	}
	req.form = pc.Form
	if r := pc.Form["region"]; r != "" {
		req.region = p.presetRegion(r, "")
	}
	return true
}

// trimField keeps a kept field short: the flow cookie has room for little.
// It cuts between characters, never inside one (a name in any script).
func trimField(s string) string {
	if len(s) <= 64 {
		return s
	}
	s = s[:64]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
