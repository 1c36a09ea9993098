package pages

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"go.uber.org/zap"
)

// deviceView is a device as pages show it.
type deviceView struct {
	ID       string `json:"id,omitempty"` // none for the config's phone
	Kind     string `json:"kind"`         // factor.Device's Name: phone, app or passkey
	Name     string `json:"name"`
	Masked   string `json:"phone,omitempty"`
	LastUsed string `json:"last_used,omitempty"`
	Default  bool   `json:"default"`
	SetBy    string `json:"set_by,omitempty"` // "administrator": the config's phone
	Mark     bool   `json:"-"`                // the page marks it "Default for texts": the default of two phones or more
	KindSaid bool   `json:"-"`                // its name says its kind: the page does not (kindSaid)
}

// deviceViews lists user's devices for a page, the default first.
func (p *Pages) deviceViews(req *request, user string) []deviceView {
	list, err := p.SignIn.PhonesOf(req.r.Context(), req.realm, user)
	if err != nil {
		p.Logger.Error("reading devices", zap.Error(err))
		return nil
	}
	return p.viewsOf(req, list)
}

// viewsOf is a device list as pages show it.
func (p *Pages) viewsOf(req *request, list []enrollment.Device) []deviceView {
	views := make([]deviceView, len(list))
	first := true // the default: the first phone
	for i, d := range list {
		views[i] = deviceView{ID: d.ID, Kind: d.Kind.Name(), Name: d.Label(p.Words, req.lang), Masked: phone.Mask(d.Phone), Default: first && d.IsPhone()}
		views[i].KindSaid = p.kindSaid(req.lang, views[i].Kind, views[i].Name)
		switch {
		case !d.IsPhone():
			views[i].Masked = ""
		case d.Phone == "":
			views[i].Masked = p.Words.T(req.lang, "number not kept")
		}
		first = first && !d.IsPhone()
		if !d.LastUsed.IsZero() {
			views[i].LastUsed = d.LastUsed.Format(p.sayID(req, "date.format")) // 23 Nov 2026, 23.11.2026
		}
	}
	return views
}

// phonesOnly keeps the phones of a device list.
func phonesOnly(views []deviceView) []deviceView {
	var out []deviceView
	for _, v := range views {
		if v.Kind == "phone" {
			out = append(out, v)
		}
	}
	return out
}

// appSetupView is an authenticator app being added, as its page shows it.
type appSetupView struct {
	QR     template.URL `json:"-"`
	Secret string       `json:"secret"`
	URI    string       `json:"uri"`
	// Link is URI as a link a phone's app opens; Grouped the secret in
	// groups of four, to type.
	Link    template.URL `json:"-"`
	Grouped string       `json:"-"`
}

