package pages

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"go.uber.org/zap"
)

// Trusted browsers (the remember option): at the verify step the user may
// trust this browser; when its session has expired, it gets a new one
// without a code — for the same user, through the same first factor, and
// no fresher than the code that earned the trust, so max_age and step-up
// still ask for a code.

// trustedSignIn signs a trusted browser in again and sends it on. It
// reports whether it answered.
func (p *Pages) trustedSignIn(req *request) bool {
	if p.Remember == 0 || req.r.Method != http.MethodGet || p.session(req) != nil {
		return false
	}
	user, tb, err := p.browserTrust(req)
	switch {
	case errors.Is(err, session.ErrNumberNotGiven):
		return false // not here, not yet (before the config's start): a code, the cookie kept
	case errors.Is(err, session.ErrNotTrusted):
		p.setCookie(req.w, req.r, TrustCookie, "", p.PathPrefix, -1) // ended: forget it
		return false
	case err != nil:
		p.Logger.Error("checking a trusted browser", zap.Error(err))
		return false // the code, then
	case tb == nil:
		return false // no trust cookie
	case !p.SignIn.Identity.Admits(user, req.user):
		return false // another first factor: that user signs in as usual
	case !p.earnedHere(req, tb):
		return false // planted: another browser earned it
	case !p.Policy.TrustSkips(tb, p.Remember, p.Now()):
		return false // signin's policy: a kind this gate no longer takes, or older than remember allows now
	}
	w := where(req)
	w.Trust = tb.ID // the admin's end of this session ends the trust too
	token, sid, err := p.Sessions.IssueTrusted(req.r.Context(), req.began, user, tb, w)
	if errors.Is(err, session.ErrNotTrusted) {
		p.setCookie(req.w, req.r, TrustCookie, "", p.PathPrefix, -1) // ended meanwhile (the admin's end): forget it
		return false
	}
	if err != nil {
		p.Logger.Error("signing session", zap.Error(err))
		return false
	}
	p.setSiteCookie(req.w, req.r, SessionCookie, token, int(p.Sessions.Lifetime()/time.Second))
	p.setCookie(req.w, req.r, FlowCookie, "", p.PathPrefix, -1)
	p.rememberBrowser(req, user, sid, tb.ID, tb.Device) // known by this session now: the admin's end of it or its trust ends that too
	p.replaced(req, user, sid)
	p.Audit("signed_in_trusted", user, "", zap.String("browser", tb.ID))
	p.Metrics.SignIns.WithLabelValues(string(factor.AMRTrusted)).Inc()
	rd := req.flow.RD
	if rd == "" {
		rd = "/"
	}
	http.Redirect(req.w, req.r, rd, http.StatusSeeOther)
	return true
}

// earnedHere reports whether this browser earned the trust tb (whose
// cookie it shows): tb names the browser that earned it (its known-browser
// cookie's name for it, written with the trust cookie), and only a
// known-browser cookie issued since the cookies were renamed (not
// session.Manager.IssuedBeforeRename; so under its prefixed name) says
// which browser this is, on a Secure request: the trust cookie lives
// under the gate's pages (its path_prefix), where no __Host- name is
// possible, so another host of the registrable domain can plant one of
// its own user's (Domain=, a longer Path), which would sign the visitor
// in as that user at a login form. A known-browser cookie issued before
// the renaming is read under its old name too, and the pages rename it
// (readKnown), a planted one as well: its name says nothing, but the
// cookie written with a trust earned since was issued since. A trust
// earned before the renaming (session.Manager.EarnedBeforeRename) may
// name no browser, or one only such a cookie names (oldCounts).
func (p *Pages) earnedHere(req *request, tb *session.TrustedBrowser) bool {
	if !p.secure(req.r) {
		return true // plain http at loopback: no prefixed names
	}
	before := p.Sessions.EarnedBeforeRename(tb)
	if tb.Known == "" {
		return before
	}
	for _, cl := range req.knowns {
		if cl.Browser == tb.Known && (before || !p.Sessions.IssuedBeforeRename(cl)) {
			return true
		}
	}
	return false
}

// browserTrust is the trust this browser's cookie holds, and its user: tb
// nil for no cookie, session.ErrNotTrusted for a cookie whose trust ended
// (or never was one), another error when the store cannot answer.
func (p *Pages) browserTrust(req *request) (user string, tb *session.TrustedBrowser, err error) {
	c, err := req.r.Cookie(TrustCookie)
	if err != nil || c.Value == "" {
		return "", nil, nil
	}
	return p.Sessions.Trusted(req.r.Context(), c.Value)
}

// heldTrust is the ID of the trust this browser holds for user ("" for
// none, an ended one, or another user's): the devices page marks it, and
// a code sign-in that asks for no new trust (a step-up) keeps it, so that
// ending its session must end the trust too, or the browser would sign in
// again with it at once (with remember off too: it works again if
// remember is turned back on).
func (p *Pages) heldTrust(req *request, user string) string {
	if owner, tb, err := p.browserTrust(req); err == nil && tb != nil && owner == user {
		return tb.ID
	}
	return ""
}

