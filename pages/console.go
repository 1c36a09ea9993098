package pages

import (
	"cmp"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/admin"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// The admin's console, under <path_prefix>admin/: people (users, their
// devices and trusted browsers; remove a device, reset, revoke, invite),
// what happened (the recent audit events) and what it costs (the
// figures). Only the users `admins` names reach it, with a sign-in of the
// last consoleMaxAge, with their app or passkey where they have one, and
// with a kind the gate's require names, where it names any.
// Its changes go through admin.Site.Change, the admin API's own code, and
// each is audited with who did it.

// consoleMaxAge is how recent an admin's sign-in must be for the console
// (OpenID's max_age): an unattended browser is no way in for long. A gate
// whose own max_age is shorter holds its console to that.
const consoleMaxAge = 5 * time.Minute

// consoleSections are the console's pages, by path under admin/.
var consoleSections = map[string]string{"admin/": "people", "admin/user": "user", "admin/events": "events", "admin/costs": "costs"}

// Why the console sends its admin to the verify step, as the page says it.
const (
	consoleWhyStrong  = "console.why_strong"  // a text, where the admin has an app or a passkey
	consoleWhyRequire = "console.why_require" // a sign-in of a kind the gate's route does not take
	consoleWhyFresh   = "console.why_fresh"   // a sign-in older than consoleMaxAge, or a trusted browser's
	consoleStrongGone = "console.strong_gone" // consoleWhyStrong's app or passkey, removed since
)

// console serves the console's pages.
func (p *Pages) console(req *request) {
	step := strings.TrimPrefix(req.r.URL.Path, p.PathPrefix)
	// Back here after a sign-in, to the same user or search.
	back := p.PathPrefix + step
	if q := req.r.URL.RawQuery; q != "" {
		back += "?" + q
	}
	cl := p.session(req)
	if cl == nil || !p.SignIn.Identity.Admits(cl.Subject, req.user) {
		req.flow.RD = back
		p.goTo(req, signin.Login)
		return
	}
	admin := cl.Subject
	req.user, req.flow.User = admin, admin
	if !slices.Contains(p.Admins, admin) {
		p.Audit("console_refused", admin, "", zap.String("reason", "not_admin"))
		p.fail(req, http.StatusForbidden, "forbidden", p.sayID(req, "console.forbidden"))
		return
	}
	why := ""
	switch {
	case !p.strongEnough(req.r.Context(), admin, cl):
		why = consoleWhyStrong
	case !p.Policy.Satisfied(cl.AMR, false):
		// Nor less than the gate's own route takes (require): a session
		// of another gate of the realm may have been earned with less.
		why = consoleWhyRequire
	case cl.Trusted || !p.fresh(cl, consoleMaxAge) || !p.fresh(cl, p.MaxAge):
		why = consoleWhyFresh
	}
	if why != "" {
		// Prove it again, now (with the app or passkey where there is one),
		// then back here; the verify page says why. A POST's change is not
		// carried over: the admin makes it again on the fresh page.
		req.flow.RD, req.flow.Challenge, req.flow.Why = back, "", why
		p.goTo(req, signin.Verify)
		return
	}
	if req.r.Method == http.MethodPost && (req.json || req.r.Header.Get("Origin") == "" && req.r.Header.Get("Referer") == "") {
		// Forms from the console's own page only: a browser sends Origin
		// with every form POST; a request with neither is not a browser's.
		p.fail(req, http.StatusForbidden, "bad_origin", p.sayID(req, "gate.bad_origin"))
		return
	}
	c := &consoleView{Section: consoleSections[step], Admin: admin, this: cl.SID, live: p.live(cl), from: session.MintedFrom(cl)}
	status := http.StatusOK
	switch c.Section {
	case "people":
		status = p.consolePeople(req, c)
	case "user":
		if status = p.consoleUser(req, c, admin); status == http.StatusSeeOther {
			// Post/Redirect/Get: a reload shows the change, not repeats it.
			name := req.r.URL.Query().Get("name")
			req.flow.Done = &consoleDone{Action: c.Done, User: name, Invite: c.madeInvite}
			p.saveFlow(req)
			http.Redirect(req.w, req.r, p.PathPrefix+"admin/user?"+url.Values{"name": {name}}.Encode(), status)
			return
		}
	case "events":
		status = p.consoleEvents(req, c)
	case "costs":
		status = p.consoleCosts(req, c)
	}
	p.page(req, status, "console", pageData{Console: c, Error: c.Error})
}

// strongEnough says cl's sign-in used an app or a passkey (signin.Strong:
// a text alone is not enough where the admin has more), or the admin has
// neither. A trusted browser's session is sent back anyway
// (consoleWhyFresh), so its trust's amr counts here.
func (p *Pages) strongEnough(ctx context.Context, user string, cl *session.Claims) bool {
	if signin.Strong(cl.AMR, false) {
		return true
	}
	devices, err := p.SignIn.PhonesOf(ctx, p.Realm, user)
	if err != nil {
		p.Logger.Error("reading an admin's devices", zap.Error(err))
		return false // fail closed
	}
	return !signin.HoldsStrong(devices)
}

// SectionTitle is the section's name, first in the page's <title>: each
// console page had the same one, "Console" (walk33), which a tab or a
// screen reader's list of windows could not tell apart.
func (c *consoleView) SectionTitle() string {
	switch c.Section {
	case "events":
		return words.N("What happened")
	case "costs":
		return words.N("What it costs")
	}
	return words.N("People") // the people, and one of them
}

// consoleView is what the console's pages show.
type consoleView struct {
	Section, Admin string
	Error          string
	// People: the users (filtered by Query); User: one of them.
	Query  string
	People []personView
	User   *personView
	Trusts []trustView
	// Sessions: the user's, listed (SessionsError: they could not be).
	Sessions      []sessionView
	SessionsError string
	// Unlisted: how many sessions the list pushed out (at most; ended
	// together); UnlistedError: they could not be counted.
	Unlisted      int
	UnlistedError bool
	this          string      // the admin's own session
	live          signin.Live // it, asked again once an invite is minted (admin.Request.Live)
	Invite        *inviteView
	NoInvite      string // why no invite is offered, in the reader's words (noInvite: walk35's A1, review36)
	Done          string
	madeInvite    map[string]string // an invite just made, for the GET after (consoleDone)
	// Ask is a reset, revoke or removal (of AskDevice) asked for, not
	// made yet: confirmed first.
	Ask, AskDevice string
	// Events: the recent audit events, filtered.
	Events     []eventView
	EventUser  string
	EventKind  string
	EventKinds []eventKind
	// Costs: the figures, drawn.
	Costs *costsView
	// from is the admin's own session, as an invite it mints names it
	// (admin.Request.From).
	from *endkeys.MintedFrom
}

// personView is a user as the console lists them.
type personView struct {
	User         string
	Devices      []consoleDevice
	RecoveryLeft int
}

// consoleDevice is a device as the console shows it. AddedFrom is the
// config's number whose session added it (Device.AddedBy, at the root of
// the chain), masked, or that it is a number no longer given her (the
// old one: its devices go at the next start's settle); "" for none.
type consoleDevice struct {
	ID, Kind, KindID, Masked, Name, Added, LastUsed, AddedFrom string
}

// kindIDs name the kinds of device.
var kindIDs = map[string]string{factor.Phone.Name(): "kind.phone", factor.App.Name(): "kind.app", factor.Passkey.Name(): "kind.passkey"}

// consoleDone is a console change just made, as the flow carries it to
// the page its answer redirects to.
type consoleDone struct {
	Action string `json:"a"`
	User   string `json:"u"`
	// Invite is an invite just made (its url and expires): the sealed
	// flow carries its link to the next GET only, never an address
	// Caddy logs; a reload shows it no more, and mints none.
	Invite map[string]string `json:"i,omitempty"`
}

// doneIDs say what a console change did, by its action (remove_codes: a
// removal that withdrew the recovery codes).
var doneIDs = map[string]string{"remove": "console.done.remove", "remove_codes": "console.done.remove_codes", "reset": "console.done.reset", "revoke": "console.done.revoke", "end": "console.done.end", "end-unlisted": "console.done.end_unlisted", "end-signed-out": "console.done.end_signed_out"}

// people lists the realm's users, numbers masked, those whose name or
// device's name holds query first.
func (p *Pages) people(req *request, query string) ([]personView, error) {
	users, err := p.Site.Users(req.r.Context())
	if err != nil {
		return nil, err
	}
	query = strings.ToLower(strings.TrimSpace(query))
	format := p.sayID(req, "date.format")
	var out []personView
	for _, u := range users {
		v := personView{User: textsafe.Escape(u.User), RecoveryLeft: u.RecoveryLeft}
		match := query == "" || strings.Contains(strings.ToLower(u.User), query)
		for _, d := range u.Devices {
			cd := consoleDevice{ID: d.ID, Kind: d.Kind.Name(), Masked: d.Phone, Name: textsafe.Escape(d.Label(p.Words, req.lang)), LastUsed: p.Words.T(req.lang, "never")}
			switch {
			case !d.IsPhone():
				cd.Masked = ""
			case d.Phone == "":
				cd.Masked = p.Words.T(req.lang, "number not kept")
			}
			if !d.Enrolled.IsZero() {
				cd.Added = d.Enrolled.Format(format)
			}
			if !d.LastUsed.IsZero() {
				cd.LastUsed = d.LastUsed.Format(format)
			}
			match = match || strings.Contains(strings.ToLower(d.Label(p.Words, req.lang)), query) || strings.Contains(d.Phone, query)
			cd.KindID = kindIDs[cd.Kind]
			if number := p.SignIn.Given(u.User, d.AddedBy); number != "" {
				cd.AddedFrom = phone.Mask(number)
			} else if d.AddedBy != "" {
				cd.AddedFrom = p.Words.T(req.lang, "a number no longer given")
			}
			v.Devices = append(v.Devices, cd)
		}
		if match {
			out = append(out, v)
		}
	}
	return p.withConfigPeople(req, query, users, out), nil
}

// consolePeople is admin/: the users, searchable.
func (p *Pages) consolePeople(req *request, c *consoleView) int {
	c.Query = req.r.URL.Query().Get("q")
	var err error
	if c.People, err = p.people(req, c.Query); err != nil {
		p.Logger.Error("listing users for the console", zap.Error(err))
		c.Error = p.sayID(req, "gate.unavailable")
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// inviteView is an invite the console made: its link and a QR code of it.
type inviteView struct {
	URL, Expires string
	QR           template.URL
	Earlier      bool // an earlier invite of hers was open: it ends
}

// consoleUser is admin/user?name=…: one user, and the admin's changes to
// them (POST: remove, reset, revoke, end a session, invite). A change
// made answers 303 to the page, its action kept in the flow (an invite
// excepted: its link is shown once, never put in an address); the GET
// that follows says it, once.
func (p *Pages) consoleUser(req *request, c *consoleView, by string) int {
	name := req.r.URL.Query().Get("name")
	if name == "" {
		// Nobody named: the page asks for a name (its field), and offers
		// no action and no "What happened to" with none (walk29).
		c.User, c.Error = &personView{}, p.sayID(req, "console.no_user")
		return http.StatusNotFound
	}
	ctx := req.r.Context()
	status := http.StatusOK
	if req.r.Method != http.MethodPost {
		if d := req.flow.Done; d != nil && d.User == name {
			c.Done = doneIDs[d.Action]
			if d.Action == "invite" && d.Invite != nil {
				c.Invite = p.inviteOf(req, d.Invite)
			}
		}
		req.flow.Done = nil // said once
	} else {
		op := map[string]string{"remove": "devices/remove", "reset": "reset", "revoke": "revoke", "end": "sessions/end", "end-signed-out": "sessions/end", "end-unlisted": "sessions/end-unlisted", "invite": "invites"}[req.form["action"]]
		id := req.form["device"]
		if (op == "reset" || op == "revoke" || op == "devices/remove") && req.form["confirm"] != "1" {
			// None is undone: the page asks first, naming the user (and
			// the device), as the devices page does.
			c.Ask, c.AskDevice = req.form["action"], id
			op = ""
		}
		if op == "sessions/end" {
			id = req.form["session"]
		}
		var out any
		var err error
		earlier := op == "invites" && p.openInvite(req, name) // read before the mint
		if op != "" {
			out, err = p.Site.Change(ctx, op, admin.Request{User: name, ID: id, Live: c.live, From: c.from}, by)
		}
		switch {
		case c.Ask != "": // the question: nothing done yet
		case op == "":
			// The page still names the user (its template reads c.User):
			// an early return answered 500 (attack22).
			c.Error, status = p.sayID(req, "gate.unknown_action"), http.StatusBadRequest
		case err != nil:
			c.Error, status = p.consoleError(req, err)
			if op == "invites" && status >= http.StatusInternalServerError {
				// The store failed: no link is shown. Those sent before
				// still work, unless it failed recording the new one.
				said := "console.invite_unmade"
				if errors.Is(err, enrollment.ErrInviteUnrecorded) {
					said = "console.invite_unrecorded"
				}
				c.Error += " " + p.sayID(req, said)
			}
		case op == "invites":
			// Post/Redirect/Get too: a reload re-posted the form and
			// minted a new invite, ending the link just shown (walk33).
			c.madeInvite, _ = out.(map[string]string)
			markEarlier(c.madeInvite, earlier)
			c.Done = "invite"
			return http.StatusSeeOther
		case withdrew(out):
			c.Done = "remove_codes"
			return http.StatusSeeOther
		default:
			c.Done = req.form["action"]
			return http.StatusSeeOther
		}
	}
	people, err := p.people(req, "")
	if err != nil {
		// The page still names the user (its template reads c.User): an
		// early return without it answered an empty 500 (review27).
		// A change's failure already said keeps what it said.
		c.User = &personView{User: textsafe.Escape(name)}
		p.Logger.Error("listing users for the console", zap.Error(err))
		c.Error = cmp.Or(c.Error, p.sayID(req, "gate.unavailable"))
		return http.StatusServiceUnavailable
	}
	for i := range people {
		if people[i].User == textsafe.Escape(name) {
			c.User = &people[i]
		}
	}
	if c.User == nil {
		// No devices (or never enrolled): still a user an admin may invite.
		c.User = &personView{User: textsafe.Escape(name)}
	}
	if c.Ask == "remove" && !slices.ContainsFunc(c.User.Devices, func(d consoleDevice) bool { return d.ID != "" && d.ID == c.AskDevice }) {
		// No such device of the user's: refused as its removal would be,
		// not asked about.
		c.Ask = ""
		c.Error, status = p.consoleError(req, enrollment.ErrNoDevice)
	}
	c.Trusts, c.NoInvite = p.trustViews(req, name), p.noInvite(req, name)
	p.consoleSessions(req, c, name, c.this)
	return status
}

// consoleError is an admin change's failure, with its status from the
// admin API's table (admin.Refuse): the admin's mistake (an unknown
// device) in the reader's words where it has some, else the store's.
func (p *Pages) consoleError(req *request, err error) (string, int) {
	r := admin.Refuse(err)
	switch {
	case !r.Mistake:
		p.Logger.Error("a console change", zap.Error(err))
		return p.sayID(req, "gate.unavailable"), r.Status
	case hasWords(err):
		return p.say(req, err), r.Status
	}
	return err.Error(), r.Status
}

func hasWords(err error) bool { _, ok := words.Of(err); return ok }
