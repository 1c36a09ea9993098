package enrollment

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"

	"github.com/smsgate/caddy-smsgate/store"
)

// An app's setup record (appSetupKey) is sealed for its key. This
// release's is setupFormat, then the sealing of the SID of the session
// that began it, when the setup ends (Unix nanoseconds) and its
// otpauth:// URI, one line each: a step-up that hands it to another
// session (CarryApp) keeps its end, and a setup read past it is none,
// whatever the store's expiry. The previous release's (setupFormat2: the
// SID and the URI) is still read, its end the store's; the one before's,
// the sealing of the secret alone, is read too (confirmed as before) and
// shown to no session (its SID unknown). A previous release reading this
// one's finds no setup: its user starts again.
const (
	setupFormat  = "3."
	setupFormat2 = "2."
)

// sealSetup is the record of an app's setup that sid began, which ends
// at ends.
func (s *Devices) sealSetup(realm, user, sid, uri string, ends time.Time) []byte {
	return []byte(setupFormat + s.Secrets.Seal(sid+"\n"+strconv.FormatInt(ends.UnixNano(), 10)+"\n"+uri, appSetupKey(realm, user)))
}

// pendingSetup is a setup record opened: its secret, and its URI and
// session's SID ("" both in the record of the release before last), and
// when it ends (zero in a previous release's: the store's expiry says).
type pendingSetup struct {
	Secret, URI, SID string
	Ends             time.Time
}

// openSetup opens the setup record read (ErrNoAppSetup for none, or one
// that does not open).
func (s *Devices) openSetup(realm, user string, read *store.Op) (pendingSetup, error) {
	if read.Err != nil {
		return pendingSetup{}, ErrNoAppSetup
	}
	return s.openSetupValue(realm, user, read.Value)
}

// openSetupValue opens a setup record's value: ErrNoAppSetup for one that
// does not open, or has ended.
func (s *Devices) openSetupValue(realm, user string, value []byte) (pendingSetup, error) {
	raw, now := strings.CutPrefix(string(value), setupFormat)
	raw, prev := strings.CutPrefix(raw, setupFormat2)
	plain, err := s.Secrets.Open(raw, appSetupKey(realm, user))
	if err != nil {
		return pendingSetup{}, ErrNoAppSetup
	}
	if !now && !prev {
		return pendingSetup{Secret: plain}, nil
	}
	sid, uri, _ := strings.Cut(plain, "\n")
	var ends time.Time
	if now {
		at, rest, _ := strings.Cut(uri, "\n")
		ns, err := strconv.ParseInt(at, 10, 64)
		if ends, uri = time.Unix(0, ns), rest; err != nil || !s.Now().Before(ends) {
			return pendingSetup{}, ErrNoAppSetup
		}
	}
	key, err := otp.NewKeyFromURL(uri)
	if err != nil || key.Secret() == "" {
		return pendingSetup{}, ErrNoAppSetup
	}
	return pendingSetup{Secret: key.Secret(), URI: uri, SID: sid, Ends: ends}, nil
}

// PendingApp is user's app setup waiting for its first code, when the
// session sid began it: a wrong first code shows its key again to that
// session. A setup another session began (her other browser's, or an
// intruder's) is shown to none but its own, nor a previous release's
// (ErrNoAppSetup for them, for none, and for an empty sid).
func (s *Devices) PendingApp(ctx context.Context, realm, user, sid string) (*AppSetup, error) {
	if s.Secrets == nil {
		return nil, ErrNoSecrets
	}
	var reads store.Batch
	read := reads.Get(appSetupKey(realm, user))
	if err := store.Do(ctx, s.Store, &reads); err != nil {
		return nil, err
	}
	opened, err := s.openSetup(realm, user, read)
	if err != nil || sid == "" || opened.SID != sid {
		return nil, ErrNoAppSetup
	}
	return &AppSetup{Secret: opened.Secret, URI: opened.URI}, nil
}

// CarryApp hands user's app setup that the session from began to the
// session to that a step-up of the same browser issued in its place, so
// that a wrong first code there still shows its key: in one atomic step,
// and only while the setup still names from (another session's, one of
// the release before last or none is left as it is). It keeps the
// setup's end: a setup is not kept alive by stepping up again and again
// (capped at appSetupTTL from now, for an end by a clock that is ahead).
// A previous release's, whose end is the store's, is given appSetupTTL
// from now, once: it is this release's from then on.
func (s *Devices) CarryApp(ctx context.Context, realm, user, from, to string) error {
	if s.Secrets == nil || from == "" || to == "" || from == to {
		return nil
	}
	return s.Store.Update(ctx, appSetupKey(realm, user), func(old []byte, found bool) ([]byte, time.Duration, error) {
		opened, err := s.openSetupValue(realm, user, old)
		if !found || err != nil || opened.SID != from {
			return nil, 0, store.ErrUnchanged
		}
		now := s.Now()
		// Its end, but never past appSetupTTL from now: an end set by an
		// instance whose clock is ahead would outlive the 10 minutes
		// (review27).
		ends := now.Add(appSetupTTL)
		if !opened.Ends.IsZero() && opened.Ends.Before(ends) {
			ends = opened.Ends
		}
		// At least a second for the store (its expiry is only tidying:
		// the record's own end is read), appSetupTTL at most.
		return s.sealSetup(realm, user, to, opened.URI, ends), max(ends.Sub(now), time.Second), nil
	})
}
