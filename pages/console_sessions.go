package pages

import (
	"strings"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// The console's list of a user's sessions (admin/user): when, how and
// where each was signed in, and a button to end one. The index lists the
// sessions signed since this release (see session.Sessions); older ones
// are not listed, and "Sign out everywhere" ends them too.

// sessionView is a session as the console lists it.
type sessionView struct {
	SID, Short, Signed, Expires, How, Where string
	Trusted                                 bool
	// This is the admin's own session, in this browser.
	This bool
	// SignedOut: it signed out, with Open saying how many console invites
	// minted through it are still open (signin.Ends.SignedOut): its end
	// ends them.
	SignedOut bool
	Open      string
}

// amrIDs name the ways a session was earned (signin's amr values; a
// trusted browser is said apart: sessionView.Trusted).
var amrIDs = map[factor.AMR]string{
	factor.AMRSMS: "amr.sms", factor.AMRTel: "amr.tel", factor.AMROTP: "amr.otp",
	factor.AMRSoftware: "amr.swk", factor.AMRHardware: "amr.hwk", factor.AMRRecovery: "amr.recovery",
}

// sessionViews lists user's sessions, newest first, in the reader's words
// and the gate's time zone; this is the SID of the admin's own session.
func (p *Pages) sessionViews(req *request, user, this string) ([]sessionView, error) {
	list, err := p.Site.UserSessions(req.r.Context(), user)
	if err != nil {
		return nil, err
	}
	format := p.sayID(req, "date.format") + " 15:04"
	loc := p.Now().Location()
	views := make([]sessionView, len(list))
	for i, s := range list {
		var how []string
		for _, m := range s.AMR {
			if id, ok := amrIDs[m]; ok {
				how = append(how, p.sayID(req, id))
			} else {
				how = append(how, textsafe.Escape(string(m)))
			}
		}
		where := p.nameBrowser(req.lang, s.Where.Browser, s.Where.System)
		if s.Where.Host != "" {
			where = p.Words.T(req.lang, "{browser}, at {host}", "browser", where, "host", textsafe.Escape(s.Where.Host))
		}
		views[i] = sessionView{SID: s.SID, Short: signin.ShortSID(s.SID), Signed: s.Issued.In(loc).Format(format), Expires: s.Expires.In(loc).Format(format),
			How: strings.Join(how, " + "), Where: where, Trusted: s.Trusted, This: s.SID == this}
	}
	return views, nil
}

// consoleSessions fills in the user page's sessions; a store that cannot
// answer leaves the list out and says so, the rest of the page stands. So
// does a count of the sessions pushed off the list that failed: shown as
// none, it hid what the admin came to end.
func (p *Pages) consoleSessions(req *request, c *consoleView, user, this string) {
	var err error
	if c.Sessions, err = p.sessionViews(req, user, this); err != nil {
		p.Logger.Error("listing a user's sessions for the console", zap.Error(err))
		c.SessionsError = p.sayID(req, "gate.unavailable")
		return
	}
	// Those signed out with invites minted through them still open, after
	// the live ones: ending one ends the invites (logout39). One that
	// cannot be read leaves them out and says so.
	out, err := p.Site.SignedOutSessions(req.r.Context(), user)
	if err != nil {
		p.Logger.Error("listing a user's signed-out sessions with open invites for the console", zap.Error(err))
		c.SessionsError = p.sayID(req, "gate.unavailable")
		return
	}
	format := p.sayID(req, "date.format") + " 15:04"
	for _, s := range out { // none live (session.SignedOutMinted)
		said := "console.signed_out_open"
		if s.Expired {
			said = "console.expired_open"
		}
		c.Sessions = append(c.Sessions, sessionView{SID: s.SID, Short: signin.ShortSID(s.SID), Signed: s.Issued.In(p.Now().Location()).Format(format),
			SignedOut: true, Open: p.Words.Render(req.lang, words.Text{ID: said, Args: map[string]any{"n": s.Open}})})
	}
	u, err := p.Site.UnlistedSessions(req.r.Context(), user)
	if err != nil {
		p.Logger.Error("counting a user's sessions not listed for the console", zap.Error(err))
		c.UnlistedError = true
	}
	c.Unlisted = u.Count
}
