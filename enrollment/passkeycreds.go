package enrollment

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// A passkey's credential as the store keeps it: its sign counter and
// flags in the user's device list, and which user holds its ID.

// errCloned refuses an assertion whose sign counter did not move past the
// one kept: a cloned key, or a replay.
var errCloned = errors.New("enrollment: a passkey's sign counter did not move on")

// keepSignCount keeps the sign counter and flags of a verified assertion,
// and returns the passkey. The counter is checked again against the one
// kept, in the same atomic step as the write: two assertions verified at
// once against the same old counter cannot both pass (a clone check
// skipped), and a counter never goes back. The write is a Swap against
// read, the device list the assertion was verified with (no round trip
// of its own to read it again), where that list lets it; where it does
// not, or the record changed since, it is decided again on the record as
// it is (Store.Update), as it always was before.
func (s *Devices) keepSignCount(ctx context.Context, realm, user string, cred *webauthn.Credential, read *store.Op) (*Device, error) {
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	var used *Device
	sign := func(list []Device) ([]Device, error) {
		used = nil
		for i := range list {
			var c webauthn.Credential
			if list[i].Kind != factor.Passkey || json.Unmarshal(list[i].Credential, &c) != nil || !hmac.Equal(c.ID, cred.ID) {
				continue
			}
			// WebAuthn §7.2, step 21: a counter that did not grow (and is
			// not an authenticator's constant 0) is a clone's.
			kept, now := c.Authenticator.SignCount, cred.Authenticator.SignCount
			if (kept != 0 || now != 0) && now <= kept {
				return nil, errCloned
			}
			list[i].Credential, list[i].LastUsed = raw, s.Now().UTC()
			d := list[i]
			used = &d
		}
		if used == nil {
			return nil, ErrPasskey // removed meanwhile
		}
		return list, nil
	}
	if swapped, err := s.signAgainst(ctx, realm, user, read, sign); swapped || err != nil {
		return used, err
	}
	return used, s.edit(ctx, realm, user, sign)
}

// signAgainst writes sign's change of read (the device list as read
// before) in one round trip, where sign accepts that list and the record
// still holds it; swapped false, with no error, where not.
func (s *Devices) signAgainst(ctx context.Context, realm, user string, read *store.Op, sign func([]Device) ([]Device, error)) (swapped bool, err error) {
	if read == nil || read.Err != nil {
		return false, nil
	}
	list, err := decodeDevices(user, read.Value)
	if err != nil {
		return false, nil
	}
	if list, err = sign(list); err != nil {
		return false, nil
	}
	value, err := json.Marshal(list)
	if err != nil {
		return false, err
	}
	var b store.Batch
	swap := b.Swap(deviceKey(realm, user), read, value, 0)
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return false, err
	}
	return swap.OK, nil
}

func credKey(realm string, id []byte) string {
	return store.Key(passkeyCredentialKind, realm, hex.EncodeToString(id))
}

// claimCredential records that credential id is user's. A credential ID
// is registered once (WebAuthn §7.1, step 22): one another user holds, or
// this one (mine, the user's others), is refused. A record whose user no
// longer has that passkey (removed, reset) is taken over.
func (s *Devices) claimCredential(ctx context.Context, realm, user string, id []byte, mine []webauthn.Credential) error {
	for _, c := range mine {
		if hmac.Equal(c.ID, id) {
			return ErrPasskey
		}
	}
	// In one atomic step (Store.Update): of two users taking over one
	// record at once, the second sees the first's claim.
	return s.Store.Update(store.Lasting(ctx), credKey(realm, id), func(owner []byte, found bool) ([]byte, time.Duration, error) {
		if found && string(owner) != user {
			theirs, _, err := s.passkeyUserOf(ctx, realm, string(owner))
			if err != nil {
				return nil, 0, err
			}
			for _, c := range theirs.creds {
				if hmac.Equal(c.ID, id) {
					return nil, 0, ErrPasskey
				}
			}
		}
		return []byte(user), 0, nil
	})
}

// PasskeySynced reports whether a passkey may be synced between devices
// (backup eligible), rather than bound to its authenticator.
func PasskeySynced(d *Device) bool {
	var c webauthn.Credential
	return json.Unmarshal(d.Credential, &c) == nil && c.Flags.BackupEligible
}
