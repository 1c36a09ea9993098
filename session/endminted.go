package session

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
)

// MintedEnd is what EndMinted did with the invites an admin minted:
// Ended, how many it ended (open, or accepted and not yet enrolled by);
// Used, the users who enrolled by one (names only, sorted): an invite used
// is neither ended nor withdrawn (fix35), and those are the accounts an
// admin must look at.
type MintedEnd struct {
	Ended int
	Used  []string
}

// EndMinted ends every open invite admin minted at the console (her index:
// endkeys.MintedInvites, attack34b): a thief who took her account and
// minted an invite for a name of his loses it with her. It runs once her
// sessions are revoked (the admin's reset and revoke of her, her own
// sign-out everywhere), so that a mint of hers after it is refused by its
// session's check (the console's, once the invite is written: Live). Each
// invite ends by its ID: its user's newest invite (endkeys.LatestInvite)
// is written as Withdrawn where it still names it, or names none (its
// mint wrote its invite and not that record: invites38), in one atomic Update,
// the record every step of an acceptance reads (the link, each code sent,
// the enrollment once written, then undone): an acceptance enrolled
// before it, or is refused. One replaced since (a newer invite of the
// user, her reset) is left as it is, and not counted. One that enrolled
// its user (endkeys.InviteSpent, read first) is used: left, and its user
// named. The index keeps what could not be ended (an error), for a next
// try; the rest leave it. An index that cannot be decoded is logged and
// removed (fix35: it blocked every end and mint of hers for its life):
// the invites it named are not known, so none is ended.
func EndMinted(ctx context.Context, st store.Store, realm, admin string, now time.Time, logger *zap.Logger) (MintedEnd, error) {
	return EndMintedOf(ctx, st, realm, admin, now, logger, nil)
}

// EndMintedOf is EndMinted of the invites ends picks (nil: every one):
// those minted through a session that ended, or with the device removed
// (attack36 F3: MintedOfDevice, MintedIn, MintedUntil). The others stay,
// in her index. logger nil: not told.
func EndMintedOf(ctx context.Context, st store.Store, realm, admin string, now time.Time, logger *zap.Logger, ends func(endkeys.Minted) bool) (MintedEnd, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	ctx = store.Lasting(ctx)
	var out MintedEnd
	raw, err := st.Get(ctx, endkeys.MintedInvites(realm, admin))
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	var list []endkeys.Minted
	if err := json.Unmarshal(raw, &list); err != nil {
		logger.Error("an admin's index of the invites she minted could not be read: removed, the invites it named are not ended",
			zap.String("realm", realm), zap.String("admin", textsafe.Escape(admin)), zap.Error(err))
		return out, st.Update(ctx, endkeys.MintedInvites(realm, admin), func(old []byte, found bool) ([]byte, time.Duration, error) {
			var again []endkeys.Minted
			if !found || json.Unmarshal(old, &again) == nil {
				return nil, 0, store.ErrUnchanged // mended meanwhile (a mint of hers): kept
			}
			return nil, 0, nil
		})
	}
	done := []string{}
	for _, m := range list {
		if ends != nil && !ends(m) {
			continue // left as it is, and in her index
		}
		if !now.Before(m.Expires) {
			done = append(done, m.ID)
			continue
		}
		used, err := spent(ctx, st, realm, m)
		if err != nil {
			return out, err
		}
		if used {
			out.Used = append(out.Used, m.User)
			done = append(done, m.ID)
			continue
		}
		withdrawn, err := withdraw(ctx, st, realm, m)
		if err != nil {
			return out, err
		}
		if withdrawn {
			out.Ended++
		}
		done = append(done, m.ID)
	}
	slices.Sort(out.Used)
	out.Used = slices.Compact(out.Used)
	return out, st.Update(ctx, endkeys.MintedInvites(realm, admin), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var left []endkeys.Minted
		if !found || json.Unmarshal(old, &left) != nil {
			return nil, 0, store.ErrUnchanged
		}
		left = slices.DeleteFunc(left, func(m endkeys.Minted) bool { return slices.Contains(done, m.ID) })
		if len(left) == 0 {
			return nil, 0, nil // none left (one indexed meanwhile is kept: not in done)
		}
		raw, err := json.Marshal(left)
		return raw, endkeys.MintedLife(left, now), err
	})
}

