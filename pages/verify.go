package pages

import (
	"html/template"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
	"go.uber.org/zap"
)

// pageData is what a page shows.
type pageData struct {
	Error string
	// Stranded says the enroll step cannot be taken here (no phone's code
	// is taken): no form.
	Stranded bool
	// Twin says the enroll step is refused to this name (a case twin):
	// its own page, no form; Claimed, the twin is being set up now;
	// TwinWho, who she is signed in as (whoLine).
	Twin, Claimed bool
	TwinWho       template.HTML
	// Phone is what the user typed, to fill the form again; Username,
	// the name or number typed at the login form.
	Phone, Username string
	// Masked is the phone a pending code went to, when it may be shown.
	Masked string
	// Pending says a code was sent and can be typed in.
	Pending bool
	// Hidden says a code may have been sent to an account we do not name.
	// NumberTyped: a number was typed at the login form, not a name.
	Hidden, NumberTyped bool
	// ResendIn is how many seconds remain before "send again".
	ResendIn int
	// Calling says the pending code comes by phone call.
	Calling bool
	// AskPhone asks for the number before a code is sent (verify-only).
	AskPhone bool
	// Devices are the user's phones, to choose from or manage.
	Devices []deviceView
	// RecoveryLeft counts unused recovery codes; -1 when they could not
	// be counted (the page says nothing of them then).
	RecoveryLeft int
	// Recovery are new recovery codes, shown once; Next is where to go on.
	Recovery []string
	Next     string
	// CodesFor heads the codes' downloaded file: whose, which site, when.
	CodesFor string
	// Token is an invite's, carried by its form.
	Token string
	// LockedFor is how many seconds sign-in stays locked (0: not locked):
	// the page then claims no code and offers no send.
	LockedFor int
	// Switch offers the other channel: "call" or "sms" ("" for none).
	Switch string
	// Recoverable offers "I don't have my phone" (a recovery code).
	Recoverable bool
	// RecoveryError says the last recovery code was refused; RecoveryTyped
	// is what was typed, kept when it was refused as wrong (a code that is
	// not, or no longer, valid is no secret; one refused for another
	// reason — too many tries — may be a good one: not echoed).
	RecoveryError bool
	RecoveryTyped string
	// App offers "Use my authenticator app"; AppError says its last code
	// was refused. NoPhone says the user has no phone to text (an app only).
	App, AppError, NoPhone bool
	// AppFirst opens the app's form: it is the device last used.
	AppFirst bool
	// Strong puts the user's passkey or app first, texts behind "Try
	// another way": only once the first factor named the user (a login
	// form's page is the same for every name).
	Strong bool
	// Who is the user the first factor named, shown with "Not you?".
	Who string
	// Why says why the console asks for this sign-in (words); Back is
	// the console's address, where its notice says to go back to; Cancel
	// is where a step-up of a browser signed in already goes back to.
	Why, Back, Cancel string
	// Passkey offers "Use a passkey" (verify) or "Sign in with a passkey"
	// (login); Passkeys and Apps say the gate takes them at all (devices).
	Passkey, Passkeys, Apps bool
	// Requires says what this route asks for, when it asks for a kind.
	Requires string
	// Remember offers "Trust this browser for N days" (0: not offered);
	// Remembered keeps her tick through a refused code.
	Remember   int
	Remembered bool
	// Trusted are the user's trusted browsers (the devices page).
	Trusted []trustView
	// AppSetup is an app being added: its QR code (a data: URI), secret
	// and otpauth:// URI.
	AppSetup *appSetupView
	// Enrolling says the code is for a first phone: "change it". Renew
	// offers a new code to it after the last one died of wrong tries.
	Enrolling, Renew bool
	// Adding says the code confirms a phone a signed-in user is adding:
	// no sign-in ("Not you?"), one Cancel back to her devices page.
	Adding bool
	// Confirm is a phone the user asked to remove, to confirm. KeepOnly
	// says her only device may not be removed: no Remove, a hint instead.
	Confirm  *deviceView
	KeepOnly bool
	// ConsoleLink links the devices page to the console: the user is one of
	// the gate's admins (walk39: nothing led her there).
	ConsoleLink bool
	// SignsOut says the device to confirm the removal of is the one this
	// browser's session rests on (the last it confirmed, by signing in
	// with it or adding it): the question warns that it signs out here.
	SignsOut bool
	// PhoneError is an error about the phone typed (shown by its field);
	// DeviceName the name typed, kept.
	PhoneError, DeviceName string
	// Notice says what was just done (the devices page); Ask is a devices
	// action ("recovery", "signout-all") to confirm first.
	Notice, Ask string
	// CodesWithdrawn says a removal just withdrew the user's recovery
	// codes (a session the removed device earned made them): the page
	// says so and offers new ones (JSON: recovery_codes_withdrawn).
	CodesWithdrawn bool
	// NoRecoveryYet says the user holds no set of recovery codes at all
	// (never made, or withdrawn): not "none left".
	NoRecoveryYet bool
	// StepUp says a devices-page change waits for this code.
	StepUp bool
	// Unconfirmed says, in words, that the gateway could not confirm the
	// pending code went out (it may have), and when to ask again.
	Unconfirmed string
	// Delivery is what the gateway said of the pending code's message:
	// "pending", "delivered", "failed", or "" when it says nothing.
	Delivery string
	// Retry offers the code step again (a store that failed there).
	Retry bool
	// Console is what the admin's console shows (console.go).
	Console *consoleView
}

