package session

import "strings"

// What a config's phone earned. A provisioned user's phone (the config's
// `user` line) has no device record: the session its code earns names it
// by a mark in its Device (NumberMark: "provisioned:" and the number's
// keyed hash, signin's NumberID, never the number), as do the trust that
// sign-in made (TrustedBrowser.Device) and every session that trust gives
// (IssueTrusted), so that each stands only where the config running now
// still gives that user that number (CheckNumbers): once the admin gives
// her another number, or deletes her line, what the old number earned is
// refused at every gate whose config says so, without a store's record —
// also what it earned at a gate still on the old config meanwhile (a
// reload's overlap, a load that failed after the settle), at another
// instance, or while the store failed the settle (signin.SettleProvisioned).

// numberMark begins a mark: no device's ID does (enrollment.RandomID).
const numberMark = "provisioned:"

// NumberMark is the Device of what the config's phone earned whose
// number's keyed hash is id.
func NumberMark(id string) string { return numberMark + id }

// IsNumberMark reports whether device, a session's or a trust's Device,
// names a config's phone (NumberMark) rather than a device.
func IsNumberMark(device string) bool { return strings.HasPrefix(device, numberMark) }

// Gives reports whether the config running gives user the number that
// mark (NumberMark) names.
type Gives func(user, mark string) bool

// CheckNumbers has m refuse a session or a trust that a config's phone
// earned (its Device a NumberMark) unless gives says the config gives
// its user that number: refused as a revoked one is (Uncached's nil,
// Trusted's ErrNotTrusted). Set once, before the owner serves. A session
// is asked once, before it is cached: the numbers a gate is given only
// grow while it runs (its own `user` lines, then, at the config's start,
// those of every gate of its realm on its store, theirs among them), so
// a repeat visit reads nothing more.
func (m *Manager) CheckNumbers(gives Gives) { m.gives = gives }

// NumberGiven reports whether what device earned (a session's, a trust's
// or a known-browser cookie's Device; nil in one of a release before it)
// stands for user: a device, none, or a number the config gives user.
func (m *Manager) NumberGiven(user string, device *string) bool {
	return m.gives == nil || device == nil || !IsNumberMark(*device) || m.gives(user, *device)
}
