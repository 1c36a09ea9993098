package enrollment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Recovery codes made by a device's session. A session holder makes new
// recovery codes after a step-up with a text: a thief holding the
// password and a stolen phone makes a set of his own, and once the phone
// is removed (its sessions and trusts end: session.EndDevice) signs in
// again with one of its codes. So a renewal records the device whose
// session made the set (recoveryByKey: the device's ID and a digest of
// each of the set's codes), and the device's removal withdraws the set it
// made, where it is still the user's (ForgetCodesMadeBy): she makes new
// ones. The set is known by its codes, not by the whole record: a code
// spent takes one out (spend), and what is left is still that set. A code
// of the set signs in a session that names the device too
// (UseRecoveryCodeOf), which ends with it.

// recoveryByKey is the key of the record of which device's session made
// user's recovery codes.
func recoveryByKey(realm, user string) string { return store.Key(recoveryBy, realm, user) }

// recoveryBy is the kind of the record of a set's maker (recoveryByKey).
const recoveryBy = "recovery-by"

// withItsSet drops from an import's records (all) each maker's record
// whose set it does not write (none in the file, or one whose codes were
// replaced or withdrawn since: honourTombstones): written alone, it would
// replace the maker of the set the store holds, which would then name
// none, and the removal of the device that made it would withdraw nothing.
func withItsSet(all map[string][]byte) {
	for key := range all {
		if parts, ok := store.SplitKey(key); ok && len(parts) == 3 && parts[0] == recoveryBy {
			if _, ok := all[recoveryKey(parts[1], parts[2])]; !ok {
				delete(all, key)
			}
		}
	}
}

// madeBy is the record's value for the set raw (its codes' hashes, as
// stored), made by device: the device's ID and a digest of each code's
// hash.
func madeBy(device string, raw []byte) string {
	var hashes []string
	_ = json.Unmarshal(raw, &hashes) // a set this package wrote
	digests := make([]string, len(hashes))
	for i, h := range hashes {
		digests[i] = codeDigest(h)
	}
	return device + " " + strings.Join(digests, ",")
}

// codeDigest names one code of a set (its hash) in a madeBy record.
func codeDigest(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return hex.EncodeToString(sum[:8])
}

// makerOf is the device the madeBy record by names where it made every
// one of hashes (codes of one set, at least one), else "".
func makerOf(by []byte, hashes []string) string {
	maker, digests, _ := strings.Cut(string(by), " ")
	made := strings.Split(digests, ",")
	if len(hashes) == 0 || slices.ContainsFunc(hashes, func(h string) bool { return !slices.Contains(made, codeDigest(h)) }) {
		return ""
	}
	return maker
}

// MadeBy records that a session device earned made r, user's new set,
// while the set is still r's: one claim of both records (store.Batch.Claim),
// so that a renewal by another device in between, whose set and maker are
// there now, keeps its maker (its device's removal withdraws its set). A
// set no longer r's records nothing.
func (s *Devices) MadeBy(ctx context.Context, realm, user string, r *Renewal, device string) error {
	ctx = store.Lasting(ctx)
	setKey, byKey := recoveryKey(realm, user), recoveryByKey(realm, user)
	return store.Retry(ctx, madeByTries, func() (bool, error) {
		var read store.Batch
		set, by := read.Get(setKey), read.Get(byKey)
		if err := store.Do(ctx, s.Store, &read); err != nil {
			return false, err
		}
		if set.Err != nil || string(set.Value) != string(r.wrote) {
			return true, nil // another set is the user's now
		}
		var b store.Batch
		wrote := []byte(madeBy(device, r.wrote))
		claim := b.Claim(store.Swap{Key: setKey, Read: set, Value: r.wrote},
			store.Swap{Key: byKey, Read: by, Value: wrote})
		if err := store.Do(ctx, s.Store, &b); err != nil {
			return false, err
		}
		if claim.OK { // for UndoRenewal
			r.byWrote, r.byReplaced = wrote, nil
			if by.Err == nil {
				r.byReplaced = slices.Clone(by.Value)
			}
		}
		return claim.OK, nil // lost: read both again
	})
}