// choices name the kinds of device signin names (factor.Kinds) as the
// verify page's JSON answer offers them: the kind's own name, or what the
// session records for it (its amr value: "otp", not "totp"), or a
// passkey's name as a device (factor.Passkey's: "passkey");
// a new kind without one fails TestEveryKindIsAChoice.
var choices = map[factor.Kind]string{factor.SMS: string(factor.SMS), factor.Voice: string(factor.Voice),
	factor.TOTP: string(factor.AMROTP), factor.WebAuthn: factor.Passkey.Name()}

// verifyChoices are the ways the verify page offers to go on, as JSON
// clients see them (choices): "sms" or "voice" (a code sent; "voice" also
// when the page offers a call instead), "otp" (an authenticator app's
// code), "passkey", "recovery" (a recovery code: factor.AMRRecovery).
func verifyChoices(d pageData) []string {
	out := []string{}
	if d.LockedFor > 0 {
		return out
	}
	if !d.NoPhone {
		if d.Calling {
			out = append(out, choices[factor.Voice])
		} else {
			out = append(out, choices[factor.SMS])
		}
		if d.Switch == "call" {
			out = append(out, choices[factor.Voice])
		} else if d.Switch == "sms" {
			out = append(out, choices[factor.SMS])
		}
	}
	if d.App {
		out = append(out, choices[factor.TOTP])
	}
	if d.Passkey {
		out = append(out, choices[factor.WebAuthn])
	}
	if d.Recoverable {
		out = append(out, string(factor.AMRRecovery))
	}
	return out
}

