package signin

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/clock"
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
// config running here does not give cannot be made again: what it earned
// is ended first, as the settle would have (rekeyUser), then it is
// dropped from the record. A store that fails here leaves the old key's
// records (logged), as before. The apps' secrets are sealed again under
// the new secret's key (ResealApps) in the same pass.
//
// With RekeyTurn (a gate of an app), the records are re-keyed in the
// background, in the gate's turn: under the realm's settle lock, never
// by a gate whose config another replaced (its numbers are not the
// config's: it would end what the new config's numbers earned); a
// failure is tried again (rekeyOnce).
func (s *Service) Rekey(realm string, code []byte) {
	was, at := s.Devices.Rekey(code), s.Devices.Now() // a retry ends only what was issued before the adoption
	if s.RekeyTurn == nil {
		s.rekeyOnce(realm, was, at)
		return
	}
	oldKey := was(keyCheck)
	s.rekeying.Store(oldKey, struct{}{}) // a settle meanwhile waits for it (settleUser)
	s.later(func() {
		defer s.rekeying.Delete(oldKey)
		for wait := range rekeyRetry.Doubling() {
			if !s.rekeyOnce(realm, was, at) {
				return
			}
			for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(min(time.Until(end), time.Second)) {
				if s.RekeyOn != nil && !s.RekeyOn() {
					return // its config was replaced, or stopped
				}
			}
		}
	})
}

// rekeyOnce re-keys realm's records (rekeyNumbers) in the gate's turn
// (RekeyTurn), and reports whether it failed, to be tried again: a
// failed re-keying is retried after 1 s, then twice as long each time up
// to a minute, until it succeeds or the gate's config is replaced or
// stops (RekeyOn), as the settle is.
func (s *Service) rekeyOnce(realm string, was func(string) string, at time.Time) (again bool) {
	ctx, cancel := context.WithTimeout(context.Background(), rekeyTime)
	defer cancel()
	if s.RekeyTurn != nil {
		done, ok := s.RekeyTurn(ctx)
		if !ok {
			return s.RekeyOn != nil && s.RekeyOn() // no turn in time: again, while the config runs
		}
		defer done()
	}
	err := s.rekeyNumbers(ctx, realm, was, at)
	if err != nil {
		s.Logger.Error("keeping the provisioned numbers' hashes under the store's new secret", zap.Error(err))
		return s.RekeyTurn != nil
	}
	// The apps' secrets, sealed under a key of the old secret, sealed
	// again under the new one while this process still holds the old
	// (enrollment.Devices.ResealApps): a gate stopped or reloaded before
	// this is done leaves the rest dead (ErrAppUnreadable).
	n, err := s.Devices.ResealApps(ctx, realm)
	if n > 0 {
		s.Logger.Info("authenticator apps' secrets sealed again under the store's new secret", zap.String("realm", realm), zap.Int("apps", n))
	}
	if err != nil {
		s.Logger.Error("sealing the authenticator apps' secrets again under the store's new secret", zap.Error(err))
		return s.RekeyTurn != nil
	}
	s.rekeying.Delete(was(keyCheck)) // done: before the turn lets a settle in
	return false
}

// rekeyRetry is the first wait before a failed re-keying is tried again
// (clock.Shorten in tests).
var rekeyRetry = clock.NewWait("rekey-retry", time.Second)

// rekeyTime bounds each try of Rekey's writes, its wait for the gate's
// turn with them (without RekeyTurn, the gate's adoption of the secret
// waits for them).
const rekeyTime = 30 * time.Second

// rekeyNumbers makes the records of realm's provisioned users made under
// the key was hashes with again under the key NumberID hashes with now.
func (s *Service) rekeyNumbers(ctx context.Context, realm string, was func(string) string, at time.Time) error {
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
	// A user whose line a reload deleted has a record and no numbers:
	// every number it holds is lost, ended as the settle would (else the
	// settle, finding a record of the old key, would end nothing of it).
	given = maps.Clone(given)
	if err := s.Devices.Store.Scan(ctx, provisionedKey(realm, ""), func(key string, _ []byte) error {
		if parts, ok := store.SplitKey(key); ok && len(parts) == 3 {
			if _, ok := given[parts[2]]; !ok {
				given[parts[2]] = nil
			}
		}
		return nil
	}); err != nil {
		return err
	}
	var first error
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if err := s.rekeyUser(ctx, realm, name, oldKey, newKey, was, given[name], at); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// rekeyUser makes user's record (of oldKey) and her devices' AddedBy
// again under newKey, for numbers (what the config gives her). A hash
// of a number it no longer gives (a reload took it away, its settle not
// run yet) cannot be made again: what it earned is ended first, as the
// settle would (endLost: the devices its sessions added, whose AddedBy
// is that hash's mark), then it is dropped; before, the settle under the
// new key found nothing lost, and they stayed. Where the record changed
// between its read and the end, it is decided again (settleRounds).
func (s *Service) rekeyUser(ctx context.Context, realm, name, oldKey, newKey string, was func(string) string, numbers []string, at time.Time) error {
	var olds []string // the numbers' hashes under the old key
	ids, marks := map[string]string{}, map[string]string{}
	for _, e164 := range numbers {
		old := was(e164)
		olds = append(olds, old)
		ids[old] = s.Devices.NumberID(e164)
		marks[session.NumberMark(old)] = s.numberMark(e164)
	}
	e164 := s.Users[name].Phone // audited with the change, as the settle does
	if e164 == "" && len(numbers) > 0 {
		e164 = numbers[0]
	}
	ended := "" // the record whose lost numbers' ends were written
	for range settleRounds {
		lost := ""
		err := s.Devices.Store.Update(store.Lasting(ctx), provisionedKey(realm, name), func(cur []byte, _ bool) ([]byte, time.Duration, error) {
			had := strings.Fields(string(cur))
			if len(had) == 0 || had[0] != oldKey {
				return nil, 0, store.ErrUnchanged // none, or made under another key
			}
			if len(lostNumbers(oldKey, string(cur), olds)) > 0 && string(cur) != ended {
				lost = string(cur)
				return nil, 0, store.ErrUnchanged // its ends first
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
		if err != nil {
			return err
		}
		if lost == "" {
			return s.Devices.Remark(ctx, realm, name, marks)
		}
		if err := s.endLost(ctx, realm, name, oldKey, lost, olds, e164, s, at); err != nil {
			return err
		}
		ended = lost
	}
	return errSettleRaced
}
