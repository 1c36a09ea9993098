package signin

import (
	"slices"

	"github.com/smsgate/caddy-smsgate/words"
)

// An admin's invite lasts while she is an admin (minted37): one she
// minted at the console (enrollment.Invite.By) is honoured only while
// the running config names her in the admins of a gate of its realm on
// its store, asked where it is redeemed: at its link, its acceptance,
// each code its flow sends and its enrollment (readAccepted). The config
// taking her out of admins (a reload) so ends every invite of hers, and
// no event need end them: her index is kept, and her invites work again
// if the config names her again before they expire. An invite of the
// admin API or the CLI, or of the release before, names nobody: it is
// honoured as before. Each instance judges by its own running config
// (invites38, decided): in a rolling change of admins, an instance not yet
// reloaded honours her invites as it grants her an admin's powers; her
// revoke, in the store, ends them at every instance at once.

// ErrInviteMinterGone answers the link of an invite minted at the
// console by an admin the config no longer names (MinterStands).
var ErrInviteMinterGone = words.New("invite.minter_gone")

// GiveAdmins tells the gate the admins of every gate of its realm on its
// store in the config that starts (admin.App.Start: AdminsOf). Until
// then, its own (Admins).
func (s *Service) GiveAdmins(names []string) { s.admins.Store(&names) }

// AdminsOf is the admins of gates, sorted, each once.
func AdminsOf(gates []*Service) []string {
	var names []string
	for _, g := range gates {
		names = append(names, g.Admins...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// MinterStands says whether an invite minted by by ("": nobody's) is
// honoured here: by is an admin of a gate of the realm (GiveAdmins), or,
// before the gate was told them, of this gate.
func (s *Service) MinterStands(by string) bool {
	if by == "" {
		return true
	}
	if given := s.admins.Load(); given != nil {
		return slices.Contains(*given, by)
	}
	return slices.Contains(s.Admins, by)
}
