package enrollment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// Recovery codes: single-use codes, shown once, that stand in for a phone
// code when the phone is lost. Only their HMACs are stored.

// RecoveryCount is how many codes a set holds.
const RecoveryCount = 10

// ErrWrongRecovery answers a recovery code that is not (or no longer) valid.
var ErrWrongRecovery = words.New("recovery.wrong")

const recoveryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // no 0/O or 1/I

func recoveryKey(realm, user string) string { return store.Key("recovery", realm, user) }

// FirstRecoveryCodes makes user's first set of recovery codes, where they
// hold none unused, in one atomic step (Store.Update): nil where they
// hold some (a set written meanwhile is not replaced). UndoRenewal
// withdraws it.
func (s *Devices) FirstRecoveryCodes(ctx context.Context, realm, user string) (*Renewal, error) {
	r := new(Renewal)
	codes, wrote := s.recoverySet(user)
	err := s.Store.Update(store.Lasting(ctx), recoveryKey(realm, user), func(old []byte, found bool) ([]byte, time.Duration, error) {
		r.Codes, r.wrote, r.replaced = nil, nil, nil
		if found {
			var hashes []string
			if err := json.Unmarshal(old, &hashes); err != nil {
				return nil, 0, err
			}
			if len(hashes) > 0 {
				return nil, 0, store.ErrUnchanged
			}
			r.replaced = slices.Clone(old)
		}
		r.Codes, r.wrote = codes, wrote
		return wrote, 0, nil
	})
	if err != nil || r.Codes == nil {
		return nil, err
	}
	return r, nil
}

// Renewal is a set of recovery codes written in place of another, and
// what undoing it needs.
type Renewal struct {
	// Codes are the new codes, to show once.
	Codes []string

	wrote    []byte // the stored set it wrote
	replaced []byte // the one it replaced; nil for none
	// byWrote is the maker record MadeBy wrote for it (nil: none), and
	// byReplaced the one that was there (nil: none), which UndoRenewal
	// puts back with the set.
	byWrote, byReplaced []byte
}

// RenewRecoveryCodes replaces user's recovery codes with a new set,
// reading the set it replaces in the same atomic step (Store.Update), so
// that UndoRenewal can put it back. The set replaced is buried once the
// new one is written (retire), so that a store failing the write leaves
// it the user's; best effort: the new set is written, and its codes must
// be shown.
func (s *Devices) RenewRecoveryCodes(ctx context.Context, realm, user string) (*Renewal, error) {
	r := new(Renewal)
	r.Codes, r.wrote = s.recoverySet(user)
	err := s.Store.Update(store.Lasting(ctx), recoveryKey(realm, user), func(old []byte, found bool) ([]byte, time.Duration, error) {
		r.replaced = nil
		if found {
			r.replaced = slices.Clone(old)
		}
		return r.wrote, 0, nil
	})
	if err != nil {
		return nil, err
	}
	_ = s.retire(ctx, realm, user, namesIn(r.replaced, false))
	return r, nil
}

// recoverySet makes a new set of codes for user: the codes, and the set as
// stored (their HMACs).
func (s *Devices) recoverySet(user string) ([]string, []byte) {
	codes := make([]string, RecoveryCount)
	hashes := make([]string, RecoveryCount)
	for i := range codes {
		b := make([]byte, 10)
		for {
			_, _ = rand.Read(b)
			for j := range b {
				b[j] = recoveryAlphabet[int(b[j])%len(recoveryAlphabet)] // 256 is a multiple of 32: uniform
			}
			if strings.IndexFunc(string(b), isLetter) >= 0 {
				break // never all digits, so never taken for a phone code
			}
		}
		codes[i] = string(b[:5]) + "-" + string(b[5:])
		hashes[i] = s.recoveryHash(user, codes[i])
	}
	raw, _ := json.Marshal(hashes)
	return codes, raw
}

