// Package signin is the sign-in, without HTTP: who is signing in (Identity),
// where they go next (Step), sending and checking codes, decoys for unknown
// users, recovery codes, phones added and removed, notices to the other
// phones, and invites. The HTTP layer (caddymodule) reads requests, calls
// it, and renders what it answers.
package signin

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// User is a provisioned user: a name and a phone from the config.
type User struct {
	Name  string
	Phone string // E.164
}

// Flow is a sign-in in progress. The HTTP layer keeps it in a sealed
// cookie: the client can neither read nor change it.
type Flow struct {
	// ID names the sign-in, for its throttles in the store.
	ID string `json:"id,omitempty"`
	// User is who is signing in, when they named themselves.
	User string `json:"usr,omitempty"`
	// Challenge is the ID of the code that was sent, if any.
	Challenge string `json:"ch,omitempty"`
	// Unconfirmed says the gateway could not confirm that Challenge's
	// code went out, though it may have (enrollment.Challenge's
	// Unconfirmed): the verify page says so. Never after a login form's
	// blind send, which is answered as any send is.
	Unconfirmed bool `json:"unc,omitempty"`
	// LimitKey is what cooldowns and per-user limits count for this sign-in
	// (what was typed at the login page), when not User.
	LimitKey string `json:"lk,omitempty"`
	// Enrolling is the number a first phone's code went to, so that a
	// new code can go there without typing it again; EnrollingFor is who
	// typed it (the flow's User names nobody where the identity is a
	// header, and one browser may serve two users): only theirs
	// (EnrollingOf). A flow of the release before names nobody, so its
	// number is typed again.
	Enrolling    string `json:"en,omitempty"`
	EnrollingFor string `json:"enu,omitempty"`
	// InvitedAt is when that invite was minted, or the recovery code used
	// (Unix nanoseconds): a reset of the user since ends what it lets in
	// (readStanding).
	InvitedAt int64 `json:"ina,omitempty"`
	// Invitee is the user an admin's invite, or a recovery code of a user
	// with no device left (useRecovery), was for: they may enroll a phone
	// even where enrollment is closed. User may change within the flow
	// (another name typed at a login form); the invite does not. (The
	// previous release's "inv", which named nobody, is not read: its flow
	// enrolls nobody.)
	Invitee string `json:"ivu,omitempty"`
	// InviteID is the ID of the invite the flow accepted (none for a
	// recovery code's enrollment, nor for a flow of the release before):
	// a newer invite minted for the user since ends what it lets in
	// (enrollment.ReadReplaced), as a reset does.
	InviteID string `json:"ivi,omitempty"`
	// RecoveryID is the ID the recovery code that let the flow enroll
	// marked her record of invites with before it was burnt
	// (enrollment.MarkRecovery): a reset, revoke or sign-out everywhere
	// since, or a newer invite, ends what it lets in by that ID, whatever
	// the clocks (clock32). None for a flow of the release before.
	RecoveryID string `json:"rci,omitempty"`
	// InvitedBy is the admin who minted at the console the invite the
	// flow accepted (enrollment.Invite.By): what it lets in stands only
	// while she is an admin of the realm (MinterStands). None for the
	// admin API's or the CLI's invite, nor for a flow of the release
	// before.
	InvitedBy string `json:"ivb,omitempty"`
}

// EnrollingOf is the number user's first phone's code died at in this
// flow (Enrolling), or "" where it was another's, or none.
func (f *Flow) EnrollingOf(user string) string {
	if user == "" || f.EnrollingFor != user {
		return ""
	}
	return f.Enrolling
}

// Auditor hears the sign-in's audit events (numbers are masked by it).
type Auditor func(event, user, e164 string, fields ...zap.Field)