// madeByTries bounds MadeBy's claims: one user's renewals at once are few.
const madeByTries = 8

// ForgetCodesMadeBy withdraws user's recovery codes where a session device
// earned made them (MadeBy) and they are still of the set it made (codes
// spent since or meanwhile aside), in one compare-and-delete (a set made
// since stays); the codes are buried first, as a removal buries (an
// import brings none back). It reports whether it withdrew them.
func (s *Devices) ForgetCodesMadeBy(ctx context.Context, realm, user, device string) (bool, error) {
	return s.ForgetCodesMadeByAny(ctx, realm, user, func(maker string) bool { return maker == device })
}

// ForgetCodesMadeByAny is ForgetCodesMadeBy for a maker that made says is
// one to withdraw the set of.
func (s *Devices) ForgetCodesMadeByAny(ctx context.Context, realm, user string, made func(maker string) bool) (bool, error) {
	return s.forgetCodes(ctx, realm, user, func(maker string) bool { return maker != "" && made(maker) })
}

// ForgetMakerlessCodes withdraws user's recovery codes where no maker is
// recorded for them (no recovery-by record, or one of another set): a set
// a first enrollment made before its phone was recorded as its maker
// (attack41), or a renewal before recovery-by was written, or one a
// recovery code's session made, naming no device. As ForgetCodesMadeBy,
// a compare-and-delete, the codes buried first; it reports whether it
// withdrew them. signin's removeDevice asks it at the removal of the
// user's first device (the phone such a first set most likely came with).
func (s *Devices) ForgetMakerlessCodes(ctx context.Context, realm, user string) (bool, error) {
	return s.forgetCodes(ctx, realm, user, func(maker string) bool { return maker == "" })
}

// forgetCodes withdraws user's recovery codes where pick says so of their
// maker ("" for none recorded).
func (s *Devices) forgetCodes(ctx context.Context, realm, user string, pick func(maker string) bool) (bool, error) {
	var b store.Batch
	set, by := b.Get(recoveryKey(realm, user)), b.Get(recoveryByKey(realm, user))
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return false, err
	}
	if errors.Is(set.Err, store.ErrNotFound) {
		return false, nil
	}
	for _, op := range []*store.Op{set, by} {
		if op.Err != nil && !errors.Is(op.Err, store.ErrNotFound) {
			return false, op.Err
		}
	}
	var read []string
	if json.Unmarshal(set.Value, &read) != nil || len(read) == 0 {
		return false, nil // an unreadable set works for nobody, an empty one holds nothing
	}
	maker := ""
	if by.Err == nil {
		maker = makerOf(by.Value, read)
		if maker == "" { // the record an earlier build wrote: the whole set's hash
			maker = earlierMaker(set, by)
		}
	}
	if !pick(maker) {
		return false, nil
	}
	if err := s.buryCodes(ctx, realm, user, set.Value); err != nil {
		return false, err
	}
	forgot := false
	err := s.Store.Update(store.Lasting(ctx), recoveryKey(realm, user), func(cur []byte, found bool) ([]byte, time.Duration, error) {
		var left []string
		// Still the set read, or fewer of its codes (one spent meanwhile):
		// every code left was buried above.
		forgot = found && json.Unmarshal(cur, &left) == nil &&
			!slices.ContainsFunc(left, func(h string) bool { return !slices.Contains(read, h) })
		if !forgot {
			return nil, 0, store.ErrUnchanged
		}
		return nil, 0, nil
	})
	return forgot && err == nil, err
}

