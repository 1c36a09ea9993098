package admin

import (
	"errors"

	"github.com/smsgate/caddy-smsgate/enrollment"
)

// inviteReplacesNote is what an invite's answer says of the user's
// earlier links (enrollment.NewInvite replaced them).
const inviteReplacesNote = "the user's earlier invite links no longer work"

// inviteFailed is an invite that the store failed to make: no link is
// handed out, and the admin is told what became of those sent before.
type inviteFailed struct{ err error }

func (e *inviteFailed) Error() string { return e.said() + ": " + e.err.Error() }
func (e *inviteFailed) Unwrap() error { return e.err }

// said is what became of the user's earlier links: working, unless the
// store failed recording the new invite as her newest (the write may have
// been made, its answer lost).
func (e *inviteFailed) said() string {
	if errors.Is(e.err, enrollment.ErrInviteUnrecorded) {
		return "no invite link was made, and the user's earlier invite links may no longer work: make a new invite once the store is back"
	}
	return "no invite was made: the user's earlier invite links still work"
}
