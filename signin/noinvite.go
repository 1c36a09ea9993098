package signin

import (
	"errors"
	"slices"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/words"
)

// RefuseInvite is the one rule of whom no invite is minted for, the same
// for the admin API, the console and the CLI (admin's inviteGate asks it
// before any mint, the console before it offers one): a user the config
// gives a phone at a gate of the realm (enrollment.ErrInviteConfigPhone).
// She holds that phone at every gate of the realm (ConfigPhone), is no
// newcomer there, and enrolls nothing: an invite for her would be used up
// enrolling nothing (invite36). Nor one for her twin (TwinOf: her name in
// other capitals, spacing or invisible characters, as caseTwin compares
// them), which sign-in refuses a first phone of his own beside her config
// phone, and an invite would let enroll one (InvitedAs): whoever holds her
// password where a first factor's logins ignore case (review36). Its
// refusal names her spelling (configTwin), never her number; the admin's
// own adding may still give a genuine twin a phone.
// configUsers names those users: a running gate's ConfigUsers (the
// realm's numbers, GiveNumbers, the source ConfigPhone reads), or, on a
// stopped Caddy, the user lines of the realm's gates in its config file
// (what NumbersOf would give them at start).
func RefuseInvite(user string, configUsers []string) error {
	if slices.Contains(configUsers, user) {
		return enrollment.ErrInviteConfigPhone
	}
	if held := TwinOf(user, slices.Values(configUsers)); held != "" {
		return &configTwin{held: held}
	}
	return nil
}

// configTwin refuses an invite for a twin of held, a user the config
// gives a phone (RefuseInvite): enrollment.ErrInviteConfigPhone (its row
// and status, 409), in words that name held's spelling; stopped, as the
// CLI on a stopped Caddy says it (OnAStoppedCaddy).
type configTwin struct {
	held    string
	stopped bool
}

// OnAStoppedCaddy is err, RefuseInvite's, as the CLI on a stopped Caddy
// says it: a twin's refusal told the admin to add their phone herself,
// which only a running Caddy does (caddy smsgate add), so it says to
// start Caddy first (invite.config_phone_twin_stopped).
func OnAStoppedCaddy(err error) error {
	var twin *configTwin
	if errors.As(err, &twin) {
		return &configTwin{held: twin.held, stopped: true}
	}
	return err
}

func (e *configTwin) Error() string { return words.English.Render("en", e.Words()) }

// Words implements words.Worded.
func (e *configTwin) Words() words.Text {
	if e.stopped {
		return words.Say("invite.config_phone_twin_stopped", "user", textsafe.Escape(e.held))
	}
	return words.Say("invite.config_phone_twin", "user", textsafe.Escape(e.held))
}

func (e *configTwin) Unwrap() error { return enrollment.ErrInviteConfigPhone }
