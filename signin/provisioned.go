package signin

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// A provisioned user's phone is the config's (a `user` line), with no
// device record: no device's end (session.EndDevice) reaches the sessions
// and trusts its codes earn. They carry its number's mark instead
// (Result.Device: session.NumberMark), and every gate refuses them where
// its running config no longer gives her that number
// (session.Manager.CheckNumbers, Gives): the admin takes a lost phone
// away by giving the user another number in the config, or by deleting
// her line, and loading it. That needs no record, and covers what the
// old number earned at a gate still on the old config meanwhile (a
// reload's overlap, a load that failed after this app started), at
// another instance, or while the store failed at the start.
// SettleProvisioned, at the config's start, then ends every session and
// trust of that user, as the admin's revoke does (those issued before
// the mark, which carry none; her known-browser cookies), and withdraws
// the recovery codes a config phone's session made. The store keeps, for
// each provisioned user of a realm, the numbers the config at its last
// start gave them at any gate of the realm (provisionedKey: keyed hashes, never a number, after the
// key's own hash, which tells which key made them: "<key> <number>…"; the
// previous release's record, one number, is the same with one). One made
// with another key (the store's secret changed) is only replaced.

// keyCheck is hashed beside each number (NumberID): it tells which key
// the record's hashes were made with.
const keyCheck = "provisioned numbers' key"

// provisionedKey is the key of user's provisioned numbers in realm.
func provisionedKey(realm, user string) string {
	return store.Key(enrollment.ProvisionedNumbers, realm, user)
}