// devices serves /.smsgate/devices: a signed-in user lists, renames, adds
// and removes their phones and renews their recovery codes. Adding,
// removing and renewing need a code entered within step_up; adding needs a
// code to the new number too, and the other phones are told.
func (p *Pages) devices(req *request) {
	cl := p.session(req)
	if cl == nil || !p.SignIn.Identity.Admits(cl.Subject, req.user) {
		req.flow.RD = p.PathPrefix + "devices"
		p.goTo(req, signin.Login)
		return
	}
	user := cl.Subject
	req.user, req.flow.User = user, user
	ctx := req.r.Context()
	show := func(status int, errMsg string) { p.showDevices(req, user, status, pageData{Error: errMsg}) }
	done := func(notice string) { req.flow.Notice = notice; show(http.StatusOK, "") }
	// A change asked for before a step-up is finished once it is passed.
	resumed := req.r.Method == http.MethodGet && p.resumeChange(req, cl)
	if resumed && !p.liveChange(req, "devices") {
		return
	}
	ctx = req.r.Context() // with the change's guard (liveChange)
	action := req.form["action"]
	if (req.r.Method == http.MethodGet && !resumed) || action == "" {
		show(http.StatusOK, "")
		return
	}
	need, ok, list := p.strongChange(req, user, action)
	if !ok {
		return
	}
	if signin.NeedsStepUp(action) && (!p.freshForChange(cl) || !need.provedBy(cl)) {
		// Step-up: a fresh code first (an app's or a passkey's, for a
		// change to them; a passkey's, for a change to a passkey of a
		// user who holds one), then back here to finish the change.
		if need.strong && p.strongElsewhere(req, list, need, show) {
			return
		}
		p.keepChange(req, cl, need)
		req.flow.RD, req.flow.Challenge = p.PathPrefix+"devices", ""
		p.goTo(req, signin.Verify)
		return
	}
	switch action {
	case "rename":
		if err := p.SignIn.RenamePhone(ctx, req.realm, user, req.form["device"], req.form["name"]); err != nil {
			p.actionFailed(req, err, show)
			return
		}
		done("devices.renamed")
	case "default":
		if err := p.SignIn.MakeDefault(ctx, req.realm, user, req.form["device"]); err != nil {
			p.actionFailed(req, err, show)
			return
		}
		done("devices.made_default")
	case "remove":
		// The list strongChange read (a removal may take an app or a
		// passkey): no second read of it.
		views := p.viewsOf(req, list)
		at := slices.IndexFunc(views, func(v deviceView) bool { return v.ID == req.form["device"] })
		if req.form["confirm"] != "1" && !req.json && at >= 0 && !p.keepsOnly(user, views) {
			// First the page names the phone and asks.
			p.page(req, http.StatusOK, "devices", p.withLists(req, user, views, pageData{Confirm: &views[at], SignsOut: cl.EndsWith(views[at].ID)}))
			return
		}
		r, err := p.SignIn.RemovePhone(ctx, req.realm, user, req.form["device"], cl)
		if err != nil {
			if at >= 0 && !req.json && !refuse(err).known() {
				// The store failed, maybe once the phone was gone and before
				// what it earned ended (a thief's session): the page lists it
				// no more, so the answer asks again (signin.RemoveDevice ends
				// it then). A bare 503 left nothing to ask with.
				// The rest of the page as ever (her other devices, her
				// trusted browsers), read again: the phone went from it.
				p.Logger.Error("removing a device", zap.Error(err))
				d := pageData{Error: p.sayID(req, "devices.remove_unfinished"), Confirm: &views[at]}
				if list, err := p.SignIn.PhonesOf(ctx, req.realm, user); err == nil {
					d = p.withLists(req, user, p.viewsOf(req, list), d)
				}
				p.page(req, http.StatusServiceUnavailable, "devices", d)
				return
			}
			p.actionFailed(req, err, show)
			return
		}
		if cl.EndsWith(req.form["device"]) {
			// The device that signed this browser in: its session ended
			// with it (session.EndDevice), and its trust if the device
			// earned that too; one another device earned signs in again.
			// A recovery code's session, which names the device whose
			// session made the set, stays.
			p.signedOutHere(req, pageData{CodesWithdrawn: r.CodesWithdrawn, Why: p.sayID(req, "devices.signed_out_removed")})
			return
		}
		// Her recovery codes went with it where a session it earned made
		// them: the page says so, and offers new ones at once.
		req.flow.Notice = "devices.removed"
		p.showDevices(req, user, http.StatusOK, pageData{CodesWithdrawn: r.CodesWithdrawn})
	case "add":
		_, err := p.SignIn.AddPhone(ctx, req.scope, &req.flow.Flow, user, req.form["phone"], req.region, req.form["name"])
		switch {
		case errors.As(err, new(*signin.InputError)):
			// Next to its field, with what was typed kept.
			p.page(req, refuse(err).status, "devices", p.withLists(req, user, p.deviceViews(req, user),
				pageData{PhoneError: p.say(req, err), Phone: trimInput(req.form["phone"]), DeviceName: req.form["name"]}))
		case err != nil:
			req.flow.RD = p.PathPrefix + "devices"
			p.sendFailed(req, err, "verify")
		default:
			req.flow.RD = p.PathPrefix + "devices"
			p.goTo(req, signin.Verify)
		}
	case "app", "app-confirm":
		if !p.Policy.Takes(factor.TOTP) {
			show(http.StatusBadRequest, p.sayID(req, "gate.unknown_action"))
			return
		}
		p.deviceApp(req, cl, action)
	case "passkey":
		// Fresh (step-up passed): the page whose button runs the ceremony.
		if !p.Passkeys {
			show(http.StatusBadRequest, p.sayID(req, "gate.unknown_action"))
			return
		}
		p.page(req, http.StatusOK, "passkey", pageData{})
	case "untrust":
		if p.untrust(req, cl, req.form["trust"]) {
			done("devices.untrusted")
		}
	case "signout-all", "recovery":
		if req.form["confirm"] != "1" && !req.json {
			// Both undo more than one click should: the page asks first.
			p.page(req, http.StatusOK, "devices", p.withLists(req, user, p.deviceViews(req, user), pageData{Ask: action}))
			return
		}
		p.sweeping(req, cl, action)
	default:
		show(http.StatusBadRequest, p.sayID(req, "gate.unknown_action"))
	}
}

// sweeping carries out a confirmed "sign out everywhere" or "make new
// recovery codes".
func (p *Pages) sweeping(req *request, cl *session.Claims, action string) {
	ctx, user := req.r.Context(), cl.Subject
	switch action {
	case "signout-all":
		if _, err := p.ends(req).SignOutEverywhere(ctx, user); err != nil {
			p.Logger.Error("signing out everywhere", zap.Error(err))
			p.unavailable(req)
			return
		}
		p.setCookie(req.w, req.r, TrustCookie, "", p.PathPrefix, -1)
		p.signedOutHere(req, pageData{})
	case "recovery":
		maker, err := p.SignIn.Maker(ctx, req.realm, cl)
		var codes []string
		if err == nil {
			codes, err = p.SignIn.RenewRecovery(ctx, req.realm, user, maker, p.live(cl))
		}
		if errors.Is(err, signin.ErrEnded) {
			p.goTo(req, signin.Login) // a reset or a sign-out everywhere came first
			return
		}
		if err != nil {
			p.Logger.Error("making recovery codes", zap.Error(err))
			p.unavailable(req)
			return
		}
		if req.json {
			WriteJSON(req.w, http.StatusOK, map[string]any{"recovery_codes": codes})
			return
		}
		p.showCodes(req, user, codes, p.PathPrefix+"devices")
	}
}

