package caddymodule

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/session"
)

// Trusted browsers (the remember option): at the verify step the user may
// trust this browser; when its session has expired, it gets a new one
// without a code — for the same user, through the same first factor, and
// no fresher than the code that earned the trust, so max_age and step-up
// still ask for a code.

// trustedSignIn signs a trusted browser in again and sends it on. It
// reports whether it answered.
func (g *Gate) trustedSignIn(req *request) bool {
	if g.Remember == 0 || req.r.Method != http.MethodGet || g.session(req.r) != nil {
		return false
	}
	token := cookieValue(req.r, TrustCookie)
	if token == "" {
		return false
	}
	user, tb, err := g.sessions.Trusted(req.r.Context(), token)
	switch {
	case errors.Is(err, session.ErrNotTrusted):
		setCookie(req.w, req.r, TrustCookie, "", g.PathPrefix, -1) // ended: forget it
		return false
	case err != nil:
		g.logger.Error("checking a trusted browser", zap.Error(err))
		return false // the code, then
	case !g.signin.Identity.Admits(user, req.user):
		return false // another first factor: that user signs in as usual
	}
	session, err := g.sessions.IssueTrusted(user, tb)
	if err != nil {
		g.logger.Error("signing session", zap.Error(err))
		return false
	}
	g.setSessionCookie(req.w, req.r, session, int(g.sessions.Lifetime()/time.Second))
	setCookie(req.w, req.r, FlowCookie, "", g.PathPrefix, -1)
	g.audit("signed_in_trusted", user, "", zap.String("browser", tb.ID))
	rd := req.flow.RD
	if rd == "" {
		rd = "/"
	}
	http.Redirect(req.w, req.r, rd, http.StatusSeeOther)
	return true
}

// trust makes this browser trusted for the user just signed in, if they
// asked (a recovery code earns no trust: it is for a lost phone).
func (g *Gate) trust(req *request, user string, amr []string) {
	if g.Remember == 0 || req.form["remember"] != "1" || len(amr) == 0 || amr[0] == "recovery" {
		return
	}
	token, err := g.sessions.Trust(req.r.Context(), user, g.browserName(req.lang, req.r.UserAgent()), amr, g.now().Unix(), time.Duration(g.Remember))
	if err != nil {
		g.logger.Error("trusting a browser", zap.Error(err))
		return
	}
	setCookie(req.w, req.r, TrustCookie, token, g.PathPrefix, int(time.Duration(g.Remember)/time.Second))
}

// trustView is a trusted browser as the devices page lists it.
type trustView struct {
	ID      string `json:"id"`
	Browser string `json:"browser"`
	Since   string `json:"since"`
}

func (g *Gate) trustViews(req *request, user string) []trustView {
	list, err := g.sessions.TrustedBrowsers(req.r.Context(), user)
	if err != nil {
		g.logger.Error("reading trusted browsers", zap.Error(err))
		return nil
	}
	views := make([]trustView, len(list))
	for i, tb := range list {
		views[i] = trustView{ID: tb.ID, Browser: tb.Browser, Since: tb.Created.Format(g.sayID(req, "date.format"))}
	}
	return views
}

// browserName names a browser by its User-Agent, for the devices page, in
// lang (the page's where it was trusted): "Firefox on Linux".
func (g *Gate) browserName(lang, ua string) string {
	find := func(pairs [][2]string, none string) string {
		for _, p := range pairs {
			if strings.Contains(ua, p[0]) {
				return p[1]
			}
		}
		return none
	}
	browser := find([][2]string{{"Firefox/", "Firefox"}, {"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}}, "")
	system := find([][2]string{{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"}}, "")
	if browser == "" {
		browser = g.words.T(lang, "name.some_browser")
	}
	if system == "" {
		return browser
	}
	return g.words.T(lang, "name.browser", "browser", browser, "system", system)
}
