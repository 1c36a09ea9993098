package enrollment

import (
	"cmp"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// Passkeys (WebAuthn, go-webauthn): a device that signs a challenge. A
// ceremony has two halves — the options for the browser, then its answer
// — and what the first half must remember waits in the store under the
// sign-in's flow, for five minutes, used once.

// Errors of passkeys.
var (
	// ErrPasskey refuses an answer that does not verify: another site's
	// credential, a wrong origin, a replayed or malformed assertion.
	ErrPasskey = words.New("passkey.refused")
	// ErrNoPasskey says the user has no passkey here.
	ErrNoPasskey = words.New("passkey.none")
	// ErrPasskeysOff says the gate has no origin to bind passkeys to.
	ErrPasskeysOff = errors.New("enrollment: passkeys need public_origin or site_origin")
)

const passkeyCeremonyTTL = 5 * time.Minute

// NewWebAuthn binds passkeys to the site's origin; the RP ID is
// cookieDomain, else the origin's host; site names it to the user (else
// the RP ID). No origin, or one on an IP address (WebAuthn binds passkeys
// to a domain): no passkeys (nil).
func NewWebAuthn(origin, cookieDomain, site string) (*webauthn.WebAuthn, error) {
	if origin == "" {
		return nil, nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkeys: %q is not an origin", origin)
	}
	rpID := u.Hostname()
	if cookieDomain != "" {
		rpID = strings.TrimPrefix(cookieDomain, ".")
	}
	if net.ParseIP(rpID) != nil {
		return nil, nil
	}
	return webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: cmp.Or(site, rpID), RPOrigins: []string{origin},
		Timeouts: webauthn.TimeoutsConfig{Login: webauthn.TimeoutConfig{Enforce: true, Timeout: 2 * time.Minute},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: 2 * time.Minute}}})
}

// passkeyUser is a user as go-webauthn sees them.
type passkeyUser struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// userHandle is user's opaque WebAuthn ID: an HMAC, so that it names
// nobody to the authenticator or a reader of the store. It is made under
// the code key, which a new signing secret replaces (Rekey): a passkey
// keeps answering the handle it was registered with, whose record
// (handleKey, written at registration) names its user: a discoverable
// sign-in takes the handle it presents as hers where that record says
// so, a named one unless it names another (presented).
func (s *Devices) userHandle(realm, user string) []byte {
	return handleUnder(s.codeKey(), realm, user)
}

func handleKey(realm string, handle []byte) string {
	return store.Key(passkeyUserKind, realm, hex.EncodeToString(handle))
}

func ceremonyKey(realm, flow string) string { return store.Key("passkey-ceremony", realm, flow) }

// passkeyUserOf is user with their passkeys, and the read of user's
// device list it was made from, for a write against it (keepSignCount).
func (s *Devices) passkeyUserOf(ctx context.Context, realm, user string) (*passkeyUser, *store.Op, error) {
	var b store.Batch
	read := b.Get(deviceKey(realm, user))
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return nil, nil, err
	}
	var list []Device
	if read.Err == nil {
		var err error
		if list, err = decodeDevices(user, read.Value); err != nil {
			return nil, nil, err
		}
	}
	u, err := s.passkeyUserFrom(realm, user, list)
	return u, read, err
}

// passkeyUserFrom is user with the passkeys of list, their devices.
func (s *Devices) passkeyUserFrom(realm, user string, list []Device) (*passkeyUser, error) {
	u := &passkeyUser{handle: s.userHandle(realm, user), name: user}
	for _, d := range list {
		if d.Kind != factor.Passkey {
			continue
		}
		var c webauthn.Credential
		if err := json.Unmarshal(d.Credential, &c); err != nil {
			return nil, fmt.Errorf("passkey %s of %q: %v", d.ID, user, err)
		}
		u.creds = append(u.creds, c)
	}
	return u, nil
}

func (s *Devices) remember(ctx context.Context, realm, flow string, session *webauthn.SessionData) error {
	raw, err := json.Marshal(session)
	if err != nil {
		return err
	}
	return s.Store.Put(ctx, ceremonyKey(realm, flow), raw, passkeyCeremonyTTL)
}

func (s *Devices) recall(ctx context.Context, realm, flow string) (webauthn.SessionData, error) {
	var session webauthn.SessionData
	raw, err := s.Store.Take(ctx, ceremonyKey(realm, flow))
	if errors.Is(err, store.ErrNotFound) {
		return session, ErrPasskey // none begun, or used, or expired
	}
	if err != nil {
		return session, err
	}
	return session, json.Unmarshal(raw, &session)
}