// earlierMaker is the maker a record an earlier build wrote (the device
// and a hash of the whole set), by, names where it is set's, read with it;
// else "".
func earlierMaker(set, by *store.Op) string {
	if set.Err != nil || by.Err != nil {
		return ""
	}
	maker, _, _ := strings.Cut(string(by.Value), " ")
	if sum := sha256.Sum256(set.Value); string(by.Value) != maker+" "+hex.EncodeToString(sum[:16]) {
		return ""
	}
	return maker
}

// upgradeMaker rewrites a record an earlier build wrote (earlierMaker),
// read with its set, in this build's form (madeBy: a digest of each code),
// in one claim while both hold what was read, at its first read by a
// code's use: a set with a code spent is no longer the whole set hashed,
// and lost its maker (its codes' sessions named no device, and the
// device's removal withdrew nothing). It answers the record to read the
// code's maker in: this build's form of the set read, whether or not it
// was written (a set renewed meanwhile keeps its own), else by's value.
func (s *Devices) upgradeMaker(ctx context.Context, realm, user string, set, by *store.Op) []byte {
	maker := earlierMaker(set, by)
	if maker == "" {
		return by.Value
	}
	wrote := []byte(madeBy(maker, set.Value))
	var b store.Batch
	b.Claim(store.Swap{Key: recoveryKey(realm, user), Read: set, Value: set.Value},
		store.Swap{Key: recoveryByKey(realm, user), Read: by, Value: wrote})
	_ = store.Do(store.Lasting(ctx), s.Store, &b) // not written: read again in the old form next time
	return wrote
}

// UndoRenewal puts back the set r replaced (or none, if it replaced none),
// but only while the stored set is still the one r wrote, in one atomic
// step (a compare-and-set or compare-and-delete through Store.Update): a
// set written since — another session's renewal, whose codes its browser
// is showing, or an admin's reset — is left as it is. The set r wrote is
// withdrawn before anyone was shown it; the one put back is the user's own
// (a reset deletes codes after it revokes, so a set written before the
// reset is deleted by it, after this).
//
// The withdrawn set is buried before the write, as a removal buries
// (ForgetRecoveryCodes, a device's), not after it as a spent code is
// (retire): its codes were never shown, so an undo the store fails leaves
// marked spent only codes no one holds, while retire's codes are the
// user's; and buried first, an import that writes them back after the undo
// finds them at its second look (Admin.sweep), with no spending again.
//
// Where MadeBy recorded r's maker, the record it replaced goes back with
// the set, in one claim (store.Batch.Claim), while it still holds r's:
// the set put back keeps its maker (whose removal withdraws it, and whose
// codes' sessions name it).
func (s *Devices) UndoRenewal(ctx context.Context, realm, user string, r *Renewal) error {
	if err := s.buryCodes(ctx, realm, user, r.wrote); err != nil {
		return err
	}
	ctx = store.Lasting(ctx)
	setKey, byKey := recoveryKey(realm, user), recoveryByKey(realm, user)
	undone := false
	err := store.Retry(ctx, madeByTries, func() (bool, error) {
		var read store.Batch
		set, by := read.Get(setKey), read.Get(byKey)
		if err := store.Do(ctx, s.Store, &read); err != nil {
			return false, err
		}
		if undone = set.Err == nil && string(set.Value) == string(r.wrote); !undone {
			return true, nil // a set written since stays
		}
		swaps := []store.Swap{{Key: setKey, Read: set, Value: r.replaced}}
		if r.byWrote != nil && by.Err == nil && string(by.Value) == string(r.byWrote) {
			swaps = append(swaps, store.Swap{Key: byKey, Read: by, Value: r.byReplaced})
		}
		var b store.Batch
		claim := b.Claim(swaps...)
		if err := store.Do(ctx, s.Store, &b); err != nil {
			return false, err
		}
		return claim.OK, nil // lost: read both again
	})
	var back []string
	if err != nil || !undone || r.replaced == nil || json.Unmarshal(r.replaced, &back) != nil {
		return err
	}
	return unbury(ctx, s.Store, spentRecoveryKey(realm, user), back) // the user's again
}
