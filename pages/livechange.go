package pages

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// A POST that a signed-in session makes (the devices page's rename,
// default, removal, adding, untrusting…; the console's reset, revoke,
// removal, invite, ending of a session; a passkey's adding; any page
// added later) is made only once the store says the session is still
// live (session.Manager.Live: one read of its revocation records). The
// gate's cache of sessions learns of an end written by another instance
// only at its next read of the revocation log (RevocationPoll): in that
// second an ended session at this instance (a thief's, signed out
// everywhere, revoked or its phone removed at another) removed her other
// phone, or, an admin's, reset a user or minted an invite (attack34b).
// The steps of a sign-in are not a session's change, and keep their own
// rules: an ended session's browser signs in through them again.

// signInSteps are the pages whose POSTs no session makes: signing in
// (a step-up too: it issues a new session, whose change the devices
// page then checks), signing out, an invite's link, a code's delivery.
var signInSteps = map[string]bool{
	"login": true, "enroll": true, "verify": true, "logout": true, "invite": true, "status": true,
	"passkey/login/begin": true, "passkey/login/finish": true,
}

// liveForChange reports whether req may go on to step's page: any but a
// POST of a session whose end the store holds (or a store that cannot
// say: 503). An ended one goes to sign-in, as signin.ErrEnded's do, back
// to its page after (a passkey's ceremony: refused in JSON, as its own
// check refuses); the page never sees it.
func (p *Pages) liveForChange(req *request, step string) bool {
	if req.r.Method != http.MethodPost || signInSteps[step] {
		return true
	}
	return p.liveChange(req, step)
}

// liveChange is liveForChange's answer for a change req's session makes
// at step, whatever its method: the devices page's change kept for a
// step-up is made by the GET after it (resumeChange; review35 F4). A live
// session's request goes on with the guard of the records read
// (session.Manager.LiveGuard, store.WithGuard): its change's first
// lasting write is made only if they still hold what they held, in the
// same atomic step, so that an end written at another instance after this
// read and before that write (one round trip: attack34b) lets no change
// through; the page then answers as for an ended session (endedMeanwhile).
func (p *Pages) liveChange(req *request, step string) bool {
	cl := p.session(req)
	if cl == nil {
		return true // none: the page answers as it does for none
	}
	live, guard, err := p.Sessions.LiveGuard(req.r.Context(), cl)
	switch {
	case err != nil:
		p.Logger.Error("checking a session is still live before its change", zap.Error(err))
		p.unavailable(req)
	case !live:
		p.endedChange(req, step)
	default:
		req.guard = guard
		req.r = req.r.WithContext(store.WithGuard(req.r.Context(), guard))
	}
	return err == nil && live
}

// endedChange answers the change at step of a session that ended: to
// sign-in, back to its page after (a passkey's ceremony: refused in
// JSON, as its own check refuses).
func (p *Pages) endedChange(req *request, step string) {
	req.session = nil
	if strings.HasPrefix(step, "passkey/") {
		// The ceremony's script reads JSON: refused as its own check of
		// an ended session refuses (passkey.go).
		req.json = true
		p.fail(req, http.StatusForbidden, "step_up", p.sayID(req, "passkey.step_up"))
		return
	}
	req.flow.RD = p.PathPrefix + "devices"
	if strings.HasPrefix(step, "admin/") {
		req.flow.RD = p.PathPrefix + step // the console's own way back
		if q := req.r.URL.RawQuery; q != "" {
			req.flow.RD += "?" + q
		}
	}
	p.goTo(req, signin.Login)
}

// endedMeanwhile answers, and reports so, a request whose change was
// refused for its guard (store.ErrGuardBroken: its session's end landed
// between liveChange's read and the change's write), whatever the page was
// about to answer (its failure): as for a session already ended, once the
// store says it is (a record of it that changed and ended nothing — an
// admin's end of the sessions pushed off her list, say — answers 503 in
// words of its own: the change was not made, and is asked again). Every page's
// answer asks it first (page, pageNoFlow, fail).
func (p *Pages) endedMeanwhile(req *request) bool {
	if !req.guard.Broken() {
		return false
	}
	req.guard = nil
	step := strings.TrimPrefix(req.r.URL.Path, p.PathPrefix)
	if cl := p.session(req); cl != nil {
		if live, err := p.Sessions.Live(req.r.Context(), cl); err != nil || live {
			p.Logger.Warn("a change was refused for its session's records, which changed before it was written; the session still lives", zap.Error(err))
			// Nothing is down: her change was not made, and is asked again
			// (review36b F4: it said sign-in was unavailable).
			p.fail(req, http.StatusServiceUnavailable, "unavailable", p.sayID(req, "change.refused_meanwhile"))
			return true
		}
	}
	p.Logger.Info("a change was refused: its session ended before it was written", audit.User(req.user), zap.String("page", step))
	p.endedChange(req, step)
	return true
}

// bornEnded answers, and reports so, a sign-in of user whose session her
// revocation record would end as it is issued: a sign-out everywhere (or
// an admin's revoke) a moment ago at an instance whose clock is ahead of
// this one's, whose instant this clock has not reached (attack34b's F2).
// Issued, it was a 303 into a dead session: every request after it sent
// back to sign in, for as long as the clocks differ. Now the page says so,
// in words, with Retry-After, and the words say the same wait (review35:
// "a few seconds" where a clock far ahead made it minutes). The record
// stands as written: it must end every session signed before it. A store
// that cannot say lets the sign-in go on (a session born ended is refused
// all the same). The verify page asks it before a code is checked, so the
// code (a recovery code: one of ten) is not spent on it (review35), and
// not again after the check: a sign-in stays at its round trips
// (TestSignInRoundTrips), and a revocation ahead landing during the check
// (a few milliseconds) fails closed, a 303 into a session already ended,
// as before attack34b. A passkey's sign-in asks once its assertion named
// its user (passkeyLogin).
func (p *Pages) bornEnded(req *request, user string) bool {
	wait, err := p.Sessions.BornEnded(req.r.Context(), user, req.began)
	if err != nil {
		p.Logger.Warn("reading whether a new session would be born ended", zap.Error(err))
		return false
	}
	if wait <= 0 {
		return false
	}
	if wait > session.Leeway+time.Second {
		p.Logger.Warn("a sign-in waits for a revocation record ahead of this clock by more than the leeway: a clock is wrong (NTP)",
			audit.User(user), zap.Duration("wait", wait))
	}
	secs := retryAfter(wait)
	req.w.Header().Set("Retry-After", secs)
	n, _ := strconv.Atoi(secs)
	p.fail(req, http.StatusConflict, "signed_out_elsewhere", p.Words.Render(req.lang, words.Say("gate.signed_out_elsewhere", "wait", words.Wait(time.Duration(n)*time.Second))))
	return true
}
