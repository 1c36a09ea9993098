package enrollment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// Invites: single-use links the admin mints for a user to enroll with.

// ErrInvite answers an invite link that expired or was used.
var ErrInvite = words.New("invite.dead")

// ErrInviteReplaced answers the link of an invite the admin replaced by
// minting a newer one for the user (ReadReplaced).
var ErrInviteReplaced = words.New("invite.replaced")

// ErrInviteEnded answers the link of an invite a reset (or a sign-out
// everywhere) of its user ended since it was minted: not "expired or was
// already used", which is untrue (walk33's 52).
var ErrInviteEnded = words.New("invite.ended")

// ErrInviteWithdrawn answers the link of an invite an admin minted whose
// account was since reset, revoked or signed out everywhere
// (session.EndMinted, attack34b): ended by an administrator.
var ErrInviteWithdrawn = words.New("invite.withdrawn")

// ErrInviteConfigPhone refuses to mint an invite for a user the config
// gives a phone at a gate of the realm (signin.RefuseInvite): she signs in
// with it and enrolls nothing, so the invite would be used up for
// nothing (invite36). It names no number.
var ErrInviteConfigPhone = words.New("invite.config_phone")

func inviteKey(realm, token string) string { return inviteKeyOf(realm, inviteID(token)) }

// inviteKeyOf is the key of the invite whose ID (inviteID) is id.
func inviteKeyOf(realm, id string) string { return endkeys.Invite(realm, id) }

// inviteID is what names an invite in the store: its token's hash.
func inviteID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// MaxInviteTTL is the longest an invite works: a link lying in a mailbox
// for months is a way in for whoever finds it.
const MaxInviteTTL = endkeys.InviteLife

// NewInvite mints a single-use enrollment token for user, valid for ttl
// (MaxInviteTTL at most). Only its hash is stored. It replaces every
// earlier invite of the user: the invite is written first, then the
// record naming it the newest (markLatest). A failure of the first write
// leaves her earlier links working and hands out none; of the second,
// ErrInviteUnrecorded: no link is handed out, and whether the earlier
// ones still work is not known. A mint whose record another replaced
// before it was read back is ErrInviteRaced (stillLatest).
func (s *Admin) NewInvite(ctx context.Context, realm, user string, ttl time.Duration) (string, error) {
	return s.NewInviteBy(ctx, realm, user, "", ttl)
}

// NewInviteBy is NewInviteFrom by the admin by from a session not known.
func (s *Admin) NewInviteBy(ctx context.Context, realm, user, by string, ttl time.Duration) (string, error) {
	return s.NewInviteFrom(ctx, realm, user, by, nil, ttl)
}

// NewInviteFrom is NewInvite by the admin by (the console's; "": the admin
// API's or the CLI's, nobody's), from her session from (nil: not known):
// the invite is first indexed as hers (indexMinted), so that her
// revocation ends it (session.EndMinted), and the end of from, or of the
// device it signed in with, too (attack36 F3). A failure to index it
// makes no invite, and leaves her earlier links as they were. Its entry
// is marked done once its record as its user's newest is written or never
// will be (mintedDone; one not known to be stays pending, attack36 F1).
func (s *Admin) NewInviteFrom(ctx context.Context, realm, user, by string, from *endkeys.MintedFrom, ttl time.Duration) (string, error) {
	if ttl <= 0 || ttl > MaxInviteTTL {
		return "", fmt.Errorf("an invite works for %v at most, not %v", MaxInviteTTL, ttl)
	}
	token := RandomID() + RandomID()
	now := s.Now()
	ctx = store.Lasting(ctx)
	raw, _ := json.Marshal(Invite{User: user, Expires: now.Add(ttl), Made: now, By: by})
	entry := endkeys.Minted{User: user, ID: inviteID(token), Expires: now.Add(ttl), Made: now, Pending: true, From: from}
	if by != "" {
		// A preparation (store.Preparing): the invite's write decides, so a
		// revocation landing after the entry writes no invite (attack37).
		if err := s.indexMinted(store.Preparing(ctx), realm, by, entry); err != nil {
			return "", err
		}
	}
	err := s.writeInvite(ctx, realm, user, token, raw, ttl)
	var failed unwritten
	switch {
	case by == "" || errors.Is(err, ErrInviteUnrecorded):
	case errors.As(err, &failed):
		// Its invite's write failed (the guard refused it, the store
		// failed it): no link is handed out, nor ever can be (its token
		// is nobody's), so its entry goes, not put back (invites38: it
		// counted until it expired). Not a change (no guard).
		s.mintedGone(store.WithGuard(ctx, nil), realm, by, entry.ID)
	default:
		// Her earlier ones for user are dead now: done, not a change.
		s.mintedDone(store.WithGuard(ctx, nil), realm, by, entry)
	}
	if err != nil {
		return "", err
	}
	return token, nil
}

// writeInvite writes the invite token names (raw), then the record naming
// it its user's newest (markLatest), and reads that back (stillLatest).
func (s *Admin) writeInvite(ctx context.Context, realm, user, token string, raw []byte, ttl time.Duration) error {
	if err := s.Store.Put(ctx, inviteKey(realm, token), raw, ttl); err != nil {
		return unwritten{err}
	}
	if err := s.markLatest(ctx, realm, user, inviteID(token)); err != nil {
		return fmt.Errorf("%w: %w", ErrInviteUnrecorded, err)
	}
	return s.stillLatest(ctx, realm, user, token)
}

// unwritten is the failure of a mint's invite's write (writeInvite): no
// link is handed out.
type unwritten struct{ err error }

func (u unwritten) Error() string { return u.err.Error() }
func (u unwritten) Unwrap() error { return u.err }

// Invite is the record behind an invite link.
type Invite struct {
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
	// Made is when the admin minted it: a reset of the user since then
	// ends it (signin). An earlier release's invite has none.
	Made time.Time `json:"made,omitzero"`
	// By is the admin who minted it at the console (NewInviteBy): her
	// revocation ends it. None: the admin API's, the CLI's, or an earlier
	// release's (never ended so).
	By string `json:"by,omitempty"`
	// ID is its token's hash (not in the record: its key).
	ID string `json:"-"`
}

// liveInvite is the invite token names, whose record is raw, if it is
// live.
func (s *Admin) liveInvite(raw []byte, token string) (Invite, error) {
	var v Invite
	if json.Unmarshal(raw, &v) != nil || v.User == "" || !s.Now().Before(v.Expires) {
		return Invite{}, ErrInvite
	}
	v.ID = inviteID(token)
	return v, nil
}

// PeekInvite returns a live invite (whom it is for, when it was made),
// without consuming it.
func (s *Admin) PeekInvite(ctx context.Context, realm, token string) (Invite, error) {
	if token == "" || len(token) > 128 {
		return Invite{}, ErrInvite
	}
	raw, err := s.Store.Get(ctx, inviteKey(realm, token))
	if errors.Is(err, store.ErrNotFound) {
		return Invite{}, ErrInvite
	}
	if err != nil {
		return Invite{}, err
	}
	return s.liveInvite(raw, token)
}

// TakeInvite consumes an invite and returns it.
func (s *Admin) TakeInvite(ctx context.Context, realm, token string) (Invite, error) {
	if token == "" || len(token) > 128 {
		return Invite{}, ErrInvite
	}
	raw, err := s.Store.Take(store.Lasting(ctx), inviteKey(realm, token)) // an invite works once
	if errors.Is(err, store.ErrNotFound) {
		return Invite{}, ErrInvite
	}
	if err != nil {
		return Invite{}, err
	}
	return s.liveInvite(raw, token)
}
