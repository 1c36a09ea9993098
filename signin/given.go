package signin

import (
	"context"
	"slices"

	"github.com/smsgate/caddy-smsgate/session"
)

// GiveNumbers tells the gate the numbers (E.164) the config that starts
// gives each provisioned user at any gate of its realm on its store
// (admin.App.Start: their union, this gate's among them): what one of
// them earned stands here (Gives). Until then, the gate's own `user`
// lines.
func (s *Service) GiveNumbers(numbers map[string][]string) { s.given.Store(&numbers) }

// NumbersOf is the numbers (E.164) gates give each provisioned user:
// their union, sorted, each once. Built once for the gates of a realm on one
// store (admin.App.Start), it is what each of them is given (GiveNumbers)
// and what the settle keeps (SettleProvisioned).
func NumbersOf(gates []*Service) map[string][]string {
	given := map[string][]string{}
	for _, g := range gates {
		for name, u := range g.Users {
			given[name] = append(given[name], u.Phone)
		}
	}
	for name, numbers := range given {
		slices.Sort(numbers)
		given[name] = slices.Compact(numbers)
	}
	return given
}

// Gives reports whether the config gives user the number mark
// (session.NumberMark) names: a session or a trust a config's phone
// earned stands only while it does (session.Manager.CheckNumbers). It
// hashes the user's numbers (a session's first check at the gate, not a
// repeat visit's: the hash's key is the store's secret, which may change).
func (s *Service) Gives(user, mark string) bool { return s.Given(user, mark) != "" }

// Given is the number (E.164) the config gives user that mark names, or
// "" where it gives none (a number lost, or no mark): the admin's console
// shows, masked, which number a device was added from (Device.AddedBy).
func (s *Service) Given(user, mark string) string {
	var numbers []string
	if given := s.given.Load(); given != nil {
		numbers = (*given)[user]
	} else if u, ok := s.Users[user]; ok {
		numbers = []string{u.Phone}
	}
	for _, e164 := range numbers {
		if s.marks(mark, e164) {
			return e164
		}
	}
	return ""
}

// numberMark is the mark of what the config's phone e164 earned: a
// session's and a trust's Device, a set of codes' maker, a device's
// AddedBy (session.NumberMark of its keyed hash, enrollment.Core.NumberID,
// never the number).
func (s *Service) numberMark(e164 string) string {
	return session.NumberMark(s.Devices.NumberID(e164))
}

// marks reports whether mark is e164's (numberMark).
func (s *Service) marks(mark, e164 string) bool { return e164 != "" && mark == s.numberMark(e164) }

// ConfigPhone is the phone the config gives user (`user carol +1…`),
// E.164, or "": this gate's own line's, else the first of the numbers the
// realm's other gates give her (GiveNumbers, sorted). It is hers at every
// gate of the realm: a gate without her line asks for a code to it where
// she has no phone enrolled (HasDevice, DeviceOf), never takes her for a
// newcomer that open enrollment, an invite or a recovery code lets enroll
// a first phone (whoever held her password enrolled his own, and its
// session opened the gate that gives her the phone: attack34 F2). Her
// devices page lists it, masked, with no Remove. It signs her in and
// cannot be removed, so the rule that keeps a user one device counts it
// (RemovePhone): with one, her only device of her own (an app, a
// passkey, a phone) may go.
func (s *Service) ConfigPhone(user string) string {
	if u, ok := s.Users[user]; ok {
		return u.Phone
	}
	if given := s.given.Load(); given != nil && len((*given)[user]) > 0 {
		return (*given)[user][0]
	}
	return ""
}

// RecoveryMade counts user's unused recovery codes, and says whether she
// holds a set at all (enrollment.Devices.RecoveryCodesMade).
func (s *Service) RecoveryMade(ctx context.Context, realm, user string) (int, bool, error) {
	return s.Devices.RecoveryCodesMade(ctx, realm, user)
}

// ConfigUsers names the users the config gives a phone (ConfigPhone) at
// any gate of the realm, sorted: the admin's console lists them, those
// with no device record of their own too, and the admin's tools mint
// none of them an invite (RefuseInvite).
func (s *Service) ConfigUsers() []string {
	var names []string
	if given := s.given.Load(); given != nil {
		for name, numbers := range *given {
			if len(numbers) == 0 {
				continue
			}
			names = append(names, name)
		}
	}
	for name := range s.Users {
		names = append(names, name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
