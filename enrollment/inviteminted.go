package enrollment

import (
	"context"
	"encoding/json"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/words"
)

// Who minted an invite (attack34b): an admin at the console is named in
// the invite (Invite.By) and in her index of the invites she minted
// (endkeys.MintedInvites), written before the invite: an invite of hers
// is never in the store unindexed. A revocation of all her sessions (the
// real admin's reset or revoke of her, her own sign-out everywhere) ends
// every one still open (session.EndMinted), so a thief who took her
// account and minted an invite for a name of his loses it with her. The
// admin API and the CLI mint with no admin named ("" : nobody's to end).

// ErrTooManyMinted refuses an admin's mint while she holds
// endkeys.MaxMinted invites open: the index of hers is bounded.
var ErrTooManyMinted = words.New("invite.too_many")

// indexMinted records the invite id of user, minted at made, until
// expires, in by's index, dropping those expired; its expiry is that of
// the last of them (MaxInviteTTL at most). An index that cannot be
// decoded is logged and started again (fix35: it refused every mint of
// hers for its life): the invites it named are not known.
func (s *Admin) indexMinted(ctx context.Context, realm, by, user, id string, made, expires time.Time) error {
	now := s.Now()
	return s.Store.Update(ctx, endkeys.MintedInvites(realm, by), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var list []endkeys.Minted
		if found {
			if err := json.Unmarshal(old, &list); err != nil {
				s.logger().Error("an admin's index of the invites she minted could not be read: started again, the invites it named are not ended with her",
					zap.String("realm", realm), zap.String("admin", by), zap.Error(err))
				list = nil
			}
		}
		kept := []endkeys.Minted{{User: user, ID: id, Expires: expires, Made: made}}
		last := expires
		for _, m := range list {
			if now.Before(m.Expires) {
				kept = append(kept, m)
				last = maxTime(last, m.Expires)
			}
		}
		if len(kept) > endkeys.MaxMinted {
			return nil, 0, ErrTooManyMinted
		}
		raw, err := json.Marshal(kept)
		return raw, min(last.Sub(now), MaxInviteTTL), err
	})
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s *Core) logger() *zap.Logger {
	if s.Logger == nil {
		return zap.NewNop()
	}
	return s.Logger
}
