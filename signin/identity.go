package signin

import (
	"errors"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/phone"
)

// MaxIdentity is the longest name, in bytes, the gate signs in: what a
// first factor names, or what is typed at a login form.
const MaxIdentity = 256

// CheckAdmins checks the console's admins (the admins option): names a
// first factor could give, each once.
func CheckAdmins(names []string) error {
	seen := make(map[string]bool)
	for _, name := range names {
		switch {
		case name == "" || !textsafe.Clean(name) || len(name) > MaxIdentity:
			return fmt.Errorf("%q: a name must be at most %d bytes, without control, direction or invisible characters", textsafe.Escape(name), MaxIdentity)
		case seen[name]:
			return fmt.Errorf("%q is named twice", name)
		}
		seen[name] = true
	}
	return nil
}

// CheckUsers checks the provisioned users, their numbers as written:
// named once each, with names that show as they are and numbers that
// parse, and, where a login form asks (form), one user to a number: there
// a number typed names its user (behind a first factor two accounts may
// share a phone); and numbers the policy lets one of the channels kinds
// takes (requires, where it requires any) reach: a user whose number it
// refuses could never sign in where kinds takes (or requires) phone codes
// only; where it takes apps or passkeys, one
// enrolled before still signs them in (a policy tightened, an upgrade
// that refuses what loaded), so log warns instead. A mistake comes with
// the index of the user it is in; where names two users' places (their
// lines, or their indices).
func CheckUsers(users []User, region string, form bool, policy *phone.Policy, kinds *Policy, channels []factor.Channel, log *zap.Logger, where func(i, j int) string) (int, error) {
	passing := kinds.Factors // the kinds a session may be earned with to pass: require's, where it names any
	if len(kinds.Require) > 0 {
		passing = kinds.Require
	}
	phoneOnly := !slices.Contains(passing, factor.TOTP) && !slices.Contains(passing, factor.WebAuthn)
	channels = slices.DeleteFunc(kinds.Channels(channels), func(ch factor.Channel) bool { return !slices.Contains(passing, ch.Kind()) })
	seen := make(map[string]bool)
	owner := make(map[string]int) // a number's first user, by index
	for i, u := range users {
		switch {
		case u.Name == "":
			return i, errors.New("a provisioned user has no name")
		case seen[u.Name]:
			return i, fmt.Errorf("user %q is provisioned twice", u.Name)
		case !textsafe.Clean(u.Name) || len(u.Name) > MaxIdentity:
			return i, fmt.Errorf("user %q: a name must be at most %d bytes, without control, direction or invisible characters", textsafe.Escape(u.Name), MaxIdentity)
		}
		seen[u.Name] = true
		num, err := phone.Parse(u.Phone, region)
		if err == nil {
			if err = policy.Unreachable(num, channels); err != nil && !phoneOnly {
				if log != nil {
					log.Warn("a provisioned user's number the number policy refuses: only an app or passkey enrolled before signs them in",
						zap.String("user", u.Name), zap.String("phone", phone.Mask(num)), zap.Error(err))
				}
				err = nil
			}
		}
		if err != nil {
			return i, fmt.Errorf("user %q: phone %q: %s", u.Name, phone.MaskDigits(u.Phone), phone.WithExample(err, region)) // the log never holds a whole number, even one mistyped
		}
		if j, ok := owner[num]; ok && form {
			return i, fmt.Errorf("users %s and %s have one phone number (%s): typed at the login form, it could name only one of them; give each user their own",
				users[j].Name, u.Name, where(j, i))
		}
		owner[num] = i
	}
	return 0, nil
}

// Identity is where the gate learns who is signing in: a first factor in
// front of it (basic_auth, an SSO's forward_auth), or a login form where
// users name themselves. Everything that differs between the two lives in
// its two implementations, not in branches across the sign-in.
type Identity interface {
	// user is who is signing in: the first factor's name (prior), or the
	// name the flow took at the login form.
	user(prior string, f *Flow) string
	// first is the step for a user without a pending code, given whether
	// they have a phone.
	first(user string, hasPhone bool) Step
	// Admits reports whether a session of sessionUser may pass where the
	// first factor names prior.
	Admits(sessionUser, prior string) bool
	// NamesThemselves reports whether users name themselves: then pages
	// never show whose number a code went to, and unknown names get
	// decoys instead of answers.
	NamesThemselves() bool
	// names reports whether this gate signs in user (a login form that
	// names its users admits only those).
	names(user string) bool
}

// FirstFactor is an identity a first factor in front of the gate gives.
type FirstFactor struct {
	// Open lets a user with no phone enroll one (trust on first use).
	Open bool
}

func (FirstFactor) user(prior string, _ *Flow) string { return prior }

func (ff FirstFactor) first(_ string, hasPhone bool) Step {
	switch {
	case hasPhone:
		return Verify
	case ff.Open:
		return Enroll
	}
	return Closed
}

// Admits a session only while it names the user the first factor names.
func (FirstFactor) Admits(sessionUser, prior string) bool { return sessionUser == prior }

// NamesThemselves implements Identity.
func (FirstFactor) NamesThemselves() bool { return false }

func (FirstFactor) names(string) bool { return true }

// LoginForm is identity "none": users type their name or number.
type LoginForm struct {
	// Named, if any, are the only users this gate signs in and admits
	// (so that two gates on one store do not open each other's routes).
	Named map[string]bool
}

func (LoginForm) user(_ string, f *Flow) string { return f.User }

func (LoginForm) first(user string, _ bool) Step {
	if user == "" {
		return Login
	}
	return Verify
}

// Admits any session of the realm, or only those of the named users.
func (lf LoginForm) Admits(sessionUser, _ string) bool { return lf.names(sessionUser) }

// NamesThemselves implements Identity.
func (LoginForm) NamesThemselves() bool { return true }

func (lf LoginForm) names(user string) bool { return len(lf.Named) == 0 || lf.Named[user] }
