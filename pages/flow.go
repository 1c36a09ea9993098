package pages

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"go.uber.org/zap"
)

// flowLifetime bounds a sign-in in progress left alone: long enough to
// wait for a code and resend it, short enough that a stolen flow cookie
// soon dies. Each save slides it; flowMaxAge bounds it from its start,
// however busy it is kept (a stolen one kept alive ends too).
const (
	flowLifetime = 20 * time.Minute
	flowMaxAge   = time.Hour
)

// flowClaims are the flow cookie's content: the sign-in in progress, with
// what the pages need (the csrf token every form echoes, the checked
// target to return to).
type flowClaims struct {
	jwt.RegisteredClaims
	CSRF string `json:"csrf"`
	// Started is when the sign-in began (Unix seconds): flowMaxAge after,
	// it starts over.
	Started int64  `json:"st"`
	RD      string `json:"rd,omitempty"`
	signin.Flow
	// Pending is a devices-page change waiting for its step-up.
	Pending *pendingChange `json:"pc,omitempty"`
	// Notice is what the next devices page says was done (a message id).
	Notice string `json:"nt,omitempty"`
	// Done is the console's change just made, said once by the user's
	// page its answer redirects to (never in the address: a link could
	// show a change nobody made, review25).
	Done *consoleDone `json:"cd,omitempty"`
	// Why is why the console sent its admin to the verify step (a
	// message id: consoleWhyStrong or consoleWhyFresh).
	Why string `json:"why,omitempty"`
	// Codes are new recovery codes, until the user saved them.
	Codes *newCodes `json:"rc,omitempty"`
	// Pad makes the user's name and it one length (userWidth), so that
	// the cookie's length does not tell a known name from a decoy's.
	Pad string `json:"pad"`

	read string // the token its cookie opened to ("": a fresh flow), for saveFlow
}

// userWidth is the room the flow keeps for a user's name (as JSON): more
// than any decoy's name and any name typed at a login form (256 bytes).
const userWidth = 320

// pad fills Pad so that the user's name and it take userWidth bytes.
func (fl *flowClaims) pad() {
	name, _ := json.Marshal(fl.Flow.User)
	fl.Pad = strings.Repeat(".", max(0, userWidth-len(name)))
}

// readFlow returns the sign-in in progress, or a fresh one (also for one
// begun flowMaxAge ago or more).
func (p *Pages) readFlow(r *http.Request, realm string) *flowClaims {
	now := p.Now().Unix()
	if c, err := r.Cookie(FlowCookie); err == nil {
		fl := new(flowClaims)
		token, err := p.Sealer.Open(c.Value, realm)
		if err == nil && p.Flows.Verify(token, realm, fl) == nil && now-fl.Started < int64(flowMaxAge/time.Second) {
			if fl.Flow.ID == "" {
				fl.Flow.ID = enrollment.RandomID()
			}
			fl.read = token
			return fl
		}
	}
	return freshFlow()
}

// freshFlow is a sign-in begun afresh.
func freshFlow() *flowClaims {
	return &flowClaims{CSRF: enrollment.RandomID(), Flow: signin.Flow{ID: enrollment.RandomID()}}
}

// saveFlow signs the flow and seals it into its cookie, limited to the
// gate's pages. Sealed, because it names the user being signed in (and a
// decoy's name would tell that the user does not exist), and padded, so
// that its length does not tell either.
//
// A flow read under keys that a new secret replaced since (the gate
// adopted the store's while the request ran) is not carried over under
// the new ones: a fresh flow is saved instead (its form token the page
// shows), as a flow read after the adoption would have been. Asked once
// the flow is sealed, so that keys replaced while it was signed count:
// whether the flow keys still sign the token its cookie opened to (read,
// not opened again: a new secret replaces the flow keys before the
// seal's, session.Derived.Rekey), not its times again (Keys.Signed):
// readFlow took it, within the leeway, at the request's start, and the
// request's work since (a provider's send) does not end it.
func (p *Pages) saveFlow(req *request) {
	for {
		fl := req.flow
		fl.RegisteredClaims = p.Flows.NewClaims(req.realm, "", flowLifetime)
		if fl.Started == 0 { // a fresh flow: its start
			fl.Started = p.Now().Unix()
		}
		fl.pad()
		token, err := p.Flows.Sign(fl)
		if err != nil {
			p.Logger.Error("signing flow cookie", zap.Error(err))
			return
		}
		sealed := p.Sealer.Seal(token, req.realm)
		switch {
		case fl.read != "" && !p.Flows.Signed(fl.read):
			req.flow = freshFlow() // read under the old secret's keys
			continue
		case len(sealed) > maxFlowCookie && fl.RD != "":
			// Browsers drop a cookie past 4 KiB, and the sign-in with it:
			// better to land on "/" afterwards. (Known names and decoys
			// have flows of one length: they are cut alike.)
			fl.RD = ""
			continue
		}
		p.setCookie(req.w, req.r, FlowCookie, sealed, p.PathPrefix, int(flowLifetime/time.Second))
		return
	}
}

// maxFlowCookie is the most the flow cookie's value may hold, leaving
// room for its name and attributes within browsers' 4096 bytes.
const maxFlowCookie = 3900

// knownLifetime is how long a browser stays known after a sign-in.
const knownLifetime = session.KnownLifetime