// verifyData describes the verify page for challenge c (nil when no code is
// pending). The number is shown only when the first factor already proved
// who the user is; after a login form it could tell who exists.
func (p *Pages) verifyData(req *request, c *enrollment.Challenge, errMsg string) pageData {
	d := pageData{Error: errMsg, Hidden: p.SignIn.Identity.NamesThemselves(), NumberTyped: req.flow.NumberTyped(), Remember: int(time.Duration(p.Remember) / (24 * time.Hour))}
	if wait := p.SignIn.Challenges.LockedFor(req.r.Context(), req.scope, req.user); wait > 0 && req.user != "" {
		d.LockedFor = int((wait + time.Second - 1) / time.Second)
	}
	// A user who can ask for a code can use a recovery code instead, or
	// another kind of device.
	verifying := req.user != "" && d.LockedFor == 0 && (c == nil || c.Purpose == enrollment.Verify)
	d.Recoverable = verifying
	channel := p.Channels[0]
	if c != nil {
		channel = c.Channel
	}
	if channel == factor.ChannelVoice {
		if p.channelKind(req, factor.ChannelSMS) {
			d.Switch = "sms"
		}
	} else if p.offersChannel(req, factor.ChannelVoice) {
		d.Switch = "call"
	}
	if c != nil {
		d.Pending = true
		d.Calling = c.Channel == factor.ChannelVoice
		d.Enrolling = c.Purpose == enrollment.Enroll
		if !d.Hidden {
			d.Masked = c.Masked
		}
		d.Delivery = p.delivery(req, c)
		d.ResendIn = seconds(c.ResendAt.Sub(p.Now()))
		if req.flow.Unconfirmed && c.ID == req.flow.Challenge && d.Delivery != "delivered" {
			d.Unconfirmed = p.unconfirmed(req, c.ResendAt.Sub(p.Now()))
		}
	}
	// After a first factor, the user's devices decide what is offered (one
	// read); with a login form, every name is offered every kind, which
	// tells nobody who has what — except to an admin the console sent for
	// her app or passkey: she is signed in, the page is her own.
	why := p.consoleWhy(req)
	own := !d.Hidden || why == consoleWhyStrong || why == consoleWhyRequire
	var list []enrollment.Device
	if own && req.user != "" {
		var dev *enrollment.Device
		var err error
		list, dev, err = p.SignIn.DevicesOf(req.r.Context(), req.realm, req.user)
		if err != nil {
			p.Logger.Error("reading devices", zap.Error(err))
		}
		if why == consoleWhyStrong && err == nil && !signin.HoldsStrong(list) {
			// The app or passkey the console sent her for was removed
			// since (by another admin, or by her in another tab): nothing
			// is left to prove here (rules). Back to the console, which
			// asks again for what she holds now.
			why, d.Back = consoleStrongGone, req.flow.RD
		}
		if number := req.flow.EnrollingOf(req.user); c == nil && err == nil && dev == nil && number != "" {
			// A first phone's code died of wrong tries: a new one to the
			// same number (hers: EnrollingOf), or another number.
			d.Renew, d.Enrolling, d.Masked = true, true, phone.Mask(number)
			d.Recoverable = false
			d.ResendIn = seconds(p.SignIn.Challenges.CooldownLeft(req.r.Context(), req.scope,
				enrollment.Challenge{User: req.user, Phone: number, Channel: p.Channels[0]}))
		} else if c == nil && err == nil {
			if dev != nil {
				d.Masked = phone.Mask(dev.Phone)
				d.AskPhone = dev.Phone == ""
				if !d.AskPhone {
					// "Send me a code" counts down what the cooldown still holds.
					d.ResendIn = seconds(p.SignIn.Challenges.CooldownLeft(req.r.Context(), req.scope, enrollment.Challenge{
						User: req.user, LimitKey: req.flow.LimitKey, Phone: dev.Phone, Channel: p.Channels[0]}))
				}
			}
			d.NoPhone = dev == nil
			if views := phonesOnly(p.viewsOf(req, list)); len(views) > 1 && !d.AskPhone {
				d.Devices = views // several phones: the user picks one
			}
			// The default device first: an app the user last signed in with opens.
			d.AppFirst = len(list) > 0 && list[0].Kind == factor.App
		}
	}
	if d.NoPhone || (d.Switch == "call" && d.LockedFor == 0 && req.user != "" && !p.SignIn.CanCall(req.r.Context(), req.scope, &req.flow.Flow, req.user)) {
		d.Switch = "" // no phone, or the hour's calls are spent
	}
	d.App = verifying && (!own || enrollment.HasKind(list, factor.App))
	d.Passkey = verifying && p.Passkeys && (!own || enrollment.HasKind(list, factor.Passkey))
	// What this gate takes here (factors, and require on its route; the
	// console's app or passkey: rules).
	if !p.offersTexts(req) {
		d.NoPhone, d.Switch, d.Pending = true, "", false
	}
	d.App = d.App && p.offers(req, factor.TOTP)
	d.AppFirst = d.AppFirst && d.App
	d.Passkey = d.Passkey && p.offers(req, factor.WebAuthn)
	elsewhere := "" // where her passkeys answer, when not at this host
	if d.Passkey && own {
		elsewhere = p.SignIn.Devices.PasskeysElsewhere(list)
		d.Passkey = elsewhere == ""
	}
	d.Recoverable = d.Recoverable && p.offersRecovery(req) && p.hasRecovery(req, list)
	d.StepUp = req.flow.Pending != nil && p.stepUp(req)
	d.Strong = own && c == nil && d.LockedFor == 0 && !d.NoPhone && !d.Renew && (d.App || d.Passkey)
	if why != "" {
		d.Why = p.sayID(req, why)
	}
	if !d.Hidden {
		d.Who = req.user
	}
	if cl := p.session(req); cl != nil && cl.Subject == req.user && d.Back == "" {
		// Signed in already (a step-up): for a change she asked for, a
		// way back to where she was, the flow's return address checked as
		// every redirect is; else her devices page (the console, or a
		// route's max_age or require, would send her here again).
		d.Cancel = p.PathPrefix + "devices"
		if rd := safeRedirect(req.flow.RD, p.RedirectHosts); rd != "" && why == "" && req.flow.Pending != nil {
			d.Cancel = rd
		}
	}
	if c != nil && c.Purpose == enrollment.Add {
		// Her new phone's code, signed in: no "Not you? Cancel this
		// sign-in" (that signs her out), one way back, to her devices;
		// no trust box for a browser that holds her trust already.
		d.Adding, d.Who, d.Masked, d.Cancel = true, "", c.Masked, p.PathPrefix+"devices"
		if d.Remember > 0 && p.heldTrust(req, req.user) != "" {
			d.Remember = 0
		}
	}
	switch pol, _ := p.rules(req); {
	case d.Back != "":
		// Nothing asked for here: the notice says where to go instead,
		// alone (a refusal's "requires an app or a passkey" above it
		// would ask for what she no longer holds).
		d.Error = ""
	case len(pol.Require) > 0 && !p.offersRecovery(req) && errMsg == "" && why != consoleWhyStrong:
		// (The console's why says it, to an admin who holds one: not
		// "if you have none yet, add one".)
		d.Requires = p.requiredWords(req)
	case own && errMsg == "" && d.LockedFor == 0 && d.NoPhone && !d.App && !d.Passkey && !d.Renew:
		// Nothing the user holds is taken here (a passkey, at a gate
		// that takes none): say where it is, not a page with no way on.
		if kinds, _ := p.strongNotTaken(req, list); kinds != "" {
			d.Error = p.say(req, words.Newf("factor.held_elsewhere", "kinds", kinds))
		}
	}
	if elsewhere != "" && d.Error == "" && d.Back == "" && d.NoPhone && !d.App {
		// Her passkey answers at another host only, and nothing else
		// she holds is taken here: say where, rather than offer a
		// button the browser cannot answer (with a code to type, the
		// button is only left out: an error there marks the code).
		d.Error = p.say(req, words.Newf("passkey.elsewhere", "host", elsewhere))
	}
	return d
}

