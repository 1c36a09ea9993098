package enrollment

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Verify-only mode (authentik's option, done right): a device keeps an
// HMAC-SHA256 of its number under a server key, never the number. A plain
// hash of a phone number is reversed in minutes — there are only about
// 10^10 numbers per country — so the key must come from the config or the
// environment, never from the store it protects.

// Matches reports whether the device's number is e164, in constant time.
func (s *Devices) Matches(d *Device, e164 string) bool {
	if d.PhoneHMAC != "" {
		return subtle.ConstantTimeCompare([]byte(d.PhoneHMAC), []byte(s.PhoneHMAC(e164))) == 1
	}
	return subtle.ConstantTimeCompare([]byte(d.Phone), []byte(e164)) == 1
}

func ownerKey(realm, hash string) string { return store.Key("owner", realm, hash) }

// ownedByOther reports whether e164 is bound to a user other than user.
// Only verify-only mode binds a number to one user.
func (s *Devices) ownedByOther(ctx context.Context, realm, user, e164 string) (bool, error) {
	if !s.VerifyOnly() {
		return false, nil
	}
	owner, err := s.Store.Get(ctx, ownerKey(realm, s.PhoneHMAC(e164)))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && string(owner) != user, err
}

// claim binds e164 to user; false if another user got there first.
func (s *Devices) claim(ctx context.Context, realm, user, e164 string) (bool, error) {
	if !s.VerifyOnly() {
		return true, nil
	}
	return s.bind(ctx, realm, user, s.PhoneHMAC(e164))
}

// bind binds a number hash to user; false if another user holds it. A
// binding it wrote answers at once; only a number already bound is read
// back, to tell the user's own binding from another user's.
func (s *Devices) bind(ctx context.Context, realm, user, hash string) (bool, error) {
	key := ownerKey(realm, hash)
	wrote, err := s.Store.PutIfAbsent(ctx, key, []byte(user), 0)
	if err != nil || wrote {
		return wrote, err
	}
	owner, err := s.Store.Get(ctx, key)
	return err == nil && string(owner) == user, err
}

// releaseClaim unbinds a number hash from user, if user holds it: in one
// step, so that another user's claim made meanwhile is never released.
// The binding is a record beside the user's devices, so a change of them
// that found it made (the number added back, another enrollment of it
// that won) may have written the phone before this released it: where
// the user's devices hold the number once it is released, it is bound
// again (the change binds it again once its phone is written, for a
// release that read the devices before that:
// TestANumbersOwnerFollowsItsPhone). Bound again is best effort: another
// user's claim that comes between the release and the binding again keeps
// the number (their code reached it), and a store fault leaves it unbound
// until the user's next change of it.
func (s *Devices) releaseClaim(ctx context.Context, realm, user, hash string) {
	_ = s.Store.Update(ctx, ownerKey(realm, hash), func(owner []byte, found bool) ([]byte, time.Duration, error) {
		if !found || string(owner) != user {
			return nil, 0, store.ErrUnchanged
		}
		return nil, 0, nil
	})
	list, err := s.List(ctx, realm, user)
	if err == nil && slices.ContainsFunc(list, func(d Device) bool { return d.PhoneHMAC == hash }) {
		_, _ = s.bind(ctx, realm, user, hash)
	}
}

// Owner returns the user a number is bound to in verify-only mode, or "".
func (s *Devices) Owner(ctx context.Context, realm, e164 string) (string, error) {
	if !s.VerifyOnly() {
		return "", nil
	}
	// Hash and look up even an empty number: the same work either way.
	owner, err := s.Store.Get(ctx, ownerKey(realm, s.PhoneHMAC(e164)))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return string(owner), err
}

// HeldError refuses the admin's phone for a user where verify-only mode
// binds the number to another user, Owner ("" if it was released
// meanwhile): the login form finds a user by the number, so a number is
// one user's. The admin may see who holds it; a user is never told.
type HeldError struct{ Owner string }

func (e *HeldError) Error() string {
	if e.Owner == "" {
		return "the number is another user's (verify-only mode binds a number to one user): try again"
	}
	return fmt.Sprintf("the number is %s's (verify-only mode binds a number to one user, whom the login form finds by it): remove it from %s first", e.Owner, e.Owner)
}

// AddBound is the admin's Add: bound as a user's own enrollment binds it
// (AddClaimed), or refused with a HeldError where another user holds the
// number.
func (s *Devices) AddBound(ctx context.Context, realm, user, e164, name string) (string, error) {
	id, _, err := s.AddClaimed(ctx, realm, user, e164, name, "")
	if errors.Is(err, ErrNoChallenge) {
		owner, oerr := s.Owner(ctx, realm, e164)
		if oerr != nil {
			return "", oerr
		}
		return "", &HeldError{Owner: owner}
	}
	return id, err
}
