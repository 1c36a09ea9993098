package signin

import (
	"strings"

	"github.com/smsgate/caddy-smsgate/session"
)

// GiveNumbers tells the gate the numbers (E.164) the config that starts
// gives each provisioned user at any gate of its realm on its store
// (admin.App.Start: their union, this gate's among them): what one of
// them earned stands here (Gives). Until then, the gate's own `user`
// lines.
func (s *Service) GiveNumbers(numbers map[string][]string) { s.given.Store(&numbers) }

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
	id, ok := strings.CutPrefix(mark, session.NumberMark(""))
	for _, e164 := range numbers {
		if ok && id != "" && s.Devices.NumberID(e164) == id {
			return e164
		}
	}
	return ""
}
