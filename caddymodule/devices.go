package caddymodule

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// DefaultStepUp is how recent a code must be to change devices or
// recovery codes.
const DefaultStepUp = 5 * time.Minute

// deviceView is a device as pages show it.
type deviceView struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"` // "phone", "app" or "passkey"
	Name     string `json:"name"`
	Masked   string `json:"phone,omitempty"`
	LastUsed string `json:"last_used,omitempty"`
	Default  bool   `json:"default"`
}

// deviceViews lists user's devices for a page, the default first.
func (g *Gate) deviceViews(req *request, user string) []deviceView {
	list, err := g.signin.PhonesOf(req.r.Context(), req.realm, user)
	if err != nil {
		g.logger.Error("reading devices", zap.Error(err))
		return nil
	}
	return g.viewsOf(req, list)
}

// viewsOf is a device list as pages show it.
func (g *Gate) viewsOf(req *request, list []enrollment.Device) []deviceView {
	views := make([]deviceView, len(list))
	first := true // the default: the first phone
	for i, d := range list {
		views[i] = deviceView{ID: d.ID, Kind: "phone", Name: d.Name, Masked: phone.Mask(d.Phone), Default: first && d.IsPhone()}
		switch {
		case d.Kind == enrollment.KindPasskey:
			views[i].Kind, views[i].Masked = "passkey", ""
		case !d.IsPhone():
			views[i].Kind, views[i].Masked = "app", ""
		case d.Phone == "":
			views[i].Masked = g.words.T(req.lang, "number not kept")
		}
		first = first && !d.IsPhone()
		if !d.LastUsed.IsZero() {
			views[i].LastUsed = d.LastUsed.Format(g.sayID(req, "date.format")) // 23 Nov 2026, 23.11.2026
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
}

// devices serves /.smsgate/devices: a signed-in user lists, renames, adds
// and removes their phones and renews their recovery codes. Adding,
// removing and renewing need a code entered within step_up; adding needs a
// code to the new number too, and the other phones are told.
func (g *Gate) devices(req *request) {
	cl := g.session(req.r)
	if cl == nil || !g.signin.Identity.Admits(cl.Subject, req.user) {
		req.flow.RD = g.PathPrefix + "devices"
		g.goTo(req, signin.Login)
		return
	}
	user := cl.Subject
	req.user, req.flow.User = user, user
	ctx := req.r.Context()
	show := func(status int, errMsg string) { g.showDevices(req, user, status, errMsg) }
	action := req.form["action"]
	if req.r.Method == http.MethodGet || action == "" {
		show(http.StatusOK, "")
		return
	}
	// Renaming, and ending trust or sessions, protect more than they risk:
	// no fresh code for those.
	if action != "rename" && action != "untrust" && action != "signout-all" && !g.fresh(cl, time.Duration(g.StepUp)) {
		// Step-up: a fresh code first, then back here.
		req.flow.RD, req.flow.Challenge = g.PathPrefix+"devices", ""
		g.goTo(req, signin.Verify)
		return
	}
	switch action {
	case "rename":
		if err := g.signin.RenamePhone(ctx, req.realm, user, req.form["device"], req.form["name"]); err != nil {
			g.actionFailed(req, err, show)
			return
		}
		show(http.StatusOK, "")
	case "default":
		if err := g.signin.MakeDefault(ctx, req.realm, user, req.form["device"]); err != nil {
			g.actionFailed(req, err, show)
			return
		}
		show(http.StatusOK, "")
	case "remove":
		if req.form["confirm"] != "1" && !req.json {
			// First the page names the phone and asks.
			views := g.deviceViews(req, user)
			for i := range views {
				if views[i].ID == req.form["device"] {
					g.page(req, http.StatusOK, "devices", pageData{Devices: views, Confirm: &views[i], RecoveryLeft: g.signin.RecoveryLeft(ctx, req.realm, user)})
					return
				}
			}
		}
		if err := g.signin.RemovePhone(ctx, req.realm, user, req.form["device"]); err != nil {
			g.actionFailed(req, err, show)
			return
		}
		show(http.StatusOK, "")
	case "add":
		_, err := g.signin.AddPhone(ctx, req.scope, &req.flow.Flow, user, req.form["phone"], req.region, req.form["name"])
		switch {
		case errors.As(err, new(*signin.InputError)):
			// Next to its field, with what was typed kept.
			g.page(req, http.StatusBadRequest, "devices", pageData{Devices: g.deviceViews(req, user), RecoveryLeft: g.signin.RecoveryLeft(ctx, req.realm, user),
				PhoneError: g.say(req, err), Phone: trimInput(req.form["phone"]), DeviceName: req.form["name"]})
		case err != nil:
			req.flow.RD = g.PathPrefix + "devices"
			g.sendFailed(req, err, "verify")
		default:
			req.flow.RD = g.PathPrefix + "devices"
			g.goTo(req, signin.Verify)
		}
	case "app", "app-confirm":
		if !g.takes("totp") {
			show(http.StatusBadRequest, g.sayID(req, "gate.unknown_action"))
			return
		}
		g.deviceApp(req, user, action)
	case "passkey":
		// Fresh (step-up passed): the page whose button runs the ceremony.
		if g.webauthn == nil {
			show(http.StatusBadRequest, g.sayID(req, "gate.unknown_action"))
			return
		}
		g.page(req, http.StatusOK, "passkey", pageData{})
	case "untrust":
		if err := g.sessions.Untrust(ctx, user, req.form["trust"]); err != nil {
			g.logger.Error("ending a trusted browser", zap.Error(err))
			g.unavailable(req)
			return
		}
		g.audit("browser_untrusted", user, "")
		show(http.StatusOK, "")
	case "signout-all":
		// Every session and every trusted browser of the user ends, here
		// and (within the revocation poll) at every instance.
		err := g.sessions.RevokeUser(ctx, user)
		if err == nil {
			err = session.UntrustAll(ctx, g.store, req.realm, user)
		}
		if err != nil {
			g.logger.Error("signing out everywhere", zap.Error(err))
			g.unavailable(req)
			return
		}
		g.audit("signed_out_everywhere", user, "")
		g.setSessionCookie(req.w, req.r, "", -1)
		setCookie(req.w, req.r, TrustCookie, "", g.PathPrefix, -1)
		setCookie(req.w, req.r, FlowCookie, "", g.PathPrefix, -1)
		g.pageNoFlow(req, http.StatusOK, "signed_out", pageData{})
	case "recovery":
		codes, err := g.signin.RenewRecovery(ctx, req.realm, user)
		if err != nil {
			g.logger.Error("making recovery codes", zap.Error(err))
			g.unavailable(req)
			return
		}
		if req.json {
			writeJSON(req.w, http.StatusOK, map[string]any{"recovery_codes": codes})
			return
		}
		g.page(req, http.StatusOK, "recovery", pageData{Recovery: codes, Next: g.PathPrefix + "devices"})
	default:
		show(http.StatusBadRequest, g.sayID(req, "gate.unknown_action"))
	}
}

// showDevices renders user's devices page: a 503 when the store cannot
// list them (an empty list would be untrue).
func (g *Gate) showDevices(req *request, user string, status int, errMsg string) {
	list, err := g.signin.PhonesOf(req.r.Context(), req.realm, user)
	if err != nil {
		g.logger.Error("reading devices", zap.Error(err))
		g.unavailable(req)
		return
	}
	g.page(req, status, "devices", pageData{Error: errMsg, Devices: g.viewsOf(req, list),
		RecoveryLeft: g.signin.RecoveryLeft(req.r.Context(), req.realm, user), Trusted: g.trustViews(req, user)})
}

// actionFailed answers a devices action that did not happen: the user's
// mistake (a device that is not there, the last phone) with its words,
// the store's failure with 503.
func (g *Gate) actionFailed(req *request, err error, show func(int, string)) {
	if _, ok := words.Of(err); ok {
		show(http.StatusBadRequest, g.say(req, err))
		return
	}
	g.logger.Error("changing a device", zap.Error(err))
	g.unavailable(req)
}

// deviceApp adds an authenticator app: its setup page, then its first code.
func (g *Gate) deviceApp(req *request, user, action string) {
	ctx := req.r.Context()
	show := func(status int, errMsg string) { g.showDevices(req, user, status, errMsg) }
	switch action {
	case "app":
		// A new secret for the user's app: scanned, or typed, then proved
		// with its first code.
		setup, err := g.signin.StartApp(ctx, req.realm, user)
		if err != nil {
			g.logger.Error("starting an authenticator app", zap.Error(err))
			g.unavailable(req)
			return
		}
		view := &appSetupView{QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(setup.QR)),
			Secret: setup.Secret, URI: setup.URI}
		if req.json {
			writeJSON(req.w, http.StatusOK, map[string]any{"step": "app", "secret": view.Secret, "uri": view.URI})
			return
		}
		g.page(req, http.StatusOK, "app", pageData{AppSetup: view})
	case "app-confirm":
		if err := g.signin.ConfirmApp(ctx, req.scope, user, req.form["code"], req.form["name"]); err != nil {
			o := outcomeOf(err)
			if !o.known {
				g.logger.Error("adding an authenticator app", zap.Error(err))
				g.unavailable(req)
				return
			}
			o.setRetryAfter(req.w)
			g.page(req, o.status, "app", pageData{Error: g.say(req, err), AppError: true})
			return
		}
		show(http.StatusOK, "")
	}
}
