package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/store"
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

// indexMinted records entry (an invite of its user, pending: being
// minted) in by's index, dropping those expired; its expiry is that of
// the last of them (MaxInviteTTL at most). At the cap, the closed are
// looked for and dropped (closedMinted), and it tries once more: the cap
// counts only her open invites (fix35). An index that cannot be decoded
// is logged and started again (fix35: it refused every mint of hers for
// its life): the invites it named are not known.
func (s *Admin) indexMinted(ctx context.Context, realm, by string, entry endkeys.Minted) error {
	err := s.addMinted(ctx, realm, by, entry, nil)
	if !errors.Is(err, ErrTooManyMinted) {
		return err
	}
	closed, rerr := s.closedMinted(ctx, realm, by)
	if rerr != nil || len(closed) == 0 {
		return err // the store's failure: the cap stands
	}
	return s.addMinted(ctx, realm, by, entry, closed)
}

// addMinted adds entry to by's index, dropping the expired and closed.
func (s *Admin) addMinted(ctx context.Context, realm, by string, entry endkeys.Minted, closed map[string]bool) error {
	now := s.Now()
	return s.Store.Update(ctx, endkeys.MintedInvites(realm, by), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var list []endkeys.Minted
		if found {
			if err := json.Unmarshal(old, &list); err != nil {
				s.logger().Error("an admin's index of the invites she minted could not be read: started again, the invites it named are not ended with her",
					zap.String("realm", realm), zap.String("admin", textsafe.Escape(by)), zap.Error(err))
				list = nil
			}
		}
		kept := []endkeys.Minted{entry}
		for _, m := range list {
			if now.Before(m.Expires) && !closed[m.ID] {
				kept = append(kept, m)
			}
		}
		if len(kept) > endkeys.MaxMinted {
			return nil, 0, ErrTooManyMinted
		}
		raw, err := json.Marshal(kept)
		return raw, endkeys.MintedLife(kept, now), err
	})
}

// closedMinted reads which invites of by's index are closed, by their
// IDs: replaced (its user's newest names another: a newer invite, her
// reset, an end), where its mint is done (one pending may still be
// written its user's newest: attack36 F1) or past mintGrace, or used (it
// enrolled its user: endkeys.InviteSpent), or, pending past mintGrace,
// never written (its invite's record absent, and its user's newest not
// naming it: its mint died before them, minted37). One taken and not
// yet enrolled by is open: its flow ends with her. The index is read before its users' newest: an
// entry done then had its record written before, and one named no more
// is never named again. All in one batch (one round trip on Redis); an
// error is the store's.
func (s *Admin) closedMinted(ctx context.Context, realm, by string) (map[string]bool, error) {
	raw, err := s.Store.Get(ctx, endkeys.MintedInvites(realm, by))
	var list []endkeys.Minted
	if err == nil {
		err = json.Unmarshal(raw, &list)
	}
	if err != nil {
		return nil, err
	}
	var b store.Batch
	latest, spent, made := make([]*store.Op, len(list)), make([]*store.Op, len(list)), make([]*store.Op, len(list))
	now := s.Now()
	for i, m := range list {
		dead := m.Pending && deadMint(m, now)
		if !m.Pending || dead {
			latest[i] = b.Get(endkeys.LatestInvite(realm, m.User))
		}
		if dead {
			made[i] = b.Get(inviteKeyOf(realm, m.ID))
		}
		if !m.Made.IsZero() {
			spent[i] = b.Get(endkeys.InviteSpent(realm, m.User, m.Made.UnixNano()))
		}
	}
	_ = store.Do(ctx, s.Store, &b) // each read's error is its own
	closed := map[string]bool{}
	for i, m := range list {
		if latest[i] != nil && replaced(latest[i].Value, latest[i].Err, m.ID) {
			closed[m.ID] = true
		}
		if spent[i] != nil && spent[i].Err == nil {
			closed[m.ID] = true
		}
		if made[i] != nil && errors.Is(made[i].Err, store.ErrNotFound) && !names(latest[i], m.ID) {
			closed[m.ID] = true // its mint died before its invite was written: none ever will be
		}
	}
	return closed, nil
}

// names reports whether latest, a read of a user's newest invite, names
// id: its mint wrote the invite, and the link may have been handed out
// and taken (its record gone, its flow open: it ends with her).
func names(latest *store.Op, id string) bool {
	var l latestInvite
	return latest.Err == nil && json.Unmarshal(latest.Value, &l) == nil && l.ID == id
}

// mintGrace is how long after its mint time an entry may still be
// pending with its mint alive (minted37): a console mint's writes (the
// entry, the invite, its record as its user's newest, the read back) are
// one request's, RequestBudget (3 s) of store time in all, a Redis
// replica's WAIT within it, and a command sent before its deadline
// reaches the store within a network's delay; the entry's time is the
// minting instance's clock, judged by another's. An hour leaves all that
// a wide margin; a mint judged dead while alive (a clock skewed past it,
// a process stalled) puts its entry back as it ends (mintedDone), so no
// clock is trusted with a link (review37 F1). And a mint that died
// pending (the process stopped between its entry and its invite) counts
// against the cap an hour, not until it expires (up to 30 days).
const mintGrace = time.Hour

