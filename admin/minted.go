package admin

import (
	"context"
	"fmt"
	"strconv"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// InvitesEnded is the answer's count, to a reset or a revoke, of the open
// invites the user had minted as an admin at the console that it ended
// (session.EndMinted, attack34b): her audit event names it (signin's, by
// the same name), never a token or a link.
const InvitesEnded = "invites_ended"

// InvitesUsed is the answer's list (a JSON array of names, where any) of
// the users who enrolled by an invite she minted at the console (fix35):
// not ended, and the accounts an admin must look at. (Before resid38, one
// string, the names joined by commas: a name with a comma in it read as
// two, in the answer and in its audit event.)
const InvitesUsed = "invites_used"

// mintedAnswer adds to answer what EndMinted did.
func mintedAnswer(answer map[string]any, ended session.MintedEnd) map[string]any {
	answer[InvitesEnded] = strconv.Itoa(ended.Ended)
	if len(ended.Used) > 0 {
		answer[InvitesUsed] = ended.Used
	}
	return answer
}

// unlistedEnd is the answer to end-unlisted: what it ended, and the
// invites minted through those sessions it ended (attack36 F3).
type unlistedEnd struct {
	session.Unlisted
	Ended string   `json:"invites_ended,omitempty"`
	Used  []string `json:"invites_used,omitempty"`
}

func newUnlistedEnd(ended signin.Ended) unlistedEnd {
	if ended.Unlisted.Count == 0 {
		return unlistedEnd{Unlisted: ended.Unlisted}
	}
	return unlistedEnd{Unlisted: ended.Unlisted, Ended: strconv.Itoa(ended.Minted.Ended), Used: ended.Minted.Used}
}

// endedField is the audit's fields of how many invites out ended, and
// who used one, where it says (a removal's: the ends of sessions, a
// reset's and a revoke's are signin's, audited there).
func endedField(out any) []zap.Field {
	var ended string
	var used []string
	switch a := out.(type) {
	case map[string]any: // a device's removal's
		ended, _ = a[InvitesEnded].(string)
		used, _ = a[InvitesUsed].([]string)
	}
	n, err := strconv.Atoi(ended)
	if err != nil {
		return nil
	}
	fields := []zap.Field{zap.Int(InvitesEnded, n)}
	if len(used) > 0 {
		fields = append(fields, audit.Users(InvitesUsed, used))
	}
	return fields
}

// ErrMintEnded refuses the link of an invite whose admin's session ended
// while she minted it (Request.Live): her revocation's end of the invites
// she minted (session.EndMinted) read her index before this one was in
// it, so its link is never handed out; nobody else holds its token.
var ErrMintEnded = words.New("console.invite_minter_ended")

// mintStands asks req.Live, where the console gave one, once an invite
// was minted: its session revoked is ErrMintEnded; not known (the store
// failed), an invite failed, which may have replaced the earlier links.
func mintStands(ctx context.Context, req Request) error {
	if req.Live == nil {
		return nil
	}
	ok, err := req.Live(ctx)
	if err != nil {
		return &inviteFailed{fmt.Errorf("%w: its admin's session could not be checked: %w", enrollment.ErrInviteUnrecorded, err)}
	}
	if !ok {
		return ErrMintEnded
	}
	return nil
}