// spent says whether m enrolled its user (endkeys.InviteSpent, written
// by the enrollment once, kept as long as m can last). An entry without
// its mint time (none is written so since fix35) is not known to be.
func spent(ctx context.Context, st store.Store, realm string, m endkeys.Minted) (bool, error) {
	if m.Made.IsZero() {
		return false, nil
	}
	_, err := st.Get(ctx, endkeys.InviteSpent(realm, m.User, m.Made.UnixNano()))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// withdraw writes m's user's newest invite as Withdrawn where it names m,
// or names none (no record, or a recovery code's mark alone: m's mint
// wrote its invite and not that record, so it stands: invites38), keeping
// the rest of the record (a recovery code's mark), and reports whether it
// ended m: named, or its invite's record there (one never written is not
// counted).
func withdraw(ctx context.Context, st store.Store, realm string, m endkeys.Minted) (bool, error) {
	named, wrote := false, false
	err := st.Update(ctx, endkeys.LatestInvite(realm, m.User), func(old []byte, found bool) ([]byte, time.Duration, error) {
		named, wrote = false, false
		latest := map[string]any{}
		if found && json.Unmarshal(old, &latest) != nil {
			return nil, 0, store.ErrUnchanged
		}
		switch id, _ := latest["id"].(string); id {
		case m.ID:
			named = true
		case "": // none named: m stands
		default:
			return nil, 0, store.ErrUnchanged
		}
		latest["id"] = endkeys.Withdrawn
		raw, err := json.Marshal(latest)
		wrote = err == nil
		return raw, endkeys.InviteLife, err
	})
	if err != nil || !wrote || named {
		return wrote && err == nil, err
	}
	_, err = st.Get(ctx, endkeys.Invite(realm, m.ID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// MoveMinted makes the entries of admin's index minted in session from
// name session to instead (signin.Ends.EndReplaced: the same user's new
// session in the same browser), keeping when from was signed, its trust and its device:
// a revocation or an end that reached from's invites reaches them still.
// The trust and the device of to (its entry in her list of sessions)
// join them (MintedFrom.Trusts, Devices; attack39 F2): "Stop trusting"
// the trust a step-up with "remember" made, or the removal of the phone
// whose confirmation was the sign-in, ends to, and the invites moved into
// it with it. The entry's expiry becomes to's (MintedFrom.Expires: the
// signed-out listing reads it). A to not listed (its sign-in's note
// failed) adds none, and leaves the expiry not known (the gate's lifetime
// past from's signing stands in, as before it). Where from minted none,
// one read.
func MoveMinted(ctx context.Context, st store.Store, realm, admin, from, to string, now time.Time) error {
	raw, err := st.Get(ctx, endkeys.MintedInvites(realm, admin))
	var list []endkeys.Minted
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	case json.Unmarshal(raw, &list) != nil || !slices.ContainsFunc(list, func(m endkeys.Minted) bool { return m.From != nil && m.From.SID == from }):
		return nil // none to move, or unreadable: EndMintedOf's to mend
	}
	sessions, err := Sessions(ctx, st, realm, admin, now)
	if err != nil {
		return err
	}
	var trust, device string
	var expires time.Time
	for _, s := range sessions {
		if s.SID == to {
			trust, expires = s.Where.Trust, s.Expires.UTC()
			if s.Where.Device != nil {
				device = *s.Where.Device
			}
		}
	}
	return st.Update(store.Lasting(ctx), endkeys.MintedInvites(realm, admin), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var list []endkeys.Minted
		if !found || json.Unmarshal(old, &list) != nil {
			return nil, 0, store.ErrUnchanged // none, or unreadable: EndMintedOf's to mend
		}
		moved := false
		for i, m := range list {
			if m.From != nil && m.From.SID == from {
				f := *m.From
				f.SID, f.Expires = to, expires
				if !f.HasTrust(trust) && trust != "" {
					f.Trusts = append(slices.Clip(f.Trusts), trust)
				}
				if !f.HasDevice(device) && device != "" {
					f.Devices = append(slices.Clip(f.Devices), device)
				}
				list[i].From, moved = &f, true
			}
		}
		if !moved {
			return nil, 0, store.ErrUnchanged
		}
		raw, err := json.Marshal(list)
		return raw, endkeys.MintedLife(list, now), err
	})
}
