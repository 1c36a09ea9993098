package caddymodule

import (
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
)

// DefaultStepUp is how recent a code must be to change devices or
// recovery codes.
const DefaultStepUp = 5 * time.Minute

// deviceView is a device as pages show it.
type deviceView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Masked   string `json:"phone"`
	LastUsed string `json:"last_used,omitempty"`
	Default  bool   `json:"default"`
}

// deviceViews lists user's devices for a page, the default first.
func (g *Gate) deviceViews(req *request, user string) []deviceView {
	list, err := g.codes.Devices(req.r.Context(), req.realm, user)
	if err != nil {
		g.logger.Error("reading devices", zap.Error(err))
		return nil
	}
	views := make([]deviceView, len(list))
	for i, d := range list {
		views[i] = deviceView{ID: d.ID, Name: d.Name, Masked: phone.Mask(d.Phone), Default: i == 0}
		if d.Phone == "" {
			views[i].Masked = "number not kept"
		}
		if !d.LastUsed.IsZero() {
			views[i].LastUsed = d.LastUsed.Format("2 Jan 2006")
		}
	}
	return views
}

// devices serves /.smsgate/devices: a signed-in user lists, renames, adds
// and removes their phones and renews their recovery codes. Adding,
// removing and renewing need a code entered within step_up; adding needs a
// code to the new number too, and the other phones are told.
func (g *Gate) devices(req *request) {
	cl := g.session(req.r)
	if cl == nil || !g.accepts(cl, req.user) {
		req.flow.RD = g.PathPrefix + "devices"
		g.goTo(req, "login")
		return
	}
	user := cl.Subject
	req.user, req.flow.User = user, user
	ctx := req.r.Context()
	show := func(status int, errMsg string) {
		left, _ := g.codes.RecoveryCodesLeft(ctx, req.realm, user)
		g.page(req, status, "devices", pageData{Error: errMsg, Devices: g.deviceViews(req, user), RecoveryLeft: left})
	}
	action := req.form["action"]
	if req.r.Method == http.MethodGet || action == "" {
		show(http.StatusOK, "")
		return
	}
	if action != "rename" && !g.fresh(cl, time.Duration(g.StepUp)) {
		// Step-up: a fresh code first, then back here.
		req.flow.RD, req.flow.Challenge = g.PathPrefix+"devices", ""
		g.goTo(req, "verify")
		return
	}
	switch action {
	case "rename":
		if err := g.codes.RenameDevice(ctx, req.realm, user, req.form["device"], req.form["name"]); err != nil {
			show(http.StatusBadRequest, sentence(err))
			return
		}
		show(http.StatusOK, "")
	case "remove":
		removed, err := g.codes.RemoveDevice(ctx, req.realm, user, req.form["device"], g.AllowRemoveLast)
		if err != nil {
			show(http.StatusBadRequest, sentence(err))
			return
		}
		g.audit("device_removed", user, removed.Phone, zap.String("device", removed.ID))
		g.notify(req, user, "", "a phone ("+phone.Mask(removed.Phone)+") was removed from your account")
		show(http.StatusOK, "")
	case "add":
		e164, err := phone.Parse(req.form["phone"], g.DefaultRegion)
		if err != nil {
			show(http.StatusBadRequest, sentence(err))
			return
		}
		g.discardChallenge(req)
		c, err := g.codes.Start(ctx, req.scope, enrollment.Challenge{User: user, Phone: e164, Purpose: enrollment.Add,
			Channel: g.Channels[0], DeviceName: enrollment.CleanName(req.form["name"])})
		if err != nil {
			req.flow.RD = g.PathPrefix + "devices"
			g.sendFailed(req, err, "verify")
			return
		}
		g.audit("code_sent", user, e164, zap.String("purpose", enrollment.Add))
		req.flow.Challenge, req.flow.RD = c.ID, g.PathPrefix+"devices"
		g.goTo(req, "verify")
	case "recovery":
		codes, err := g.codes.NewRecoveryCodes(ctx, req.realm, user)
		if err != nil {
			g.logger.Error("making recovery codes", zap.Error(err))
			g.unavailable(req)
			return
		}
		g.audit("recovery_codes_renewed", user, "")
		if req.json {
			writeJSON(req.w, http.StatusOK, map[string]any{"recovery_codes": codes})
			return
		}
		g.page(req, http.StatusOK, "recovery", pageData{Recovery: codes, Next: g.PathPrefix + "devices"})
	default:
		show(http.StatusBadRequest, "Unknown action.")
	}
}

// deviceNameOf carries the name of a device being added through a resend
// or "call me instead".
func deviceNameOf(c *enrollment.Challenge) string {
	if c == nil {
		return ""
	}
	return c.DeviceName
}

// notify tells user's phones (all but except) about a change to their
// account, so that an intruder's change does not go unseen. In verify-only
// mode the numbers are not kept, and nobody can be told.
func (g *Gate) notify(req *request, user, except, what string) {
	list, err := g.codes.Devices(req.r.Context(), req.realm, user)
	if err != nil {
		g.logger.Error("reading devices for a notice", zap.Error(err))
		return
	}
	site := g.SiteName
	if site == "" {
		site = req.host
	}
	for _, d := range list {
		if d.ID == except || d.Phone == "" {
			continue
		}
		m := providers.Message{To: d.Phone, Channel: providers.SMS, Host: req.host,
			Body: site + ": " + what + ". If this was not you, tell your administrator."}
		if err := g.chain.Send(req.r.Context(), m); err != nil {
			g.logger.Warn("notice not sent", zap.String("user", user), zap.String("to", phone.Mask(d.Phone)), zap.Error(err))
			continue
		}
		g.audit("notice_sent", user, d.Phone, zap.String("notice", what))
	}
}
