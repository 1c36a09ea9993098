package signin

import (
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
	fields := []zap.Field{zap.Int("invites_ended", m.Ended)}
	if len(m.Used) > 0 {
		fields = append(fields, audit.Users("invites_used", m.Used))
	}
	return fields
}
