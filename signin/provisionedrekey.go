package signin

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// Rekey has code hashes follow the store's new secret (code: the key
// session.Derived makes of it once the gate adopted the store's), and
// with them the records that hold a config number's keyed hash (NumberID)
// in realm: each provisioned user's numbers (provisionedKey) and her
// devices' AddedBy are made again under the new key, for the numbers the
// config gives her (Given's). Before, a record of the old key matched
// nothing: the console said a device came from "a number no longer
// given" for a number still given, and once the number moved the settle,
// which cannot read a record of another key, only replaced it, and
// removed nothing of what the old number added. A hash of a number the
// config running here does not give cannot be made again: it is dropped
// from the record, and a device's AddedBy keeps it. A store that fails
// here leaves the old key's records (logged), as before.
func (s *Service) Rekey(realm string, code []byte) {
	was := s.Devices.Rekey(code)
	ctx, cancel := context.WithTimeout(context.Background(), rekeyTime)
	defer cancel()
	if err := s.rekeyNumbers(ctx, realm, was); err != nil {
		s.Logger.Error("keeping the provisioned numbers' hashes under the store's new secret", zap.Error(err))
	}
}

// rekeyTime bounds Rekey's writes (the gate's adoption of the secret
// waits for them).
const rekeyTime = 30 * time.Second

// rekeyNumbers makes the records of realm's provisioned users made under
// the key was hashes with again under the key NumberID hashes with now.
func (s *Service) rekeyNumbers(ctx context.Context, realm string, was func(string) string) error {
	oldKey, newKey := was(keyCheck), s.Devices.NumberID(keyCheck)
	if oldKey == newKey {
		return nil
	}
	given := map[string][]string{}
	if g := s.given.Load(); g != nil {
		given = *g
	} else {
		for name, u := range s.Users {
			given[name] = []string{u.Phone}
		}
	}
	var first error
	for _, name := range slices.Sorted(maps.Keys(given)) {
		ids, marks := map[string]string{}, map[string]string{}
		for _, e164 := range given[name] {
			ids[was(e164)] = s.Devices.NumberID(e164)
			marks[session.NumberMark(was(e164))] = s.numberMark(e164)
		}
		err := s.Devices.Store.Update(store.Lasting(ctx), provisionedKey(realm, name), func(cur []byte, _ bool) ([]byte, time.Duration, error) {
			had := strings.Fields(string(cur))
			if len(had) == 0 || had[0] != oldKey {
				return nil, 0, store.ErrUnchanged // none, or made under another key
			}
			var now []string
			for _, id := range had[1:] {
				if id, ok := ids[id]; ok {
					now = append(now, id)
				}
			}
			slices.Sort(now) // as settleUser writes them
			return []byte(strings.Join(append([]string{newKey}, now...), " ")), 0, nil
		})
		if err == nil {
			err = s.Devices.Remark(ctx, realm, name, marks)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}
