package enrollment

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Recovery codes: single-use codes, shown once, that stand in for a phone
// code when the phone is lost. Only their HMACs are stored.

// RecoveryCount is how many codes a set holds.
const RecoveryCount = 10

// ErrWrongRecovery answers a recovery code that is not (or no longer) valid.
var ErrWrongRecovery = errors.New("this recovery code is not valid; each works only once")

const recoveryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // no 0/O or 1/I

func recoveryKey(realm, user string) string { return store.Key("recovery", realm, user) }

// NewRecoveryCodes makes a fresh set for user, replacing any earlier one,
// and returns the codes to show once.
func (s *Service) NewRecoveryCodes(ctx context.Context, realm, user string) ([]string, error) {
	codes := make([]string, RecoveryCount)
	hashes := make([]string, RecoveryCount)
	for i := range codes {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		for j := range b {
			b[j] = recoveryAlphabet[int(b[j])%len(recoveryAlphabet)] // 256 is a multiple of 32: uniform
		}
		codes[i] = string(b[:5]) + "-" + string(b[5:])
		hashes[i] = s.recoveryHash(user, codes[i])
	}
	raw, _ := json.Marshal(hashes)
	return codes, s.Store.Put(ctx, recoveryKey(realm, user), raw, 0)
}

// RecoveryCodesLeft counts user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, realm, user string) (int, error) {
	hashes, err := s.recoveryHashes(ctx, realm, user)
	return len(hashes), err
}

// NormalizeRecovery reports whether input looks like a recovery code, and
// returns it in canonical form.
func NormalizeRecovery(input string) (string, bool) {
	code := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(input))
	if len(code) != 10 || strings.Trim(code, recoveryAlphabet) != "" {
		return "", false
	}
	return code[:5] + "-" + code[5:], true
}

// UseRecoveryCode burns one of user's recovery codes. Wrong ones count
// toward the lockout like wrong phone codes; of two uses of one code, one
// succeeds.
func (s *Service) UseRecoveryCode(ctx context.Context, sc Scope, user, code string) error {
	if err := s.checkLock(ctx, sc, user); err != nil {
		return err
	}
	raw, err := s.Store.Take(ctx, recoveryKey(sc.Realm, user)) // held while we look
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var hashes []string
	_ = json.Unmarshal(raw, &hashes)
	want := s.recoveryHash(user, code)
	found := -1
	for i, h := range hashes {
		if subtle.ConstantTimeCompare([]byte(h), []byte(want)) == 1 {
			found = i
		}
	}
	if found >= 0 {
		hashes = append(hashes[:found], hashes[found+1:]...)
	}
	if raw != nil {
		raw, _ = json.Marshal(hashes)
		if err := s.Store.Put(ctx, recoveryKey(sc.Realm, user), raw, 0); err != nil {
			return err
		}
	}
	if found < 0 {
		if locked, err := s.recordFailure(ctx, sc, user); err != nil || locked != nil {
			return cmpErr(err, locked)
		}
		return ErrWrongRecovery
	}
	s.clearFailures(ctx, sc, user)
	return nil
}

func (s *Service) recoveryHashes(ctx context.Context, realm, user string) ([]string, error) {
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

func (s *Service) recoveryHash(user, code string) string {
	m := hmac.New(sha256.New, s.CodeKey)
	m.Write([]byte("recovery\x00" + user + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// ResetUser is the admin's way back for a lost phone: every device and
// recovery code of user is removed and every session they hold is ended.
// They enroll again through the site's normal rule.
func (s *Service) ResetUser(ctx context.Context, realm, user string) error {
	if err := s.RemoveAllDevices(ctx, realm, user); err != nil {
		return err
	}
	if err := s.Store.Delete(ctx, recoveryKey(realm, user)); err != nil {
		return err
	}
	return s.RevokeUser(ctx, realm, user)
}

func userRevokedKey(realm, user string) string { return store.Key("revoked-user", realm, user) }

// RevokeUser ends every session of user issued until now.
func (s *Service) RevokeUser(ctx context.Context, realm, user string) error {
	raw, _ := json.Marshal(s.Now().UTC())
	if err := s.Store.Put(ctx, userRevokedKey(realm, user), raw, 0); err != nil {
		return err
	}
	_, err := s.Store.Incr(ctx, RevocationCounter, 0)
	return err
}

// RevokedBefore is when user's sessions were last all revoked (zero if never).
func (s *Service) RevokedBefore(ctx context.Context, realm, user string) (time.Time, error) {
	raw, err := s.Store.Get(ctx, userRevokedKey(realm, user))
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	var t time.Time
	if err == nil {
		err = json.Unmarshal(raw, &t)
	}
	return t, err
}

// RevocationCounter is the store counter every gate watches: it moves
// whenever a session is revoked, so that caches are checked again.
const RevocationCounter = "revocations"