// signedOutHere answers a change that ended this browser's session: its
// cookie and the flow's cleared, "You are signed out", with d.
func (p *Pages) signedOutHere(req *request, d pageData) {
	p.setSiteCookie(req.w, req.r, SessionCookie, "", -1)
	p.setCookie(req.w, req.r, FlowCookie, "", p.PathPrefix, -1)
	p.pageNoFlow(req, http.StatusOK, "signed_out", d)
}

// showDevices renders user's devices page, with d (its error, or what a
// change did): a 503 when the store cannot list them (an empty list would
// be untrue).
func (p *Pages) showDevices(req *request, user string, status int, d pageData) {
	list, err := p.SignIn.PhonesOf(req.r.Context(), req.realm, user)
	if err != nil {
		p.Logger.Error("reading devices", zap.Error(err))
		p.unavailable(req)
		return
	}
	if req.flow.Notice != "" && d.Error == "" {
		d.Notice = p.sayID(req, req.flow.Notice)
	}
	req.flow.Notice = "" // said once
	p.page(req, status, "devices", p.withLists(req, user, p.viewsOf(req, list), d))
}

// withLists is d with the devices page's lists: her devices (views) and
// the phone the config gives her (withConfigPhone), the count of her
// unused recovery codes and her trusted browsers.
func (p *Pages) withLists(req *request, user string, views []deviceView, d pageData) pageData {
	d.Devices, d.Trusted, d.KeepOnly = p.withConfigPhone(req, user, views), p.trustViews(req, user), p.keepsOnly(user, views)
	d.ConsoleLink = slices.Contains(p.Admins, user)
	return p.withCodes(req, user, d)
}

// actionFailed answers a devices action that did not happen: the user's
// mistake (a device that is not there, the last phone) with its words and
// its row's status, the store's failure with 503.
func (p *Pages) actionFailed(req *request, err error, show func(int, string)) {
	o := refuse(err)
	if !o.known() {
		p.Logger.Error("changing a device", zap.Error(err))
		p.unavailable(req)
		return
	}
	o.setRetryAfter(req.w)
	show(o.status, p.say(req, err))
}

// deviceApp adds an authenticator app: its setup page, then its first code.
func (p *Pages) deviceApp(req *request, cl *session.Claims, action string) {
	ctx, user := req.r.Context(), cl.Subject
	show := func(status int, errMsg string) { p.showDevices(req, user, status, pageData{Error: errMsg}) }
	switch action {
	case "app":
		// A new secret for the user's app: scanned, or typed, then proved
		// with its first code.
		setup, err := p.SignIn.StartApp(ctx, req.realm, user, cl.SID)
		if err != nil {
			p.Logger.Error("starting an authenticator app", zap.Error(err))
			p.unavailable(req)
			return
		}
		if req.json {
			WriteJSON(req.w, http.StatusOK, map[string]any{"step": "app", "secret": setup.Secret, "uri": setup.URI})
			return
		}
		view, err := appViewOf(setup)
		if err != nil {
			p.Logger.Error("drawing an authenticator app's QR code", zap.Error(err))
			p.unavailable(req)
			return
		}
		p.page(req, http.StatusOK, "app", pageData{AppSetup: view})
	case "app-confirm":
		added := p.SignIn.AddingWith(ctx, req.realm, cl, req.form["code"], signin.AppCodeLength)
		if err := p.SignIn.ConfirmApp(added, req.scope, user, req.form["code"], req.form["name"], p.live(cl)); err != nil {
			if errors.Is(err, signin.ErrEnded) {
				p.goTo(req, signin.Login) // a reset or a sign-out everywhere came first
				return
			}
			o := refuse(err)
			if !o.known() {
				p.Logger.Error("adding an authenticator app", zap.Error(err))
				p.unavailable(req)
				return
			}
			o.setRetryAfter(req.w)
			d := pageData{Error: p.say(req, err), AppError: true, DeviceName: req.form["name"]} // the name typed kept
			if !req.json {
				// The key again, to type it anew, if this session began
				// the setup: another's key is not this session's to see.
				if setup, err := p.SignIn.PendingApp(ctx, req.realm, user, cl.SID); err == nil {
					d.AppSetup, _ = appViewOf(setup)
				}
			}
			p.page(req, o.status, "app", d)
			return
		}
		req.flow.Notice = "devices.app_added"
		show(http.StatusOK, "")
	}
}

// appViewOf is an app's setup as its page shows it, QR code drawn.
func appViewOf(setup *enrollment.AppSetup) (*appSetupView, error) {
	picture, err := setup.QR()
	if err != nil {
		return nil, err
	}
	return &appSetupView{QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(picture)),
		Secret: setup.Secret, URI: setup.URI, Link: template.URL(setup.URI), Grouped: groupsOfFour(setup.Secret)}, nil
}

// groupsOfFour writes a key as people type it: ABCD EFGH IJKL.
func groupsOfFour(key string) string {
	var b strings.Builder
	for i, r := range key {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