// unconfirmed says that a code may not have gone out: ask again once
// wait is over (now, if it is).
func (p *Pages) unconfirmed(req *request, wait time.Duration) string {
	if wait <= 0 {
		return p.sayID(req, "code.unconfirmed_now")
	}
	return p.Words.Render(req.lang, words.Say("code.unconfirmed", "wait", words.Wait(time.Duration(seconds(wait))*time.Second)))
}

// consoleWhy is why the console sent this sign-in here ("" when it did
// not: the flow is heading elsewhere now).
func (p *Pages) consoleWhy(req *request) string {
	if !strings.HasPrefix(req.flow.RD, p.PathPrefix+"admin/") {
		return ""
	}
	return req.flow.Why
}

// hasRecovery reports whether the user may hold recovery codes, so that
// "I don't have my phone" is never offered to someone who has none. After a
// login form, every name is answered alike (nobody learns who exists): a
// gate that provisions users in its config offers it to none, as those
// users never get any (a stored user may still type one as their code).
func (p *Pages) hasRecovery(req *request, list []enrollment.Device) bool {
	if p.SignIn.Identity.NamesThemselves() {
		return len(p.SignIn.Users) == 0
	}
	return len(list) > 0 && p.recoveryLeft(req, req.user) > 0
}

// seconds is a wait as whole seconds, rounded up (0 for none).
func seconds(wait time.Duration) int {
	if wait <= 0 {
		return 0
	}
	return int((wait + time.Second - 1) / time.Second)
}