// RecoveryCodesLeft counts user's unused recovery codes.
func (s *Devices) RecoveryCodesLeft(ctx context.Context, realm, user string) (int, error) {
	hashes, err := s.recoveryHashes(ctx, realm, user)
	return len(hashes), err
}

// RecoveryCodesMade counts user's unused recovery codes, and says whether
// she ever held any: a set stored, or a record of codes spent or withdrawn
// (tombstones.go). With neither she has never made one, which a page says
// otherwise than "none left". One round trip.
func (s *Devices) RecoveryCodesMade(ctx context.Context, realm, user string) (left int, made bool, err error) {
	var b store.Batch
	set, spent := b.Get(recoveryKey(realm, user)), b.Get(spentRecoveryKey(realm, user))
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return 0, true, err
	}
	for _, op := range []*store.Op{set, spent} {
		if op.Err != nil && !errors.Is(op.Err, store.ErrNotFound) {
			return 0, true, op.Err
		}
	}
	if set.Err != nil {
		return 0, spent.Err == nil, nil
	}
	var hashes []string
	err = json.Unmarshal(set.Value, &hashes)
	return len(hashes), true, err
}

// NormalizeRecovery reports whether input looks like a recovery code, and
// returns it in canonical form.
func NormalizeRecovery(input string) (string, bool) {
	code := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(input))
	if len(code) != 10 || strings.Trim(code, recoveryAlphabet) != "" || strings.IndexFunc(code, isLetter) < 0 {
		return "", false
	}
	return code[:5] + "-" + code[5:], true
}

// Recovery codes are guessed nowhere near as easily as phone codes (50
// bits each), but a wrong one costs the guesser nothing, so their tries
// have throttles of their own instead of counting toward the account
// lockout (which anyone who can name the user could then set off).
const (
	// RecoveryTriesPerFlow bounds the recovery codes one sign-in may try.
	RecoveryTriesPerFlow = 5
	// RecoveryTriesPerIP bounds the recovery codes tried from one IP (IPv6:
	// one /64) per RecoveryWindow.
	RecoveryTriesPerIP = 10
	RecoveryWindow     = time.Hour
)

// ErrRecoveryTries answers a sign-in that tried too many recovery codes.
var ErrRecoveryTries = words.New("recovery.tries")

// UseRecoveryCodeOf burns one of user's recovery codes. flow names the
// sign-in in progress, which may try RecoveryTriesPerFlow codes (each try
// counts, whatever its answer). Wrong ones count toward the lockout of
// this user at this IP; of two uses of one code, one succeeds. It
// answers, of a code it burnt, the maker of its set (MadeBy: a device's
// ID, or another maker's mark; "" for none), read before the code is
// burnt: the sign-in it earns names that device, and ends with its
// removal, as the set does.
func (s *Devices) UseRecoveryCodeOf(ctx context.Context, sc Scope, flow, user, code string) (maker string, err error) {
	return s.UseRecoveryCodeMarked(ctx, sc, flow, user, code, "")
}