// Service runs sign-ins for one realm.
type Service struct {
	Identity Identity
	// Users are the provisioned users, by name and by number.
	Users, Phones map[string]User
	// Challenges sends and checks codes, Devices keeps phones and
	// recovery codes, Invites are the admin's enrollment links.
	Challenges *enrollment.Challenges
	Devices    *enrollment.Devices
	Invites    *enrollment.Admin
	// Strangers bounds what people the gate does not know may make it keep.
	Strangers *enrollment.Strangers
	// Notices delivers notices to a user's phones (the provider chain).
	Notices providers.Sender
	// Site names the site in notices; Host is its configured host.
	Site, Host string
	// Channels are how codes may travel, the default first.
	Channels []factor.Channel
	// CodeLength is the number of digits in a code.
	CodeLength int
	// DefaultRegion is the country of numbers typed without +.
	DefaultRegion string
	// AllowRemoveLast lets users remove their last phone.
	AllowRemoveLast bool
	// Admins are this gate's console admins (the admins option): an
	// invite one of them minted is honoured while she is an admin of a
	// gate of the realm (MinterStands, GiveAdmins).
	Admins []string
	Audit  Auditor
	Logger *zap.Logger
	Now    func() time.Time
	// Revoked adds to b the read of when user's sessions were last all
	// ended (a reset, a revoke, a sign-out everywhere: session.ReadRevoked)
	// and returns it, zero if never, once b is done; an invite minted
	// before that is dead. b runs on Devices.Store, which must be the
	// store the sessions keep it in. Nil: invites are never ended.
	Revoked func(b *store.Batch, realm, user string) func() (time.Time, error)
	// Later runs work that outlives its request (a notice sent after the
	// answer), so that its owner waits for it before closing the store;
	// nil: a goroutine of its own.
	Later func(work func())
	// RekeyTurn, where set, waits for the gate's turn to re-key its
	// realm's records (Rekey, then in the background): none for a gate
	// whose config was replaced (admin.Site.RekeyTurn).
	RekeyTurn func(ctx context.Context) (done func(), ok bool)
	// RekeyOn, with RekeyTurn, reports whether a failed re-keying is to be
	// tried again: the gate's config neither replaced nor stopped.
	RekeyOn func() bool

	given    atomic.Pointer[map[string][]string] // GiveNumbers
	admins   atomic.Pointer[[]string]            // GiveAdmins
	rekeying sync.Map                            // old key → struct{}: a re-keying from it not done (Rekey)
	twins    sync.Map                            // realm → *twinNames: enrolled names where enrollments begin (caseTwin)
}

// later runs work after the request, through Later.
func (s *Service) later(work func()) {
	if s.Later != nil {
		s.Later(work)
		return
	}
	go work()
}

// Errors the sign-in answers with; their text is safe to show.
var (
	ErrName        = words.New("signin.name")
	ErrNoCalls     = words.New("signin.no_calls")
	ErrNoTexts     = words.New("signin.no_texts")
	ErrOtherInvite = words.New("invite.other")
	// ErrInviteNotHere refuses an invite for a user this gate's login
	// form does not sign in (it names its users, and not this one).
	ErrInviteNotHere = words.New("invite.not_here")
	// ErrRecoveryNotHere refuses to enroll, by a recovery code, a first
	// phone for a user this gate's login form does not sign in.
	ErrRecoveryNotHere = words.New("recovery.not_here")
)

// CodeFormatError says what was typed is not a code of the right length.
type CodeFormatError struct{ Length int }

func (e *CodeFormatError) Words() words.Text {
	return words.Text{ID: "code.format", Args: map[string]any{"n": e.Length}}
}
func (e *CodeFormatError) Error() string { return words.English.Render("en", e.Words()) }

// AskPhoneError asks for the number again (verify-only mode keeps none).
type AskPhoneError struct{ Err error }

func (e *AskPhoneError) Error() string { return e.Err.Error() }
func (e *AskPhoneError) Unwrap() error { return e.Err }

// InputError is something typed that cannot be used (a malformed number).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// StepError sends the user to another step instead.
type StepError struct{ Step Step }

func (e *StepError) Error() string { return "go on to " + e.Step.String() }

// User is who is signing in: prior is the first factor's name ("" without one).
func (s *Service) User(prior string, f *Flow) string { return s.Identity.user(prior, f) }

// Next is where user goes when no code is pending: verify when a phone is
// known, enroll when it is not and they may, login when nobody is named,
// or a dead end.
func (s *Service) Next(ctx context.Context, realm string, f *Flow, user string) (Step, error) {
	if f.InvitedAs(user) || !s.Identity.NamesThemselves() {
		has, err := s.HasDevice(ctx, realm, user)
		if err != nil {
			return 0, err
		}
		if f.InvitedAs(user) && !has {
			ok, err := s.inviteStands(ctx, realm, user, f)
			if err != nil {
				return 0, err
			}
			if ok {
				return Enroll, nil
			}
			f.Invitee = "" // ended by a reset or a newer invite since it was accepted, or used (a copy of the flow)
		}
		return s.Identity.first(user, has), nil
	}
	return s.Identity.first(user, false), nil
}

// Lookup finds a user by name or by phone number: provisioned users first,
// then devices in the store. It returns "" for a user it does not know, or
// one this gate does not sign in, and the store's error when it could not
// read it (for any name: the error tells nobody apart).
//
// It reads the store the same way whoever is named, so that the work done
// does not tell a known user from an unknown one.
func (s *Service) Lookup(ctx context.Context, realm, name string) (user, e164 string, err error) {
	return s.lookup(ctx, realm, name, s.DefaultRegion)
}

