package enrollment

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// Authenticator apps speak TOTP (RFC 6238) as every app does by default:
// 30-second steps, six digits, HMAC-SHA1. A code is good for its step and
// the one on either side (clocks drift), and once only.
const (
	appPeriod = 30 * time.Second
	appSkew   = 1
	// appSetupTTL is how long an app being added waits for its first code.
	appSetupTTL = 10 * time.Minute
)

var appOpts = totp.ValidateOpts{Period: uint(appPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Errors of authenticator apps.
var (
	// ErrNoAppSetup answers a code for an app that is not being added (or
	// whose setup expired).
	ErrNoAppSetup = words.New("app.no_setup")
	// ErrCodeUsed refuses an app code that was used already.
	ErrCodeUsed = words.New("app.code_used")
	// ErrNoSecrets says the gate keeps no sealed secrets (misconfigured).
	ErrNoSecrets = errors.New("enrollment: no sealer for authenticator secrets")
)

// AppSetup is what a user needs to add an app: the secret, as an
// otpauth:// URI and as text to type, and the URI as a QR code (QR).
type AppSetup struct {
	Secret string
	URI    string
}

// QR draws the setup's URI as a QR code to scan, a PNG of 240×240 pixels.
// It is drawn only when asked for: a page shows it, a JSON answer and a
// test of the setup's record need none (a QR code is ~20 ms of CPU under
// -race, most of a race test's run).
func (a *AppSetup) QR() ([]byte, error) { return QRPNG(a.URI, 240) }

// StartApp makes a new secret for one of user's apps. It waits in the
// store, sealed, for a code that proves the app has it (ConfirmApp);
// until then no device exists. The setup names sid, the session that
// began it: only that session is shown it again (PendingApp).
func (s *Devices) StartApp(ctx context.Context, realm, user, issuer, sid string) (*AppSetup, error) {
	if s.Secrets == nil {
		return nil, ErrNoSecrets
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: user, Period: appOpts.Period,
		Digits: appOpts.Digits, Algorithm: appOpts.Algorithm})
	if err != nil {
		return nil, err
	}
	if err := s.Store.Put(ctx, appSetupKey(realm, user), s.sealSetup(realm, user, sid, key.URL(), s.Now().Add(appSetupTTL)), appSetupTTL); err != nil {
		return nil, err
	}
	return &AppSetup{Secret: key.Secret(), URI: key.URL()}, nil
}

// ConfirmApp adds the app StartApp began, once code shows it has the
// secret, and returns its device ID. A wrong code counts toward the same
// lockouts as a wrong code anywhere, and a right one forgets the wrong
// confirmation tries before it, and only those: its secret is the page's,
// shown to whoever holds the session, so it proves nothing of the codes a
// step-up or a sign-in got wrong (failsOf). Of two confirmations of one setup at once
// (a double submit), one adds the app (added); the other finds it added
// and answers with its ID, not added: only the one that added it may tell
// the user's phones, or undo it (its session ended meanwhile).
func (s *Devices) ConfirmApp(ctx context.Context, sc Scope, user, code, name string) (id string, added bool, err error) {
	var reads store.Batch
	fail := s.takeFailureAt(&reads, failsOf(sc, user, true))
	locks := s.readLocks(&reads, sc, user)
	guess := s.takeGuess(&reads, sc, user)
	setup := reads.Get(appSetupKey(sc.Realm, user))
	if err := store.Do(ctx, s.Store, &reads); err != nil {
		s.giveBackNow(ctx, guess, fail) // the slots one of its failed reads took
		return "", false, err
	}
	if err := s.refusedUnchecked(ctx, sc, user, locks, guess, fail); err != nil {
		return "", false, err
	}
	opened, err := s.openSetup(sc.Realm, user, setup)
	if err != nil {
		s.giveBackNow(ctx, guess, fail)
		return "", false, ErrNoAppSetup
	}
	id, secret := RandomID()[:8], opened.Secret
	step, ok := appStep(secret, code, s.Now())
	if !ok {
		return "", false, s.wrongAppCode(ctx, sc, user, true)
	}
	if err := s.useStep(ctx, sc.Realm, user, id, step); err != nil {
		s.giveBackNow(ctx, guess, fail) // a right code the store failed
		return "", false, err
	}
	s.rightAppCode(ctx, sc, user, true, guess) // the wrong confirmation tries before it forgotten
	name = CleanName(name)
	now := s.Now().UTC()
	ctx = store.Lasting(ctx) // the user is told it is done
	had := ""
	err = s.edit(ctx, sc.Realm, user, func(list []Device) ([]Device, error) {
		// Two confirmations of one setup at once (a double submit) add
		// one app: the second finds the first's and answers with it.
		if had = s.appWithSecret(sc.Realm, user, list, secret); had != "" {
			return nil, store.ErrUnchanged
		}
		if len(list) >= MaxDevices {
			return nil, ErrMaxDevices
		}
		d := Device{ID: id, Kind: factor.App, Name: name, Enrolled: now, Lang: sc.Lang, Secret: s.Secrets.Seal(secret, appKey(sc.Realm, user, id))}
		if name == "" {
			d.Nth = countKind(list, factor.App) + 1 // its name worded where it is shown (Label)
		}
		return append(list, d), nil
	})
	if err != nil {
		return "", false, err
	}
	// The setup ends only if it is still the one read: another session
	// of the user (a second tab) may have started one since, which waits
	// for its own code (TestAConfirmationLeavesASetupStartedMeanwhile).
	// A claim of one record: a compare-and-delete in one step on every
	// store, as the Delete before it (storetest.Interleaver holds a Swap
	// as a read then a write; a claim, as none).
	var end store.Batch
	end.Claim(store.Swap{Key: appSetupKey(sc.Realm, user), Read: setup})
	_ = store.Do(ctx, s.Store, &end)
	if had != "" {
		return had, false, nil
	}
	return id, true, nil
}

// appWithSecret is the ID of user's app in list whose secret is secret
// ("" for none).
func (s *Devices) appWithSecret(realm, user string, list []Device, secret string) string {
	for _, d := range list {
		if d.Kind != factor.App {
			continue
		}
		if have, _, err := s.openApp(realm, user, &d); err == nil &&
			subtle.ConstantTimeCompare([]byte(have), []byte(secret)) == 1 {
			return d.ID
		}
	}
	return ""
}

// CheckApp signs user in with a code from one of their apps and returns
// that app. Lockouts and guess limits are those of texted codes: a wrong
// code counts toward the same lockouts, a locked-out user is refused
// before any code is looked at, and a code works once.
//
// Each try takes a slot in the account's window of checked guesses for
// each app it is compared with (a right code gives them back): that bounds
// guessing from many IPs, whatever the number of apps.
func (s *Devices) CheckApp(ctx context.Context, sc Scope, user, code string) (*Device, error) {
	var reads store.Batch
	fail := s.takeFailure(&reads, sc, user)
	locks := s.readLocks(&reads, sc, user)
	guess := s.takeGuess(&reads, sc, user)
	if err := store.Do(ctx, s.Store, &reads); err != nil {
		s.giveBackNow(ctx, guess, fail) // the slots one of its failed reads took
		return nil, err
	}
	if err := s.refusedUnchecked(ctx, sc, user, locks, guess, fail); err != nil {
		return nil, err
	}
	list, err := s.List(ctx, sc.Realm, user)
	if err != nil {
		s.giveBackNow(ctx, guess, fail)
		return nil, err
	}
	// A code is compared with each app's: each app compared is a guess of
	// its own, so that two apps do not double the odds the window allows.
	// The slots are taken in one batch, one round trip whatever their
	// number, and a user with one app or none waits as long (moreGuesses).
	more, err := s.moreGuesses(ctx, sc, user, guess, appsOf(list, s.Secrets != nil)-1)
	if err != nil {
		s.giveBackNow(ctx, fail)
		return nil, err
	}
	d, step, dead := s.whichApp(sc, user, list, code)
	if d == nil && dead {
		// No app of hers opens here (a signing secret since replaced):
		// no code could be right, so none is a guess; she is told to sign
		// in another way (ErrAppUnreadable, audited as a failed check).
		s.giveBackNow(ctx, append(more, guess, fail)...)
		return nil, ErrAppUnreadable
	}
	if d == nil {
		return nil, s.wrongAppCode(ctx, sc, user, false)
	}
	if err := s.useStep(ctx, sc.Realm, user, d.ID, step); err != nil {
		if errors.Is(err, ErrCodeUsed) {
			_, _ = s.recordFailure(ctx, sc, user, true) // a replay is a guess someone saw: its slots kept
		} else {
			s.giveBackNow(ctx, append(more, guess, fail)...) // a right code the store failed
		}
		return nil, err
	}
	// The app is marked used in the same atomic step that finds it still
	// there (used): one removed since the list was read (the admin's
	// removal of a leaked app, answered meanwhile) signs nobody in; its
	// code is then no app's, as if the removal had come first.
	if found, err := s.used(ctx, sc.Realm, user, d.ID, ""); err != nil || found == "" {
		if err != nil {
			s.giveBackNow(ctx, append(more, guess, fail)...)
			return nil, err
		}
		return nil, s.wrongAppCode(ctx, sc, user, false)
	}
	s.rightAppCode(ctx, sc, user, false, append(more, guess)...)
	return d, nil
}

// rightAppCode forgets the wrong codes before a right app code (the
// limits count them in a row; a confirmation's, only the confirmation
// tries, taken back from the counts: forgetConfirmations) and gives back
// the slots it took among the guesses, in one batch: a right code is no
// guess, nor a failure (its failure's slot goes with the window:
// forgetFailures).
func (s *Devices) rightAppCode(ctx context.Context, sc Scope, user string, confirming bool, guesses ...*guess) {
	var done store.Batch
	if confirming {
		s.forgetConfirmations(ctx, &done, sc, user)
	} else {
		s.forgetFailures(&done, sc, user)
	}
	for _, g := range guesses {
		g.giveBack(&done)
	}
	_ = store.Do(ctx, s.Store, &done)
}

// whichApp is the app of list whose code code is, and its step (nil for
// none). Its work does not tell how many apps the user holds: every one of
// MaxDevices places is opened and compared, a decoy's where the user has
// no app, each at all three steps, so that timing a wrong code tells a
// name with two apps from one with none no more than it tells the codes.
// An app whose secret does not open here (openApp) is compared as a
// decoy's place, and logged (deadApp); dead says the user holds apps and
// none of them opens.
func (s *Devices) whichApp(sc Scope, user string, list []Device, code string) (found *Device, step int64, dead bool) {
	apps, open := 0, 0
	decoy := ""
	if s.Secrets != nil {
		decoy = s.Secrets.Seal(decoySecret, "decoy app")
	}
	now := s.Now()
	for i := range list {
		d := &list[i]
		if d.Kind != factor.App || s.Secrets == nil {
			continue
		}
		apps++
		secret, _, err := s.openApp(sc.Realm, user, d)
		if err != nil {
			s.deadApp(sc.Realm, user, d.ID, err)
			appStep(decoySecret, code, now) // the same work
			continue
		}
		open++
		if st, ok := appStep(secret, code, now); ok && found == nil {
			found, step = d, st
		}
	}
	dead = apps > 0 && open == 0 // before the decoys' places count in apps
	for ; apps < MaxDevices; apps++ {
		secret := decoySecret
		if decoy != "" {
			secret, _ = s.Secrets.Open(decoy, "decoy app")
		}
		appStep(secret, code, now) // the same work for a place without an app
	}
	return found, step, dead
}

// decoySecret stands in for the apps a user does not have.
const decoySecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// totpCode is the code of secret at t (a variable: the tests count them).
var totpCode = totp.GenerateCodeCustom

// wrongAppCode counts a wrong app code and says what happens next.
func (s *Devices) wrongAppCode(ctx context.Context, sc Scope, user string, confirming bool) error {
	locked, left, err := s.countFailure(ctx, sc, user, true, confirming)
	switch {
	case err != nil:
		return err
	case locked != nil:
		return locked
	}
	return &WrongCodeError{Left: left, Locks: true}
}

// useStep marks an app's step as used: of two uses of one code, even at
// once on two instances, one wins (PutIfAbsent).
func (s *Devices) useStep(ctx context.Context, realm, user, id string, step int64) error {
	key := store.Key("app-used", realm, user, id, strconv.FormatInt(step, 10))
	wrote, err := s.Store.PutIfAbsent(ctx, key, nil, (2*appSkew+2)*appPeriod)
	if err != nil {
		return err
	}
	if !wrote {
		return ErrCodeUsed
	}
	return nil
}

// appStep finds the step, within the skew, whose code is code. Every step
// is computed and compared, whichever matches: the work tells nothing.
func appStep(secret, code string, now time.Time) (int64, bool) {
	code, ok := NormalizeCode(code, 6)
	if !ok {
		code = "" // the same work, and no match
	}
	step := now.Unix() / int64(appPeriod/time.Second)
	found, match := int64(0), 0
	for d := int64(-appSkew); d <= appSkew; d++ {
		want, err := totpCode(secret, time.Unix((step+d)*int64(appPeriod/time.Second), 0), appOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && match == 0 {
			found, match = step+d, 1
		}
	}
	return found, match == 1
}

// appsOf is how many of list's apps a code is compared with (none when
// the gate keeps no secrets).
func appsOf(list []Device, secrets bool) int {
	if !secrets {
		return 0
	}
	return countKind(list, factor.App)
}

func countKind(list []Device, kind factor.Device) int {
	n := 0
	for _, d := range list {
		if d.Kind == kind {
			n++
		}
	}
	return n
}

func appSetupKey(realm, user string) string { return store.Key("app-setup", realm, user) }
func appKey(realm, user, id string) string  { return store.Key("app", realm, user, id) }
