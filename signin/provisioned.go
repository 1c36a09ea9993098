package signin

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// A provisioned user's phone is the config's (a `user` line), with no
// device record: the sessions and trusts its codes earn name no device
// (Result.Device is ""), so no device's end (session.EndDevice) reaches
// them. The admin takes a lost one away by giving the user another number
// in the config, or by deleting the user's line, and loading it:
// SettleProvisioned then ends every session and trust of that user, as
// the admin's revoke does. The store keeps, for each provisioned user of
// a realm, the numbers the config at its last start gave them at any gate
// of the realm (provisionedKey: keyed hashes, never a number, after the
// key's own hash, which tells which key made them: "<key> <number>…"; the
// previous release's record, one number, is the same with one). One made
// with another key (the store's secret changed) is only replaced.

// keyCheck is hashed beside each number (NumberID): it tells which key
// the record's hashes were made with.
const keyCheck = "provisioned numbers' key"

// provisionedKey is the key of user's provisioned numbers in realm.
func provisionedKey(realm, user string) string {
	return store.Key("provisioned-number", realm, user)
}

// SettleProvisioned settles the provisioned users of realm as the config
// that starts now gives them at gates, every gate of the realm on one
// store (their union: a user two gates give two numbers has both): where
// the store kept a number a user no longer has at any of them (another
// number, or no `user` line), every session and trust of that user ends;
// then the store keeps what they are given now (a deleted user's record
// goes). A number added ends nothing, nor does the same config again. It
// runs when a config starts (admin.App.Start: never at `caddy validate`,
// which starts nothing). A user whose end or record failed keeps the
// record as it was (so the next try ends them then), and the error is
// returned, the users after it left to that try, which ends what was
// issued before at (when the config started, zero for now: a retry does
// not sign her out of what she signed in to since); a first start (no record: a new user, an upgrade) ends
// nothing.
func SettleProvisioned(ctx context.Context, realm string, at time.Time, gates []*Service) error {
	if len(gates) == 0 {
		return nil
	}
	s := gates[0]
	st, keyed := s.Devices.Store, s.Devices.NumberID(keyCheck)
	given, numbers := map[string][]string{}, map[string]string{}
	tellers := map[string]*Service{} // a gate that gives the user a number: it tells that phone too
	for _, g := range gates {
		for name, u := range g.Users {
			given[name] = append(given[name], s.Devices.NumberID(u.Phone))
			numbers[name], tellers[name] = u.Phone, g
		}
	}
	for name, ids := range given {
		slices.Sort(ids)
		given[name] = slices.Compact(ids)
	}
	kept := map[string]string{}
	prefix := provisionedKey(realm, "")
	err := st.Scan(ctx, prefix, func(key string, value []byte) error {
		if parts, ok := store.SplitKey(key); ok && len(parts) == 3 {
			kept[parts[2]] = string(value)
		}
		return nil
	})
	if err != nil {
		s.Logger.Error("reading the provisioned users' numbers", zap.Error(err))
		return err
	}
	// The first error stops it: the store is failing, and each user's
	// write would wait for it in turn, holding up Caddy's start (the retry
	// settles every user again).
	for _, name := range slices.Sorted(maps.Keys(names(given, kept))) {
		if err := s.settleUser(ctx, realm, name, keyed, kept[name], given[name], numbers[name], cmp.Or(tellers[name], s), at); err != nil {
			return err
		}
	}
	return nil
}

// names are the names of both maps.
func names(a map[string][]string, b map[string]string) map[string]bool {
	all := map[string]bool{}
	for name := range a {
		all[name] = true
	}
	for name := range b {
		all[name] = true
	}
	return all
}

// settleUser ends user's sessions and trusts where was (the kept record,
// "" for none) holds a number under keyed that ids (what the config gives
// now, sorted; none for a deleted line) lacks, with the recovery codes a
// config phone's session made (told to her phones by teller, a gate that
// gives her a number where one does), then keeps ids.
func (s *Service) settleUser(ctx context.Context, realm, name, keyed, was string, ids []string, e164 string, teller *Service, at time.Time) error {
	now := strings.Join(append([]string{keyed}, ids...), " ")
	if was == now {
		return nil
	}
	had := strings.Fields(was)
	lost := len(had) > 0 && had[0] == keyed && slices.ContainsFunc(had[1:], func(id string) bool { return !slices.Contains(ids, id) })
	if lost { // a number she had and is no longer given
		st := s.Devices.Store
		withdrawn := false
		err := session.EndUser(ctx, st, realm, name, cmp.Or(at, s.Devices.Now()))
		if err == nil {
			withdrawn, err = s.forgetConfigPhoneCodes(ctx, realm, name) // the set a config phone's session made
		}
		if err != nil {
			s.Logger.Error("ending the sessions of a provisioned user whose number the config took away", zap.String("user", textsafe.Escape(name)), zap.Error(err))
			return err
		}
		if len(ids) == 0 {
			s.audit("provisioned_user_removed", name, "")
		} else {
			s.audit("provisioned_number_changed", name, e164)
		}
		if withdrawn { // her printed codes stop working: she is told, as at a removal
			s.audit(CodesWithdrawn, name, "")
			teller.Notify(ctx, realm, name, "", words.Say("notice.recovery_withdrawn"))
		}
	}
	var err error
	if len(ids) == 0 {
		err = s.Devices.Store.Delete(store.Lasting(ctx), provisionedKey(realm, name))
	} else {
		err = s.Devices.Store.Put(store.Lasting(ctx), provisionedKey(realm, name), []byte(now), 0)
	}
	if err != nil {
		s.Logger.Error("keeping a provisioned user's numbers", zap.String("user", textsafe.Escape(name)), zap.Error(err))
	}
	return err
}
