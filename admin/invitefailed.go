package admin

import (
	"context"
	"errors"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
)

// inviteReplacesNote is what an invite's answer says of the user's
// earlier links (enrollment.NewInvite replaced them), where one was open.
const inviteReplacesNote = "the user's earlier invite links no longer work"

// earlierNote is what an invite about to be minted for user does to her
// earlier links, read before it is (enrollment.OpenInvite): it ends the
// one still open (inviteReplacesNote), or none where none is open ("": no
// note; the answer said it of her first invite too, resid37); a read that
// fails says "if any".
func earlierNote(ctx context.Context, st store.Store, realm, user string) string {
	open, err := enrollment.OpenInvite(ctx, st, realm, user)
	switch {
	case err != nil:
		return "the user's earlier invite links, if any, no longer work"
	case open:
		return inviteReplacesNote
	}
	return ""
}

// withNote is an invite's answer made with its note, if any.
func withNote(made map[string]string, note string) map[string]string {
	if note != "" {
		made["note"] = note
	}
	return made
}

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
