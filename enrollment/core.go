package enrollment

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// Core is what Challenges, Devices and Admin share: the store, the keys,
// the limits (lockouts and windows count for codes and recovery codes
// alike) and the clock.
type Core struct {
	Store store.Store
	// CodeKey is the server secret that code hashes are made with.
	CodeKey []byte
	// PhoneKey, when set, turns on verify-only mode: devices keep only an
	// HMAC of their number, and one number serves one user.
	PhoneKey []byte
	// Limits bound sends and wrong codes.
	Limits Limits
	// Secrets keeps authenticator apps' secrets encrypted in the store.
	Secrets Sealer
	// WebAuthn checks passkeys (nil: passkeys are off).
	WebAuthn *webauthn.WebAuthn
	// VerifyUser makes passkeys verify their user (a PIN, a fingerprint):
	// where a passkey is the only factor (a login form), having the device
	// is not enough.
	VerifyUser bool
	// Strangers bounds what strangers' challenges keep (nil: unbounded).
	Strangers *Strangers
	// Words says the built-in messages and default names in the user's
	// language (nil: the built-in catalogues).
	Words *words.Catalogue
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Announce tells running gates of an end of sessions an import wrote
	// to st (key and value as the store holds them: session.AnnounceEnd).
	// Nil: not announced (gates refuse those sessions once their cache
	// entries go).
	Announce func(ctx context.Context, st store.Store, key string, value []byte) error
	// Logger is told of a record mended (an admin's unreadable index of
	// the invites she minted: indexMinted); nil, nobody.
	Logger *zap.Logger

	rekeyed atomic.Pointer[[]byte] // CodeKey, replaced (Rekey)
	// storeBudgets: the previous release's global budgets read empty
	// (budgets.go).
	storeBudgets storeBudgets
}

// codeKey is the key code hashes are made with: CodeKey, unless Rekey
// replaced it.
func (s *Core) codeKey() []byte {
	if k := s.rekeyed.Load(); k != nil {
		return *k
	}
	return s.CodeKey
}

// Say says t in lang, from Words.
func (s *Core) Say(lang string, t words.Text) string {
	if s.Words == nil {
		return words.English.Render(lang, t)
	}
	return s.Words.Render(lang, t)
}

// Rekey makes code hashes use key from now on: the gate adopted the
// store's new signing secret. It answers NumberID under the key it
// replaced, for the records that hold one (signin.Service.Rekey).
func (s *Core) Rekey(key []byte) (was func(e164 string) string) {
	old := s.CodeKey
	if k := s.rekeyed.Swap(&key); k != nil {
		old = *k
	}
	return func(e164 string) string { return numberIDUnder(old, e164) }
}

// Sealer encrypts a secret for a context it is bound to (session.Sealer).
type Sealer interface {
	Seal(plain, context string) string
	Open(sealed, context string) (string, error)
}

// New wires the three jobs on one Core: sending and checking codes,
// keeping devices, and the admin's tools.
func New(core *Core, challenges Challenges) (*Challenges, *Devices, *Admin) {
	devices := &Devices{Core: core}
	challenges.Core, challenges.Devices, challenges.failed = core, devices, new(takeBacks)
	return &challenges, devices, &Admin{Core: core, Devices: devices}
}

// Devices keeps users' phones (several named ones each), verify-only
// mode's number bindings, and recovery codes.
type Devices struct{ *Core }

// Admin is the admin's tools: listing users, invites, export and import.
type Admin struct {
	*Core
	Devices *Devices
}

// PhoneHMAC is the keyed hash of e164 that verify-only mode keeps.
func (s *Core) PhoneHMAC(e164 string) string {
	m := hmac.New(sha256.New, s.PhoneKey)
	m.Write([]byte(e164))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyOnly reports whether devices keep only hashes of their numbers.
func (s *Core) VerifyOnly() bool { return len(s.PhoneKey) > 0 }

// NumberID is numberID, for a record of the sign-in's that names a
// number (signin's provisioned numbers).
func (s *Core) NumberID(e164 string) string { return s.numberID(e164) }

// numberID names a number in counters and cooldowns without spelling it
// out: a keyed hash, so that those records hold no numbers in any mode.
func (s *Core) numberID(e164 string) string { return numberIDUnder(s.codeKey(), e164) }

// numberIDUnder is numberID under key.
func numberIDUnder(key []byte, e164 string) string {
	if e164 == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("number\x00" + e164))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