// knownUser is whom this browser signed in as before (its known-browser
// cookie), or "". Only since the user's last reset, revoke or sign-out
// everywhere, which end every session and trust of theirs, and while the
// admin has not ended the session it signed in with, nor was the device
// that earned it removed (listed or not: the cookie names it): a browser that
// signed in as the user before one (a thief's, with the lost phone, or a
// stolen browser), or whose sign-in a config's phone earned that no gate
// of the realm gives her now (its number's mark: session.Manager.NumberGiven,
// as for its session), is a stranger's again, with no window of guesses or
// send budget of the owner's (session.StillKnown). A cookie from a
// release before it named its trust (no tb) is known no more: the admin's
// end of the trust its session came from, pushed off the user's list, could
// not reach it, and the records of the trusts ended before the upgrade name
// no user to find them by; its browser is known again at its next sign-in.
// The error is the store's, when it cannot say.
func (p *Pages) knownUser(req *request) (string, error) {
	cl := newest(req.knowns)
	if cl == nil || cl.Trust == nil {
		return "", nil
	}
	if !p.Sessions.NumberGiven(cl.Subject, cl.Device) {
		return "", nil // a config's phone no longer hers: its browser is a stranger's, as its session is
	}
	if known, err := session.StillKnown(req.r.Context(), p.Store, p.Realm, cl.Subject, cl.SID, *cl.Trust, cl.DeviceID(), cl.IssuedAt.Time); !known {
		return "", err
	}
	return cl.Subject, nil
}

// newest is the newest of a request's known-browser cookies (not whether
// it still counts: knownUser), or nil: one for the host only, from before
// the cookie was kept for cookie_domain, may come with the domain's until
// the next sign-in.
func newest(knowns []*session.Claims) *session.Claims {
	var newest *session.Claims
	for _, cl := range knowns {
		if newest == nil || cl.IssuedAt.After(newest.IssuedAt.Time) {
			newest = cl
		}
	}
	return newest
}

// readKnown reads the request's known-browser cookies once, for the whole
// request (req.knowns): every one that verifies, under its prefixed name,
// and under its old name those that count (oldCounts). Where the prefixed
// name is written and the request carries none, the newest under the old
// name that names its trust is renamed in the answer: one naming none is
// known no more (knownUser), and renamed it took the place of the tagged
// cookie another tab's sign-in had just written.
func (p *Pages) readKnown(req *request) {
	r, sec := req.r, p.secure(req.r)
	var old *session.Claims
	var oldToken string
	named := false // a cookie under the prefixed name verifies
	var oldName string
	for i, c := range cookiesUnder(r, p.names.known) {
		cl := new(session.Claims)
		if p.Known.Verify(c.Value, p.Realm, cl) != nil || cl.IssuedAt == nil {
			continue
		}
		switch {
		case i == 0:
			named = true
		case !p.oldCounts(c.Name, sec, cl):
			continue
		case cl.Trust != nil && (old == nil || cl.IssuedAt.After(old.IssuedAt.Time)):
			old, oldToken, oldName = cl, c.Value, c.Name
		}
		req.knowns = append(req.knowns, cl)
	}
	if old != nil && p.renamed(oldName, sec) && !named {
		p.rename(req.w, r, KnownCookie, oldToken, old)
		p.expireShared(req.w, r, oldName)
	}
}

// browserID names this browser (Claims.Browser): its known-browser
// cookie's, kept from one sign-in to the next (whoever signed in), or a
// new one, which the cookie rememberBrowser writes then carries. Only a
// cookie issued since the renaming (not IssuedBeforeRename: on a Secure
// request, read under its prefixed name alone, which no other host can
// plant) names it: one from before is read under its old name too, where a neighbour
// host can plant its own user's, and the ID copied into the visitor's own
// cookie would make a trust that user earned since pass as earned in the
// visitor's browser (earnedHere). A browser from before the renaming
// takes a new ID at its next sign-in: a trust it earned before then
// counts no more, and the next code may trust it again.
func (p *Pages) browserID(req *request) string {
	if req.browser == "" {
		var since []*session.Claims
		for _, cl := range req.knowns {
			if !p.Sessions.IssuedBeforeRename(cl) {
				since = append(since, cl)
			}
		}
		if cl := newest(since); cl != nil && cl.Browser != "" {
			req.browser = cl.Browser
		} else {
			req.browser = enrollment.RandomID()[:16]
		}
	}
	return req.browser
}

// rememberBrowser marks this browser as user's: strangers who name the
// user then cannot spend its send budgets or lock it out (OWASP's device
// cookies). It lets nobody in by itself. It names the session the sign-in
// made (its ID, as IssueBegun answered it: its token is not verified again),
// the trust that session came from or made (trust, "" for none, named
// all the same: a cookie naming none is one from before the claim, which
// knownUser does not take) and the device that earned it (the session's
// dv, nil for none): the admin's end of the session or the trust, or the
// device's removal, ends this too, even once the session is off the
// user's list. (A release before the trust's claim here reads it as a
// session's tb, which a known-browser cookie's reader ignores.)
func (p *Pages) rememberBrowser(req *request, user, sid, trust string, device *string) {
	// Stamped when the sign-in began, as its session is: a reset while it
	// ran covers it too.
	cl := session.Claims{RegisteredClaims: p.Known.NewClaimsAt(req.realm, user, knownLifetime, req.began.At()), SID: sid, Browser: p.browserID(req), Prefixed: true, Trust: &trust}
	if device != nil && *device != "" {
		cl.Device = device
	}
	token, err := p.Known.Sign(cl)
	if err != nil {
		p.Logger.Error("signing the known-browser cookie", zap.Error(err))
		return
	}
	// For the whole site, and every host under cookie_domain, as the
	// session is: every gate of the realm (a route that requires an app
	// has its own pages; a portal's other hosts) knows the browser, and a
	// sign-out at any of them ends the trusts it earned at the others.
	p.setSiteCookie(req.w, req.r, KnownCookie, token, int(knownLifetime/time.Second))
}