// trust makes this browser trusted for the user signing in, if they asked
// (a recovery code earns no trust: it is for a lost phone), and returns
// the trust's ID ("" for none), and whether this sign-in made or renewed
// it. It renews the trust of the user's that the browser's cookie names
// (session.Manager.TrustHeld); where another sign-in of this browser
// renewed or made it meanwhile (two tabs), it sets no cookie: the browser
// keeps that sign-in's, whichever answer comes last; where the trust the
// browser held ended meanwhile ("Stop trusting" in another tab), it makes
// none, and the browser forgets that trust's cookie.
func (p *Pages) trust(req *request, user string, res *signin.Result) (string, bool) {
	amr := res.AMR
	if p.Remember == 0 || req.form["remember"] != "1" || !signin.EarnsTrust(amr) {
		return "", false
	}
	var held string
	if c, err := req.r.Cookie(TrustCookie); err == nil {
		held = c.Value
	}
	known, seen := p.browserID(req), time.Time{} // the newest sign-in whose answer this browser took
	for _, cl := range req.knowns {
		if cl.Browser == known && cl.IssuedAt != nil && cl.IssuedAt.After(seen) {
			seen = cl.IssuedAt.Time
		}
	}
	token, tb, err := p.Sessions.TrustHeld(req.r.Context(), req.began, user, held, known, seen, where(req), res.Device, amr, p.Now().Unix(), time.Duration(p.Remember))
	switch {
	case errors.Is(err, session.ErrNotTrusted):
		p.setCookie(req.w, req.r, TrustCookie, "", p.PathPrefix, -1) // its trust ended while this sign-in ran: none made, forget it
		return "", false
	case err != nil:
		p.Logger.Error("trusting a browser", zap.Error(err))
		return "", false
	case token == "":
		return tb.ID, false
	}
	p.setCookie(req.w, req.r, TrustCookie, token, p.PathPrefix, int(time.Duration(p.Remember)/time.Second))
	return tb.ID, true
}

// trustView is a trusted browser as the devices page lists it: Browser
// its name in the reader's words ("Firefox on Linux"), as before; Kind and
// System its parts, by name ("Firefox", "Linux"), where known (neither for
// a name of the previous release that no language reads).
type trustView struct {
	ID      string `json:"id"`
	Browser string `json:"browser"`
	Kind    string `json:"browser_kind,omitempty"`
	System  string `json:"system,omitempty"`
	Since   string `json:"since"`
	// This is the browser asking.
	This bool `json:"this_browser,omitempty"`
}

func (p *Pages) trustViews(req *request, user string) []trustView {
	list, err := p.Sessions.TrustedBrowsers(req.r.Context(), user)
	if err != nil {
		p.Logger.Error("reading trusted browsers", zap.Error(err))
		return nil
	}
	this := p.heldTrust(req, user)
	views := make([]trustView, len(list))
	for i, tb := range list {
		kind, system, ok := p.trustedParts(&tb)
		name := tb.Browser // a name of the previous release no language reads: as it is
		if ok {
			name = p.nameBrowser(req.lang, kind, system)
		}
		views[i] = trustView{ID: tb.ID, Browser: name, Kind: kind, System: system, Since: tb.Created.Format(p.sayID(req, "date.format")), This: tb.ID == this}
	}
	return views
}

// nameBrowser says a browser's kind and system in lang ("" for unknown).
func (p *Pages) nameBrowser(lang, browser, system string) string {
	if browser == "" {
		browser = p.Words.T(lang, "name.some_browser")
	}
	if system == "" {
		return browser
	}
	return p.Words.T(lang, "name.browser", "browser", browser, "system", system)
}

// browserOf finds a browser's kind and system in its User-Agent, by name
// ("Firefox", "Linux"; "" for unknown): never more of it.
func browserOf(ua string) (browser, system string) {
	find := func(pairs [][2]string) string {
		for _, pair := range pairs {
			if strings.Contains(ua, pair[0]) {
				return pair[1]
			}
		}
		return ""
	}
	return find(browserNames), find(systemNames)
}

// browserNames and systemNames name a browser's kind and system by what
// its User-Agent holds, in order (browserOf; readWorded reads them back).
var (
	browserNames = [][2]string{{"Firefox/", "Firefox"}, {"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}}
	systemNames  = [][2]string{{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"}}
)

// where describes, for the admin's list of sessions, where req signs in:
// the site's host and the browser, by name.
func where(req *request) session.Where {
	browser, system := browserOf(req.r.UserAgent())
	return session.Where{Host: req.r.Host, Browser: browser, System: system}
}

// errDeviceGone refuses a sign-in whose device was removed while it ran.
var errDeviceGone = errors.New("the device that earned the sign-in was removed meanwhile")

// stillHeld reads again, once the sign-in's trust (made: "" for none) is
// written and its session listed, whether the user still holds the device
// that earned them (signin.Service.Holds): one removed meanwhile, whose
// end (session.EndDevice) read the trusts and the list before they were
// there, takes both back, and the sign-in is refused. The session was not
// handed out yet.
func (p *Pages) stillHeld(req *request, res *signin.Result, token, sid, made string) error {
	ctx := req.r.Context()
	ok, err := p.SignIn.Holds(ctx, req.realm, res.User, res.Device)
	if err == nil && ok {
		return nil
	}
	p.Sessions.Withdraw(ctx, token, res.User, sid)
	if made != "" {
		if uerr := p.Sessions.Untrust(ctx, res.User, made); uerr != nil {
			p.Logger.Error("ending the trust of a sign-in whose device was removed", zap.Error(uerr))
		}
	}
	if err == nil {
		err = errDeviceGone
	}
	return err
}
