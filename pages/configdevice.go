package pages

import (
	"slices"
	"strings"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// configDevice is the phone the config gives user (signin.ConfigPhone)
// as every list of her devices shows it — her devices page, its JSON and
// the admin's console (walk34: the console said "No devices." of carol,
// who signs in by text daily): masked, set by her administrator, with no
// ID (it is neither removed nor renamed here); nil where the config gives
// her none. It is the default where codes go to it (signin.DeviceOf's
// choice): this gate's own line wins over a phone of her own; a number
// another gate of the realm gives her, only where she has no phone
// (ownPhone says she has).
func (p *Pages) configDevice(req *request, user string, ownPhone bool) *deviceView {
	e164 := p.SignIn.ConfigPhone(user)
	if e164 == "" {
		return nil
	}
	_, line := p.SignIn.Users[user]
	return &deviceView{Kind: factor.Phone.Name(), Name: p.sayID(req, "Phone"), Masked: phone.Mask(e164), SetBy: "administrator", Default: line || !ownPhone}
}

// withConfigPhone is user's devices (views, as viewsOf makes them) and
// the phone the config gives her, last (configDevice), one phone marked
// the default: the one codes go to. The page marks it only where she
// has two phones or more (walk35's 61: "Default" of her one phone).
func (p *Pages) withConfigPhone(req *request, user string, views []deviceView) []deviceView {
	own := slices.ContainsFunc(views, func(v deviceView) bool { return v.Kind == factor.Phone.Name() })
	out := slices.Clone(views)
	if config := p.configDevice(req, user, own); config != nil {
		for i := range out {
			out[i].Default = out[i].Default && !config.Default
		}
		out = append(out, *config)
	}
	phones := 0
	for _, v := range out {
		if v.Kind == factor.Phone.Name() {
			phones++
		}
	}
	for i := range out {
		out[i].Mark = out[i].Default && phones > 1
	}
	return out
}

// withConfigPeople is the console's people (out, those of users that
// match query) with the phone the config gives each (configDevice), in
// their rows: a user it gives one and who holds no device record is
// listed too, by name (her recovery codes counted), sorted among them.
func (p *Pages) withConfigPeople(req *request, query string, users []enrollment.UserInfo, out []personView) []personView {
	row := func(user string, devices []enrollment.Device) consoleDevice {
		d := p.configDevice(req, user, enrollment.DefaultPhone(devices) != nil)
		if d == nil {
			return consoleDevice{}
		}
		return consoleDevice{Kind: d.Kind, KindID: kindIDs[d.Kind], Masked: d.Masked, Name: d.Name, AddedFrom: p.Words.T(req.lang, "set in the configuration")}
	}
	for _, u := range users {
		j := slices.IndexFunc(out, func(v personView) bool { return v.User == textsafe.Escape(u.User) })
		if cd := row(u.User, u.Devices); j >= 0 && cd.Kind != "" {
			out[j].Devices = append(out[j].Devices, cd)
		}
	}
	for _, name := range p.SignIn.ConfigUsers() {
		if slices.ContainsFunc(users, func(u enrollment.UserInfo) bool { return u.User == name }) ||
			!strings.Contains(strings.ToLower(name), query) {
			continue
		}
		left, _ := p.SignIn.RecoveryLeft(req.r.Context(), req.realm, name)
		out = append(out, personView{User: textsafe.Escape(name), Devices: []consoleDevice{row(name, nil)}, RecoveryLeft: left})
	}
	slices.SortStableFunc(out, func(a, b personView) int { return strings.Compare(a.User, b.User) })
	return out
}

// noInvite is why the console offers no invite for user, in the reader's
// words, or "" where it offers one: the rule the admin's mint asks
// (signin.RefuseInvite), so that no "Make an invite" leads to its 409.
// The config gives user a phone (she signs in with it), or a
// user whose name is hers in other capitals, spacing or invisible
// characters one (the refusal's words, naming that spelling).
func (p *Pages) noInvite(req *request, user string) string {
	switch err := signin.RefuseInvite(user, p.SignIn.ConfigUsers()); {
	case err == nil:
		return ""
	case p.SignIn.ConfigPhone(user) != "":
		return p.Words.Render(req.lang, words.Say("console.config_phone_no_invite", "user", textsafe.Escape(user)))
	default:
		return p.say(req, err)
	}
}
