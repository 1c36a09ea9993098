package enrollment

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// An app's secret is sealed (Core.Secrets) under a key derived from the
// signing secret. When the gate adopts a new secret (session.Derived.Rekey)
// the sealer keeps the key it replaced in memory (never in the store):
// apps still sealed under it open with it (openApp), and ResealApps seals
// them again under the new key, so that the old secret, leaked, no longer
// opens what the store holds. An app nothing here can open (the gate
// restarted or reloaded before the re-sealing was done, a signing_key
// changed between runs, two new secrets at once) is a dead device:
// ErrAppUnreadable, logged, never a fault.

// ErrAppUnreadable says the user's apps cannot be checked here: their
// secrets were sealed under a signing secret this gate no longer has.
var ErrAppUnreadable = words.New("app.unreadable")

// previousOpener is a Sealer that still opens what the key it replaced
// sealed (session.Sealer.OpenPrevious).
type previousOpener interface {
	OpenPrevious(sealed, context string) (string, error)
}

// openApp is the secret of user's app d, opened under the key in use or
// the one it replaced (was: so), or an error where neither opens it.
func (s *Devices) openApp(realm, user string, d *Device) (secret string, was bool, err error) {
	secret, err = s.Secrets.Open(d.Secret, appKey(realm, user, d.ID))
	if err == nil {
		return secret, false, nil
	}
	if p, ok := s.Secrets.(previousOpener); ok {
		if secret, perr := p.OpenPrevious(d.Secret, appKey(realm, user, d.ID)); perr == nil {
			return secret, true, nil
		}
	}
	return "", false, err
}

// deadApp logs an app whose secret cannot be opened here (no secret, no
// code in the line).
func (s *Devices) deadApp(realm, user, id string, err error) {
	if s.Logger == nil {
		return
	}
	s.Logger.Warn("an authenticator app's secret does not open under the gate's signing secret: the app is dead until its user adds it again",
		zap.String("realm", realm), zap.String("user", user), zap.String("device", id), zap.Error(err))
}

// ResealApps seals again under the key in use every app secret of realm
// still sealed under the key the last Rekey replaced, one user's device
// list at a time, each in one atomic step (edit: a device added or
// removed meanwhile is kept or stays gone). It answers how many it
// sealed again; an app neither key opens is left as it is (dead).
func (s *Devices) ResealApps(ctx context.Context, realm string) (int, error) {
	if s.Secrets == nil {
		return 0, nil
	}
	if _, ok := s.Secrets.(previousOpener); !ok {
		return 0, nil
	}
	var users []string
	if err := s.Store.Scan(ctx, deviceKey(realm, ""), func(key string, raw []byte) error {
		parts, ok := store.SplitKey(key)
		if !ok || len(parts) != 3 {
			return nil
		}
		list, err := decodeDevices(parts[2], raw)
		if err != nil {
			return nil // not this pass's to mend
		}
		for i := range list {
			if list[i].Kind == factor.App {
				if _, was, err := s.openApp(realm, parts[2], &list[i]); err == nil && was {
					users = append(users, parts[2])
					break
				}
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	sealed := 0
	for _, user := range users {
		n := 0
		err := s.edit(store.Lasting(ctx), realm, user, func(list []Device) ([]Device, error) {
			n = 0 // again at each try
			for i := range list {
				if list[i].Kind != factor.App {
					continue
				}
				secret, was, err := s.openApp(realm, user, &list[i])
				if err != nil || !was {
					continue
				}
				list[i].Secret = s.Secrets.Seal(secret, appKey(realm, user, list[i].ID))
				n++
			}
			if n == 0 {
				return nil, store.ErrUnchanged
			}
			return list, nil
		})
		if err != nil {
			return sealed, fmt.Errorf("sealing %q's apps again: %w", user, err)
		}
		sealed += n
	}
	return sealed, nil
}
