package admin

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/factor"
)

// Checks is what a gate checks before it sends a code to a number (its
// number policy, and a provider's Lookup) and, with a first factor,
// whence it takes the user's name: the smsgate handler's JSON fields of
// the same names. A session records how it was earned (amr), not these:
// so the gates of one realm that differ in them share sessions a looser
// one issued (see warnMixedChecks).
type Checks struct {
	AllowedRegions []string                    `json:"allowed_regions,omitempty"`
	ChannelRegions map[factor.Channel][]string `json:"channel_regions,omitempty"`
	AllowPrefixes  []string                    `json:"allow_prefixes,omitempty"`
	DenyPrefixes   []string                    `json:"deny_prefixes,omitempty"`
	NumberTypes    map[factor.Channel][]string `json:"number_types,omitempty"`
	Providers      []ProviderChecks            `json:"providers,omitempty"`
	IdentityFrom   []string                    `json:"identity_from,omitempty"`
}

// ProviderChecks is what the admin reads of a provider's config: its
// name and its Lookup (never its secrets).
type ProviderChecks struct {
	Provider string          `json:"provider"`
	Lookup   json.RawMessage `json:"lookup,omitempty"`
}

// differences names the options in which c and o check differently
// before a code, or in the first factor's source (with a first factor on
// both: a login form's sessions are marked, session.Claims.LoginForm, and
// refused by a gate with a first factor), and step_up and max_age where
// they make the gates hold a change at the devices page to sign-ins of
// different ages (changeHold): the devices page of each gate changes the
// realm's phones, so a session the stricter gate would send to a step-up
// adds a phone at the other's. Not session_lifetime nor remember: each
// gate holds a session, and one a trust gave, to its own
// (session.Manager.withinLifetime, trustedHere), so neither opens a gate
// that differs in it.
func (c *Config) differences(o *Config) []string {
	var out []string
	same := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			out = append(out, name)
		}
	}
	same("allowed_regions", c.AllowedRegions, o.AllowedRegions)
	same("channel_regions", c.ChannelRegions, o.ChannelRegions)
	same("allow_prefixes", c.AllowPrefixes, o.AllowPrefixes)
	same("deny_prefixes", c.DenyPrefixes, o.DenyPrefixes)
	same("number_types", c.NumberTypes, o.NumberTypes)
	same("lookup", c.lookups(), o.lookups())
	if c.Identity != identityNone && o.Identity != identityNone {
		same("identity", c.Identity, o.Identity)
		same("identity_from", c.IdentityFrom, o.IdentityFrom)
	}
	if c.changeHold() != o.changeHold() {
		same("step_up", c.StepUp, o.StepUp)
		same("max_age", c.MaxAge, o.MaxAge)
	}
	return out
}

// changeHold is how recent a code must be for a change at the gate's
// devices page: step_up, or max_age where it is shorter (as the devices
// page and the passkey ceremony hold it). Gates alike in it (the same
// step_up, no longer than the shortest max_age) are not warned of.
func (c *Config) changeHold() time.Duration {
	hold := time.Duration(c.StepUp)
	if m := time.Duration(c.MaxAge); m > 0 && (hold <= 0 || m < hold) {
		hold = m
	}
	return hold
}

// lookups are the gate's providers' Lookup options, each as its provider
// and options (where Lookup lives aside: a test's or a proxy's address
// checks the same).
func (c *Config) lookups() []string {
	var out []string
	for _, p := range c.Providers {
		var opts map[string]any
		if json.Unmarshal(p.Lookup, &opts) != nil || opts == nil {
			continue
		}
		delete(opts, "base_url")
		b, _ := json.Marshal(opts) // sorted keys
		out = append(out, p.Provider+" "+string(b))
	}
	return out
}

// where names a gate in a warning: its site, and where its pages are.
func (c *Config) where() string {
	return strings.TrimSpace(c.SiteOrigin + " " + c.prefix())
}

// MixedChecks is realm_checks_differ's warning.
const MixedChecks = "gates of one realm check differently before a code, and share their sessions: a session the looser gate issues opens the stricter one. " +
	"Give the stricter gate its own realm (realm admin.example.com, say) for it to sign its users in itself " +
	"(where only step_up or max_age differ, the devices page of the looser gate changes the realm's phones with a staler sign-in: " +
	"give every gate of the realm the same step_up, no longer than the shortest max_age among them)"

// warnMixedChecks warns, when s registers, of each gate of its realm on
// its store that checks differently before a code or in its first factor
// (differences): sessions are the realm's, so the stricter gate admits a
// session the looser one issued (a code texted to a SIM swapped an hour
// ago, where the stricter gate's Lookup would have refused to send it).
// A warning, not a refusal: such configs load today, and the admin may
// mean it; the cure is the stricter gate's own realm.
func (s *Site) warnMixedChecks() {
	if s.Logger == nil {
		return
	}
	for _, g := range s.realmGates()[1:] {
		if diff := s.differences(&g.Config); len(diff) > 0 {
			s.Logger.Warn(MixedChecks,
				zap.String("event", "realm_checks_differ"), zap.String("realm", s.Realm),
				zap.String("gate", s.where()), zap.String("other_gate", g.where()), zap.Strings("differ", diff))
		}
	}
}