// UseRecoveryCodeMarked is UseRecoveryCodeOf that, where mark is not ""
// and user holds codes, marks her record of invites with it
// (MarkRecovery) before burning the code: an enrollment the code lets in
// stands while the mark does (ReadRecoveryMark), and a reset that removes
// her codes after the burn ends it by that mark. A mark that cannot be
// written burns nothing.
func (s *Devices) UseRecoveryCodeMarked(ctx context.Context, sc Scope, flow, user, code, mark string) (maker string, err error) {
	if err := s.checkLock(ctx, sc, user); err != nil {
		return "", err
	}
	// A try is counted for its sign-in before anything is checked (as a
	// challenge counts a texted code's tries): of tries sent at once, at
	// most RecoveryTriesPerFlow are checked. Counted after the check, as
	// before, every one of them passed the count.
	flowKey := store.Key("recovery-tries", sc.Realm, flow)
	if n, err := s.Store.Incr(ctx, flowKey, RecoveryWindow); err != nil || n > RecoveryTriesPerFlow {
		return "", cmpErr(err, ErrRecoveryTries)
	}
	// A try takes a slot from this IP's recovery tries and from the
	// account's window of checked guesses, both given back if it is right.
	ipKey, try := sc.ipWindow("recovery", user), RandomID()
	var b store.Batch
	shared := sc.probeShared(&b, "recovery", Rate{RecoveryTriesPerIP, RecoveryWindow}, s.Now())
	ipTry := b.Slide(ipKey, try, RecoveryTriesPerIP, RecoveryWindow, s.Now())
	guess := s.takeGuess(&b, sc, user)
	set, by := b.Get(recoveryKey(sc.Realm, user)), b.Get(recoveryByKey(sc.Realm, user))
	if err = store.Do(ctx, s.Store, &b); err != nil {
		return "", err
	}
	giveBack := func(b *store.Batch) {
		if ipTry.OK {
			b.Unslide(ipKey, try)
		}
		guess.giveBack(b)
	}
	unchecked := func(err error) (string, error) {
		var back store.Batch
		giveBack(&back)
		_ = store.Do(context.WithoutCancel(ctx), s.Store, &back)
		return "", err
	}
	if !ipTry.OK || shared.full() { // the previous release's window too, until it ends
		return unchecked(&LimitError{Limit: "recovery", Wait: max(ipTry.Wait, shared.wait())})
	}
	if by.Err != nil && !errors.Is(by.Err, store.ErrNotFound) {
		return unchecked(by.Err) // the session must name the set's maker
	}
	if err := s.guessRefused(ctx, sc, user, guess); err != nil {
		return unchecked(err)
	}
	// The code is found and burnt in one atomic step (spend): of two uses
	// of one code one succeeds, and two codes used at once are both burnt
	// (no lock to wait for, none for a crash to leave). It is buried once
	// burnt (retire), so that a store failing the burn leaves it the
	// user's: usable, and brought back by an import. Burnt, it is used,
	// whatever the bury's answer: that is an UnrecordedError, not a
	// refusal (the code is gone from the user's set).
	want := []string{s.recoveryHash(user, code)}
	if mark != "" && holdsCodes(set) { // not a decoy's name: nothing written for it
		if err := s.MarkRecovery(ctx, sc.Realm, user, mark); err != nil {
			return unchecked(err)
		}
	}
	byValue := s.upgradeMaker(ctx, sc.Realm, user, set, by) // before the spend changes the set
	burnt, err := s.spend(ctx, sc.Realm, user, want)
	if err != nil {
		return unchecked(err)
	}
	if !burnt {
		if locked, err := s.recordFailure(ctx, sc, user, false); err != nil || locked != nil {
			return "", cmpErr(err, locked)
		}
		return "", ErrWrongRecovery
	}
	maker = makerOf(byValue, want)
	unrecorded := s.retire(ctx, sc.Realm, user, want)
	var done store.Batch // a right code is no guess, and ends the wrong ones: one round trip
	giveBack(&done)
	s.forgetFailures(&done, sc, user)
	_ = store.Do(context.WithoutCancel(ctx), s.Store, &done)
	if unrecorded != nil {
		return maker, &UnrecordedError{Err: unrecorded}
	}
	return maker, nil
}

// holdsCodes says whether set, a read of a user's recovery set, holds codes.
func holdsCodes(set *store.Op) bool {
	var hashes []string
	return set.Err == nil && json.Unmarshal(set.Value, &hashes) == nil && len(hashes) > 0
}

// UnrecordedError answers a right recovery code, spent (taken out of its
// user's set), whose record of spent codes (retire) the store then failed
// to write: the code was used, and the sign-in goes on; the record is
// what keeps an import of an older export from bringing it back, so the
// failure is for the admin's log. Err is the store's.
type UnrecordedError struct{ Err error }

func (e *UnrecordedError) Error() string {
	return "recovery code used, but not recorded as spent: " + e.Err.Error()
}
func (e *UnrecordedError) Unwrap() error { return e.Err }

