package signin

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// A provisioned user's phone is the config's (a `user` line), with no
// device record: the sessions and trusts its codes earn name no device
// (Result.Device is ""), so no device's end (session.EndDevice) reaches
// them. The admin takes a lost one away by giving the user their new
// number in the config and reloading it: SettleProvisioned then ends
// every session and trust of that user, as the admin's revoke does. Each
// provisioned user's number is kept in the store for it (provisionedKey:
// a keyed hash, never the number, and which key made it), the config's at
// its last start; one made with another key (the store's secret changed)
// is only replaced.

// keyCheck is hashed beside each number (NumberID): it tells which key
// the record's hash was made with.
const keyCheck = "provisioned numbers' key"

// provisionedKey is the key of user's provisioned number in realm.
func provisionedKey(realm, user string) string {
	return store.Key("provisioned-number", realm, user)
}

// SettleProvisioned ends every session and trust of each provisioned
// user whose number the config that starts now gives differs from the
// one the store kept (the config before it gave), then keeps the new.
// It runs when a config starts (admin.App.Start: never at `caddy
// validate`, which starts nothing). A failure is logged, the user's
// record left as it was: the next start ends them then. A first start
// (no record: a new user, an upgrade) ends nothing.
func (s *Service) SettleProvisioned(ctx context.Context, realm string) {
	if len(s.Users) == 0 {
		return
	}
	st := s.Devices.Store
	names := slices.Sorted(maps.Keys(s.Users))
	var b store.Batch
	ops := make([]*store.Op, len(names))
	for i, name := range names {
		ops[i] = b.Get(provisionedKey(realm, name))
	}
	if err := store.Do(ctx, st, &b); err != nil {
		s.Logger.Error("reading the provisioned users' numbers", zap.Error(err))
		return
	}
	// The hash is keyed by the store's secret: one kept under another (an
	// import of another store's keys, a new signing_key) cannot be
	// compared, and is only replaced.
	keyed := s.Devices.NumberID(keyCheck)
	for i, name := range names {
		id, op := keyed+" "+s.Devices.NumberID(s.Users[name].Phone), ops[i]
		was, _, _ := strings.Cut(string(op.Value), " ")
		switch {
		case op.Err == nil && string(op.Value) == id:
			continue
		case op.Err == nil && was == keyed: // another number before: the old phone's sessions and trusts end
			err := session.UntrustAll(ctx, st, realm, name)
			if err == nil {
				err = session.RevokeUser(ctx, st, realm, name, s.Devices.Now())
			}
			if err == nil {
				err = s.forgetConfigPhoneCodes(ctx, realm, name, op.Value) // the set a session the old phone earned made
			}
			if err != nil {
				s.Logger.Error("ending the sessions of a provisioned user whose number changed", zap.String("user", textsafe.Escape(name)), zap.Error(err))
				continue
			}
			s.audit("provisioned_number_changed", name, s.Users[name].Phone)
		case op.Err != nil && !errors.Is(op.Err, store.ErrNotFound):
			s.Logger.Error("reading a provisioned user's number", zap.String("user", textsafe.Escape(name)), zap.Error(op.Err))
			continue
		}
		if err := st.Put(store.Lasting(ctx), provisionedKey(realm, name), []byte(id), 0); err != nil {
			s.Logger.Error("keeping a provisioned user's number", zap.String("user", textsafe.Escape(name)), zap.Error(err))
		}
	}
}