// SettleProvisioned settles the provisioned users of realm as the config
// that starts now gives them at gates, every gate of the realm on one
// store (given, their union: Given; a user two gates give two numbers has
// both): where
// the store kept a number a user no longer has at any of them (another
// number, or no `user` line), every session and trust of that user ends;
// then the store keeps what they are given now (a deleted user's record
// goes). A number added ends nothing, nor does the same config again.
// What a config's phone earned since the number's mark is refused without
// it, at once, by every gate whose config lacks the number
// (session.Manager.CheckNumbers): this ends the rest (sessions and trusts
// of a release before the mark, known-browser cookies) and withdraws the
// recovery codes, where the record shows a number lost. It
// runs when a config starts (admin.App.Start: never at `caddy validate`,
// which starts nothing). A user whose end or record failed keeps the
// record as it was (so the next try ends them then), and the error is
// returned, the users after it left to that try, which ends what was
// issued before at (when the config started, zero for now: a retry does
// not sign her out of what she signed in to since); a first start (no record: a new user, an upgrade) ends
// nothing.
func SettleProvisioned(ctx context.Context, realm string, at time.Time, gates []*Service, given map[string][]string) error {
	if len(gates) == 0 {
		return nil
	}
	s := gates[0]
	st, keyed := s.Devices.Store, s.Devices.NumberID(keyCheck)
	ids := map[string][]string{} // given's keyed hashes (the record's)
	for name, e164s := range given {
		for _, e164 := range e164s {
			ids[name] = append(ids[name], s.Devices.NumberID(e164))
		}
		slices.Sort(ids[name])
		ids[name] = slices.Compact(ids[name])
	}
	numbers, tellers := map[string]string{}, map[string]*Service{} // a gate that gives the user a number: it tells that phone too
	for _, g := range gates {
		for name, u := range g.Users {
			numbers[name], tellers[name] = u.Phone, g
		}
	}
	kept := map[string]string{}
	prefix := provisionedKey(realm, "")
	err := st.Scan(ctx, prefix, func(key string, value []byte) error {
		if parts, ok := store.SplitKey(key); ok && len(parts) == 3 {
			kept[parts[2]] = string(value)
			if _, ok := ids[parts[2]]; !ok {
				ids[parts[2]] = nil // a deleted line: given nothing
			}
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
	for _, name := range slices.Sorted(maps.Keys(ids)) {
		if err := s.settleUser(ctx, realm, name, keyed, kept[name], ids[name], numbers[name], cmp.Or(tellers[name], s), at); err != nil {
			return err
		}
	}
	return nil
}

// settleRounds bounds how often settleUser decides again on a record
// another writer changed between its read and its write.
const settleRounds = 3

// errSettleRaced is a settle's answer when the record kept changing under
// it (instances starting at once, round after round), or was made again
// under the store's new secret meanwhile (Rekey: the settle's hashes are
// of the old key, its record would be one the gate cannot read): the
// retry settles again.
var errSettleRaced = errors.New("the provisioned numbers' record kept changing")

// settleUser ends user's sessions and trusts where was (the kept record,
// "" for none) holds a number under keyed that ids (what the config gives
// now, sorted; none for a deleted line) lacks, with the recovery codes a
// config phone's session made (told to her phones by teller, a gate that
// gives her a number where one does), then keeps ids: only where the
// record still holds was (a compare-and-set). Another instance on the
// store that wrote its own meanwhile (two starting at once with other
// `user` lines) has it decided again on what that one wrote: the record
// left is one of theirs, with what it ends ended (settleRounds at most).
func (s *Service) settleUser(ctx context.Context, realm, name, keyed, was string, ids []string, e164 string, teller *Service, at time.Time) error {
	now := strings.Join(append([]string{keyed}, ids...), " ")
	var value []byte // none: a deleted line's record goes
	if len(ids) > 0 {
		value = []byte(now)
	}
	for range settleRounds {
		if was == now || value == nil && was == "" {
			return nil
		}
		if err := s.endLost(ctx, realm, name, keyed, was, ids, e164, teller, at); err != nil {
			return err
		}
		changed := false
		err := s.Devices.Store.Update(store.Lasting(ctx), provisionedKey(realm, name), func(cur []byte, _ bool) ([]byte, time.Duration, error) {
			if f := strings.Fields(string(cur)); len(f) > 0 && f[0] != keyed {
				if f[0] == s.Devices.NumberID(keyCheck) {
					return nil, 0, errSettleRaced // re-keyed meanwhile (Rekey): settled again under the new key
				}
				if _, pending := s.rekeying.Load(f[0]); pending {
					return nil, 0, errSettleRaced // of a key the gate is re-keying from: settled after it
				}
			}
			if changed = string(cur) != was; changed {
				was = string(cur)
				return nil, 0, store.ErrUnchanged
			}
			return value, 0, nil
		})
		if err != nil {
			s.Logger.Error("keeping a provisioned user's numbers", zap.String("user", textsafe.Escape(name)), zap.Error(err))
			return err
		}
		if !changed {
			return nil
		}
	}
	s.Logger.Error("keeping a provisioned user's numbers", zap.String("user", textsafe.Escape(name)), zap.Error(errSettleRaced))
	return errSettleRaced
}

// endLost ends what user's lost number earned (settleUser), where was
// holds one under keyed that ids lacks.
func (s *Service) endLost(ctx context.Context, realm, name, keyed, was string, ids []string, e164 string, teller *Service, at time.Time) error {
	lost := lostNumbers(keyed, was, ids)
	if len(lost) == 0 {
		return nil // nothing she had is lost
	}
	st := s.Devices.Store
	withdrawn, removed, byDevice := false, 0, false
	var minted session.MintedEnd
	until := cmp.Or(at, s.Devices.Now())
	err := session.EndUserUntil(ctx, st, realm, name, until)
	if err == nil { // an admin's invites minted through a session it ended (attack36 F2)
		minted, err = session.EndMintedOf(ctx, st, realm, name, s.Devices.Now(), s.Logger, session.MintedUntil(until))
	}
	if err == nil { // a recovery session kept at a removal of a device its chain added, signed in since at
		var tombstones []string
		if tombstones, err = s.Devices.RemovedIDs(ctx, realm, name); err == nil {
			err = session.EndKeptOfLost(ctx, st, realm, name, tombstones, lost, s.Devices.Now())
		}
	}
	if err == nil {
		withdrawn, err = s.forgetConfigPhoneCodes(ctx, realm, name) // the set a config phone's session made
	}
	if err == nil { // the devices its sessions added (provisionedadded.go)
		removed, byDevice, err = s.removeAddedByLost(ctx, realm, name, lost, len(ids) > 0)
		withdrawn = withdrawn || byDevice
	}
	if removed > 0 { // told once, where the config gives her a number (a retry finds them gone)
		teller.Notify(ctx, realm, name, "", words.Say("notice.added_devices_removed"))
	}
	if err != nil {
		s.Logger.Error("ending the sessions of a provisioned user whose number the config took away", zap.String("user", textsafe.Escape(name)), zap.Error(err))
		return err
	}
	if len(ids) == 0 {
		s.audit("provisioned_user_removed", name, "", MintedFields(minted)...)
	} else {
		s.audit("provisioned_number_changed", name, e164, MintedFields(minted)...)
	}
	if withdrawn { // her printed codes stop working: she is told, as at a removal, of the number
		s.audit(CodesWithdrawn, name, "")
		teller.Notify(ctx, realm, name, "", words.Say("notice.recovery_withdrawn_number"))
	}
	return nil
}
