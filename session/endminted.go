package session

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// EndMinted ends every open invite admin minted at the console (her index:
// endkeys.MintedInvites, attack34b): a thief who took her account and
// minted an invite for a name of his loses it with her. It runs once her
// sessions are revoked (the admin's reset and revoke of her, her own
// sign-out everywhere), so that a mint of hers after it is refused by its
// session's check (the console's, once the invite is written: Live). Each
// invite ends by its ID: its user's newest invite (endkeys.LatestInvite)
// is written as Withdrawn where it still names it, in one atomic Update,
// the record every step of an acceptance reads (the link, each code sent,
// the enrollment once written, then undone): an acceptance enrolled
// before it, or is refused. One replaced since (a newer invite of the
// user, her reset) is left as it is, and not counted. It returns how many
// it ended. The index keeps what could not be ended (an error), for a
// next try; the rest leave it.
func EndMinted(ctx context.Context, st store.Store, realm, admin string, now time.Time) (int, error) {
	ctx = store.Lasting(ctx)
	raw, err := st.Get(ctx, endkeys.MintedInvites(realm, admin))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var list []endkeys.Minted
	if err := json.Unmarshal(raw, &list); err != nil {
		return 0, err
	}
	ended, done := 0, []string{}
	for _, m := range list {
		if !now.Before(m.Expires) {
			done = append(done, m.ID)
			continue
		}
		withdrawn, err := withdraw(ctx, st, realm, m)
		if err != nil {
			return ended, err
		}
		if withdrawn {
			ended++
		}
		done = append(done, m.ID)
	}
	return ended, st.Update(ctx, endkeys.MintedInvites(realm, admin), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var left []endkeys.Minted
		if !found || json.Unmarshal(old, &left) != nil {
			return nil, 0, store.ErrUnchanged
		}
		left = slices.DeleteFunc(left, func(m endkeys.Minted) bool { return slices.Contains(done, m.ID) })
		if len(left) == 0 {
			return nil, 0, nil // none left (one indexed meanwhile is kept: not in done)
		}
		last := now
		for _, m := range left {
			if m.Expires.After(last) {
				last = m.Expires
			}
		}
		raw, err := json.Marshal(left)
		return raw, min(last.Sub(now)+time.Second, endkeys.InviteLife), err
	})
}

// withdraw writes m's user's newest invite as Withdrawn where it names m,
// keeping the rest of the record (a recovery code's mark), and reports
// whether it did.
func withdraw(ctx context.Context, st store.Store, realm string, m endkeys.Minted) (bool, error) {
	withdrawn := false
	err := st.Update(ctx, endkeys.LatestInvite(realm, m.User), func(old []byte, found bool) ([]byte, time.Duration, error) {
		withdrawn = false
		var latest map[string]any
		if !found || json.Unmarshal(old, &latest) != nil || latest["id"] != m.ID {
			return nil, 0, store.ErrUnchanged
		}
		latest["id"] = endkeys.Withdrawn
		raw, err := json.Marshal(latest)
		withdrawn = err == nil
		return raw, endkeys.InviteLife, err
	})
	return withdrawn && err == nil, err
}