// BeginPasskey starts adding a passkey for user: the options for
// navigator.credentials.create. The passkey is discoverable, so that with
// a login form it can name the user too.
func (s *Devices) BeginPasskey(ctx context.Context, realm, user, flow string) (*protocol.CredentialCreation, error) {
	if s.WebAuthn == nil {
		return nil, ErrPasskeysOff
	}
	u, _, err := s.passkeyUserOf(ctx, realm, user)
	if err != nil {
		return nil, err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range u.creds {
		exclude = append(exclude, c.Descriptor())
	}
	opts := []webauthn.RegistrationOption{webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired)}
	if s.VerifyUser {
		// A passkey that cannot verify its user could never sign in here.
		opts = append(opts, webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired}))
	}
	creation, session, err := s.WebAuthn.BeginRegistration(u, opts...)
	if err != nil {
		return nil, err
	}
	return creation, s.remember(ctx, realm, flow, session)
}

// FinishPasskey checks the browser's answer to BeginPasskey (parsed; nil
// for one that did not parse) and adds the passkey, named in lang (the
// page's language: "Passkey 2"), returning its device ID.
func (s *Devices) FinishPasskey(ctx context.Context, realm, user, flow, lang string, answer *protocol.ParsedCredentialCreationData) (string, error) {
	session, err := s.recall(ctx, realm, flow)
	if err != nil {
		return "", err
	}
	u, _, err := s.passkeyUserOf(ctx, realm, user)
	if err != nil {
		return "", err
	}
	if answer == nil {
		return "", ErrPasskey // the ceremony is spent all the same
	}
	cred, err := s.WebAuthn.CreateCredential(u, session, answer)
	if err != nil {
		return "", ErrPasskey
	}
	// The claim prepares the change, the list's write makes it: checked
	// against the guard, it spends none (store.Preparing), so a revocation
	// landing after it refuses the list's write (before, the passkey was
	// listed until the re-check after the write undid it).
	if err := s.claimCredential(store.Preparing(ctx), realm, user, cred.ID, u.creds); err != nil {
		return "", err
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return "", err
	}
	id, now := RandomID()[:8], s.Now().UTC()
	ctx = store.Lasting(ctx) // the user is told it is done
	// Which user the handle names, before the list: a passkey listed is
	// one a login form can sign in with. Written after, its failure told
	// the user the passkey was not added, yet listed it, and it never
	// signed in at a login form (attack41b). Alone, the record is the
	// user's whatever she holds (one handle a user), and names a passkey
	// only where her list holds it. A preparation, as the claim: the
	// list's write is checked against the guard too.
	if err := s.Store.Put(store.Preparing(ctx), handleKey(realm, u.handle), []byte(user), 0); err != nil {
		return "", err
	}
	err = s.edit(ctx, realm, user, func(list []Device) ([]Device, error) {
		if len(list) >= MaxDevices {
			return nil, ErrMaxDevices
		}
		// Unnamed: "Passkey 2" is worded where it is shown (Label).
		return append(list, Device{ID: id, Kind: factor.Passkey, Nth: countKind(list, factor.Passkey) + 1, Enrolled: now, Lang: lang, Credential: raw,
			RPID: s.WebAuthn.Config.RPID}), nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// PasskeysElsewhere names the host (RP ID) where the passkeys in list
// answer when none of them answers here: each was made at another host of
// the realm (no cookie_domain), and WebAuthn binds a passkey to its host.
// "" when one may answer here (one kept without its RP ID may), or list
// holds none.
func (s *Devices) PasskeysElsewhere(list []Device) string {
	if s.WebAuthn == nil {
		return ""
	}
	elsewhere := ""
	for _, d := range list {
		switch {
		case d.Kind != factor.Passkey:
		case d.RPID == "" || d.RPID == s.WebAuthn.Config.RPID:
			return ""
		default:
			elsewhere = d.RPID
		}
	}
	return elsewhere
}

// BeginPasskeyLogin starts a sign-in with a passkey: user's own, or, when
// user is "" (a login form), any passkey of this site, which names its user.
func (s *Devices) BeginPasskeyLogin(ctx context.Context, realm, user, flow string) (*protocol.CredentialAssertion, error) {
	if s.WebAuthn == nil {
		return nil, ErrPasskeysOff
	}
	var assertion *protocol.CredentialAssertion
	var session *webauthn.SessionData
	var err error
	var opts []webauthn.LoginOption
	if s.VerifyUser {
		opts = append(opts, webauthn.WithUserVerification(protocol.VerificationRequired))
	}
	if user == "" {
		assertion, session, err = s.WebAuthn.BeginDiscoverableLogin(opts...)
	} else {
		u, _, uerr := s.passkeyUserOf(ctx, realm, user)
		if uerr != nil {
			return nil, uerr
		}
		if len(u.creds) == 0 {
			return nil, ErrNoPasskey
		}
		assertion, session, err = s.WebAuthn.BeginLogin(u, opts...)
	}
	if err != nil {
		return nil, err
	}
	return assertion, s.remember(ctx, realm, flow, session)
}

// FinishPasskeyLogin checks the browser's answer to BeginPasskeyLogin
// (parsed; nil for one that did not parse) and returns who signed in, with
// which passkey. The passkey's sign counter and flags are kept; a counter
// that went backwards (a cloned key) is refused. A refused answer, a
// malformed one too, counts as a wrong code toward the lockouts.
func (s *Devices) FinishPasskeyLogin(ctx context.Context, sc Scope, user, flow string, answer *protocol.ParsedCredentialAssertionData) (string, *Device, error) {
	fail, err := s.takeTry(ctx, sc, user) // a named answer's slot among MaxFailures
	if err != nil {
		return "", nil, err
	}
	defer func() { s.giveBackNow(ctx, fail) }() // nil once a wrong answer keeps it
	session, err := s.recall(ctx, sc.Realm, flow)
	if err != nil {
		return "", nil, err
	}
	// A store that cannot answer is a fault (a 503), not a refused passkey.
	var cred *webauthn.Credential
	var read *store.Op // the device list the answer was checked against
	var refused, fault error
	named := user != ""
	switch {
	case answer == nil:
		refused = ErrPasskey
	case named:
		var u *passkeyUser
		if u, read, err = s.passkeyUserOf(ctx, sc.Realm, user); err != nil {
			return "", nil, err
		}
		// A passkey registered under a signing secret since replaced
		// presents its handle as registered (presented): the ceremony,
		// begun under the handle of the key in use, takes it too.
		derived := u.handle
		if took, err := s.presented(ctx, sc.Realm, u, answer.Response.UserHandle); err != nil {
			return "", nil, err
		} else if took && hmac.Equal(session.UserID, derived) {
			session.UserID = u.handle
		}
		cred, refused = s.WebAuthn.ValidateLogin(u, session, answer)
	default:
		var found webauthn.User
		found, cred, refused = s.WebAuthn.ValidatePasskeyLogin(func(_, handle []byte) (webauthn.User, error) {
			owner, err := s.Store.Get(ctx, handleKey(sc.Realm, handle))
			if err == nil {
				var u *passkeyUser
				u, read, err = s.passkeyUserOf(ctx, sc.Realm, string(owner))
				if err == nil {
					u.handle = handle // hers by its record, under whichever key it was made
					return u, nil
				}
			}
			if !errors.Is(err, store.ErrNotFound) {
				fault = err
			}
			return nil, ErrPasskey
		}, session, answer)
		if fault != nil {
			return "", nil, fault
		}
		if found != nil {
			user = found.WebAuthnName()
		}
	}
	if refused == nil && cred.Authenticator.CloneWarning {
		refused = ErrPasskey
	}
	var used *Device
	if refused == nil {
		used, err = s.keepSignCount(ctx, sc.Realm, user, cred, read)
		switch {
		case errors.Is(err, errCloned):
			refused = ErrPasskey
		case err != nil:
			return "", nil, err
		}
	}
	if refused != nil {
		// A wrong answer counts toward the lockouts; account-wide only for
		// a named user (a discoverable answer's user is only claimed).
		fail = nil // a wrong answer keeps its slot
		if user != "" {
			if locked, err := s.recordFailure(ctx, sc, user, named); err != nil || locked != nil {
				return "", nil, cmpErr(err, locked)
			}
		}
		return "", nil, ErrPasskey
	}
	// The failures forgotten (the slot goes with the window) and a
	// passkey from before credentials were recorded recorded now, in one
	// round trip; that record made lasting where it was written.
	var done store.Batch
	s.forgetFailures(&done, sc, user)
	key := credKey(sc.Realm, cred.ID)
	recorded := done.PutIfAbsent(key, []byte(user), 0)
	_ = store.Do(ctx, s.Store, &done)
	fail = nil
	if recorded.OK {
		_ = s.Store.Update(store.Lasting(ctx), key, func(owner []byte, found bool) ([]byte, time.Duration, error) {
			if !found || string(owner) != user {
				return nil, 0, store.ErrUnchanged // claimed since: the claim's
			}
			return owner, 0, nil
		})
	}
	return user, used, nil
}
