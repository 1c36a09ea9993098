package signin

import (
	"context"
	"slices"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/session"
)

// MintedFields is the audit's fields of what an end did with the invites
// the user minted as an admin at the console, where it did anything
// (admin.InvitesEnded, admin.InvitesUsed: the same names); the pages'
// ends (a trusted browser's) name them too.
func MintedFields(m session.MintedEnd) []zap.Field {
	if m.Ended == 0 && len(m.Used) == 0 {
		return nil
	}
	return countedFields(m)
}

// countedFields is MintedFields where none ended too (invites_ended 0):
// the admin's ends, whose answer counts them always.
func countedFields(m session.MintedEnd) []zap.Field {
	fields := []zap.Field{zap.Int("invites_ended", m.Ended)}
	if len(m.Used) > 0 {
		fields = append(fields, audit.Users("invites_used", m.Used))
	}
	return fields
}

// endUndoneMinted ends the console invites minted in a session that user's
// device id earned while listed, its adding undone (session.MintedOfUndone:
// session.EndUndoneDevice ended the session and left its invites, attack37),
// audited as invites_ended where it ended any (the undo is told to nobody).
func (s *Service) endUndoneMinted(ctx context.Context, realm, user, id string) error {
	m, err := session.EndMintedOf(ctx, s.Devices.Store, realm, user, s.Devices.Now(), s.Logger, session.MintedOfUndone(id))
	if fields := MintedFields(m); fields != nil {
		s.audit("invites_ended", user, "", append([]zap.Field{zap.String("device", id)}, fields...)...)
	}
	return err
}

// addMinted is what two ends of invites did, together.
func addMinted(a, b session.MintedEnd) session.MintedEnd {
	used := slices.Compact(slices.Sorted(slices.Values(append(slices.Clip(a.Used), b.Used...))))
	if len(used) == 0 {
		used = nil
	}
	return session.MintedEnd{Ended: a.Ended + b.Ended, Used: used}
}