// spend takes names (recovery hashes) out of user's stored set in one
// atomic step (Store.Update; a used code stays used), and says whether it
// held one of them.
func (s *Devices) spend(ctx context.Context, realm, user string, names []string) (bool, error) {
	held := false
	err := s.Store.Update(store.Lasting(ctx), recoveryKey(realm, user), func(raw []byte, found bool) ([]byte, time.Duration, error) {
		var hashes []string
		if found {
			if err := json.Unmarshal(raw, &hashes); err != nil {
				return nil, 0, err
			}
		}
		n := len(hashes)
		hashes = slices.DeleteFunc(hashes, func(h string) bool {
			return slices.ContainsFunc(names, func(name string) bool { return subtle.ConstantTimeCompare([]byte(h), []byte(name)) == 1 })
		})
		if held = len(hashes) < n; !held {
			return nil, 0, store.ErrUnchanged
		}
		raw, err := json.Marshal(hashes)
		return raw, 0, err
	})
	return held, err
}

// retire buries names, spent (used, or replaced) by a write of user's set
// that has returned, and then spends them again: an import that read the
// tombstones before this bury may have written them back since, and its
// second look (Admin.sweep) missed this bury if it came first. Buried
// before the write instead, a write the store failed left codes still the
// user's marked spent, left out by an import. It runs to its end if the
// caller's request ends meanwhile, and spends them again where the bury
// failed too (an import that wrote them back since finds no record of
// them: this takes them out once more).
func (s *Devices) retire(ctx context.Context, realm, user string, names []string) error {
	ctx = context.WithoutCancel(ctx)
	if len(names) == 0 {
		return nil
	}
	buried := bury(ctx, s.Store, spentRecoveryKey(realm, user), names...)
	_, err := s.spend(ctx, realm, user, names)
	return errors.Join(buried, err)
}

func isLetter(r rune) bool { return r >= 'A' && r <= 'Z' }

func (s *Devices) recoveryHashes(ctx context.Context, realm, user string) ([]string, error) {
	raw, err := s.Store.Get(ctx, recoveryKey(realm, user))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	var hashes []string
	if err == nil {
		err = json.Unmarshal(raw, &hashes)
	}
	return hashes, err
}

func (s *Devices) recoveryHash(user, code string) string {
	m := hmac.New(sha256.New, s.codeKey())
	m.Write([]byte("recovery\x00" + user + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// ForgetRecoveryCodes removes user's recovery codes, burying them first
// (a removal the store failed leaves them spent: they were going).
func (s *Devices) ForgetRecoveryCodes(ctx context.Context, realm, user string) error {
	read, err := s.Store.Get(ctx, recoveryKey(realm, user))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.buryCodes(ctx, realm, user, read); err != nil {
		return err
	}
	var gone []byte
	err = s.Store.Update(store.Lasting(ctx), recoveryKey(realm, user), func(cur []byte, found bool) ([]byte, time.Duration, error) {
		gone = slices.Clone(cur)
		if !found {
			return nil, 0, store.ErrUnchanged
		}
		return nil, 0, nil
	})
	if err != nil || bytes.Equal(gone, read) {
		return err
	}
	return s.buryCodes(ctx, realm, user, gone) // one written since the read
}

// ResetUser is the admin's way back for a lost phone: every device and
// recovery code of user is removed. (The caller ends their sessions too.)
// They enroll again through the site's normal rule.
//
// Two writes, not one transaction (a Cluster keeps the two records in
// different slots), each state between them failing closed: the devices
// go first, so that first recovery codes made meanwhile, written once the
// codes went, find their phone gone and are withdrawn (signin's
// firstRecoveryCodes); an import between them brings back neither, as
// each removal records what it removes before it goes (tombstones.go;
// TestAnImportRacingAResetLeavesNothing).
func (s *Devices) ResetUser(ctx context.Context, realm, user string) error {
	if err := s.RemoveAll(ctx, realm, user); err != nil {
		return err
	}
	return s.ForgetRecoveryCodes(ctx, realm, user)
}
