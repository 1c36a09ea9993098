package signin

import (
	"slices"

	"github.com/smsgate/caddy-smsgate/enrollment"
)

// RefuseInvite is the one rule of whom no invite is minted for, the same
// for the admin API, the console and the CLI (admin's inviteGate asks it
// before any mint): a user the config gives a phone at a gate of the realm
// (enrollment.ErrInviteConfigPhone). She holds that phone at every gate
// of the realm (ConfigPhone), is no newcomer there, and enrolls nothing:
// an invite for her would be used up enrolling nothing (invite36).
// configUsers names those users: a running gate's ConfigUsers (the
// realm's numbers, GiveNumbers, the source ConfigPhone reads), or, on a
// stopped Caddy, the user lines of the realm's gates in its config file
// (what NumbersOf would give them at start).
func RefuseInvite(user string, configUsers []string) error {
	if slices.Contains(configUsers, user) {
		return enrollment.ErrInviteConfigPhone
	}
	return nil
}