// deadMint reports whether m, pending, is past mintGrace: its mint is
// over, its invite and its record as its user's newest written or never
// to be, so it is read as done (closedMinted), and dropped where its
// invite is absent. One with no mint time (none pending is written so)
// is not known to be.
func deadMint(m endkeys.Minted, now time.Time) bool {
	return !m.Made.IsZero() && now.Sub(m.Made) > mintGrace
}

// replaced reports whether raw (err: the read's), a user's newest
// invite, names another than id.
func replaced(raw []byte, err error, id string) bool {
	var l latestInvite
	return err == nil && json.Unmarshal(raw, &l) == nil && l.ID != "" && l.ID != id
}

// mintedDone marks entry (of user) in by's index done, once its mint has
// written its record as user's newest or never will, then drops the
// entries of user that were done then, and that her newest, read after,
// does not name: they are dead (ReadGone), and the cap counts only the
// open (fix35). An entry still pending is kept (attack36 F1: dropped, a
// mint at the same time whose record came last stood out of her index,
// and her end left its link live). An entry not found is put back, done,
// in the same Update (review37 F1: another instance, its clock an hour
// ahead, or this mint stalled an hour, read it as a dead mint's and
// dropped it; no clock is trusted), past the cap if it must be: a link
// written is never left out of her index. Where it fails they stay,
// counted until they expire or she is revoked: the mint stands.
func (s *Admin) mintedDone(ctx context.Context, realm, by string, entry endkeys.Minted) {
	user, id := entry.User, entry.ID
	var done []string // user's others, done when this one was marked
	key := endkeys.MintedInvites(realm, by)
	err := s.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		done = nil
		var list []endkeys.Minted
		if found && json.Unmarshal(old, &list) != nil {
			return nil, 0, store.ErrUnchanged // undecodable: her next mint starts it again (addMinted)
		}
		i := slices.IndexFunc(list, func(m endkeys.Minted) bool { return m.ID == id })
		for _, m := range list {
			if m.User == user && m.ID != id && !m.Pending {
				done = append(done, m.ID)
			}
		}
		switch {
		case i < 0:
			back := entry
			back.Pending = false
			list = append(list, back)
		case list[i].Pending:
			list[i].Pending = false
		default:
			return nil, 0, store.ErrUnchanged
		}
		raw, err := json.Marshal(list)
		return raw, endkeys.MintedLife(list, s.Now()), err
	})
	if err == nil && len(done) > 0 {
		var latest []byte
		latest, err = s.Store.Get(ctx, endkeys.LatestInvite(realm, user))
		if err == nil { // none: none replaced
			err = s.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
				var list []endkeys.Minted
				if !found || json.Unmarshal(old, &list) != nil {
					return nil, 0, store.ErrUnchanged
				}
				n := len(list)
				list = slices.DeleteFunc(list, func(m endkeys.Minted) bool { return slices.Contains(done, m.ID) && replaced(latest, nil, m.ID) })
				if len(list) == n {
					return nil, 0, store.ErrUnchanged
				}
				raw, err := json.Marshal(list)
				return raw, endkeys.MintedLife(list, s.Now()), err
			})
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.logger().Warn("an admin's index of the invites she minted: the replaced were not dropped", zap.String("realm", realm), zap.String("admin", textsafe.Escape(by)), zap.Error(err))
	}
}

// mintedGone takes the entry id away from by's index: its mint's invite
// was never written, or, its write failed after all, its token is
// nobody's (no link was handed out), so it is closed.
func (s *Admin) mintedGone(ctx context.Context, realm, by, id string) {
	err := s.Store.Update(ctx, endkeys.MintedInvites(realm, by), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var list []endkeys.Minted
		if !found || json.Unmarshal(old, &list) != nil {
			return nil, 0, store.ErrUnchanged
		}
		n := len(list)
		if list = slices.DeleteFunc(list, func(m endkeys.Minted) bool { return m.ID == id }); len(list) == n {
			return nil, 0, store.ErrUnchanged // dropped meanwhile: left out
		}
		if len(list) == 0 {
			return nil, 0, nil
		}
		raw, err := json.Marshal(list)
		return raw, endkeys.MintedLife(list, s.Now()), err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.logger().Warn("an admin's index of the invites she minted: a failed mint's entry was not taken away", zap.String("realm", realm), zap.String("admin", textsafe.Escape(by)), zap.Error(err))
	}
}

func (s *Core) logger() *zap.Logger {
	if s.Logger == nil {
		return zap.NewNop()
	}
	return s.Logger
}