// lookup is Lookup with a number typed without + read as region's.
//
// A store that does not answer ends it: each read of a stopped Redis
// costs go-redis's retries (about 1.7 s), and a sign-in that went on to
// its challenge's reads (a pipeline: twice that) after this one failed
// answered its 503 after 5 s instead of 1.7 s, and after more than the
// tests' 10 s on a loaded machine (TestALoginAgainstADownStoreFailsAtOnce).
func (s *Service) lookup(ctx context.Context, realm, name, region string) (user, e164 string, err error) {
	num, perr := phone.Parse(name, region)
	list, err := s.Devices.List(ctx, realm, name)
	if err != nil {
		return "", "", err
	}
	d := enrollment.DefaultPhone(list)
	owner, err := s.Devices.Owner(ctx, realm, num)
	if err != nil {
		return "", "", err
	}
	switch u, ok := s.Users[name]; {
	case ok:
		user, e164 = u.Name, u.Phone
	case perr == nil && s.Phones[num].Name != "":
		user, e164 = s.Phones[num].Name, num
	case perr == nil && owner != "":
		user, e164 = owner, num // verify-only: the number typed is the number
	case perr != nil && d != nil && d.Phone != "":
		user, e164 = name, d.Phone
	case perr != nil && s.ConfigPhone(name) != "":
		user, e164 = name, s.ConfigPhone(name) // another gate of the realm gives it
	case perr != nil && enrollment.HasKind(list, factor.App):
		user = name // no phone to text: the app's code, at the verify step
	}
	if user == "" || !s.Identity.names(user) {
		return "", "", nil
	}
	return user, e164, nil
}

// HasDevice reports whether user has anything to sign in with here: a
// phone the config gives her (at any gate of the realm: ConfigPhone), or
// an enrolled phone or app.
func (s *Service) HasDevice(ctx context.Context, realm, user string) (bool, error) {
	if s.ConfigPhone(user) != "" {
		return true, nil
	}
	list, err := s.Devices.List(ctx, realm, user)
	return len(list) > 0, err
}

// DevicesOf is user's enrolled devices (the default first) and the phone
// they sign in with (as DeviceOf), from one read of the store.
func (s *Service) DevicesOf(ctx context.Context, realm, user string) ([]enrollment.Device, *enrollment.Device, error) {
	list, err := s.Devices.List(ctx, realm, user)
	if u, ok := s.Users[user]; ok {
		return list, &enrollment.Device{Phone: u.Phone}, err
	}
	return list, s.orGiven(user, enrollment.DefaultPhone(list)), err
}

// DeviceOf is the phone user signs in with: provisioned here, else
// enrolled (in verify-only mode, with only a hash of its number), else
// the one another gate of the realm gives her (ConfigPhone), else nil.
func (s *Service) DeviceOf(ctx context.Context, realm, user string) (*enrollment.Device, error) {
	if u, ok := s.Users[user]; ok {
		return &enrollment.Device{Phone: u.Phone}, nil
	}
	d, err := s.Devices.Default(ctx, realm, user)
	if err != nil {
		return nil, err
	}
	return s.orGiven(user, d), nil
}

// orGiven is d, else the phone another gate of the realm gives user
// (ConfigPhone: no device record), else nil. Her enrolled phone comes
// first at a gate without her line: what she signed in with there before
// another gate gave her a phone stays.
func (s *Service) orGiven(user string, d *enrollment.Device) *enrollment.Device {
	if e164 := s.ConfigPhone(user); d == nil && e164 != "" {
		return &enrollment.Device{Phone: e164}
	}
	return d
}

// Pending is the flow's challenge, if there is one and it is user's.
func (s *Service) Pending(ctx context.Context, realm string, f *Flow, user string) (*enrollment.Challenge, error) {
	c, err := s.Challenges.Challenge(ctx, realm, f.Challenge)
	if errors.Is(err, enrollment.ErrNoChallenge) || (err == nil && c.User != user) {
		return nil, nil // none, or another user's flow: not ours to finish
	}
	return c, err
}

// discard kills the flow's pending challenge: a new number or a new
// sign-in means a new code, and the old one stops working.
func (s *Service) discard(ctx context.Context, realm string, f *Flow) {
	if f.Challenge != "" {
		s.discardChallenge(ctx, realm, f.Challenge)
		f.Challenge, f.Unconfirmed = "", false
	}
}

// pending makes c the flow's challenge, and says whether its send could
// not be confirmed.
func (f *Flow) pending(c *enrollment.Challenge) {
	f.Challenge, f.Unconfirmed = c.ID, c.Unconfirmed != nil
}

// discardChallenge ends the challenge id; a store that cannot is logged
// (the challenge then ends at its expiry).
func (s *Service) discardChallenge(ctx context.Context, realm, id string) {
	if err := s.Challenges.Discard(ctx, realm, id); err != nil {
		s.Logger.Error("discarding challenge", zap.Error(err))
	}
}

func (s *Service) audit(event, user, e164 string, fields ...zap.Field) {
	if s.Audit != nil {
		s.Audit(event, user, e164, fields...)
	}
}
