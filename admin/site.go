package admin

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/figures"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/recent"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
)

// Config is what the admin's tools read of a gate's config: the smsgate
// handler's JSON fields of the same names (caddymodule.Gate documents
// them). The CLI reads them from a stopped Caddy's config; a running gate
// hands them over when it registers.
type Config struct {
	Realm         string          `json:"realm,omitempty"`
	StoreConfig   json.RawMessage `json:"store,omitempty"`
	Require       []factor.Kind   `json:"require,omitempty"`
	PathPrefix    string          `json:"path_prefix,omitempty"`
	PublicOrigin  string          `json:"public_origin,omitempty"`
	SiteOrigin    string          `json:"site_origin,omitempty"`
	SigningKey    string          `json:"signing_key,omitempty"`
	DefaultRegion string          `json:"default_region,omitempty"`
	Costs         *figures.Costs  `json:"costs,omitempty"`
	PumpingGuard  *pumping.Config `json:"pumping_guard,omitempty"`
	// Identity and Provisioned (the users option) say whom the gate signs
	// in: with identity none (a login form) and users, only those users
	// (see admits).
	Identity    string `json:"identity,omitempty"`
	Provisioned []User `json:"users,omitempty"`
	// StepUp and MaxAge say how recent a code must be for a change at the
	// gate's devices page (changeHold; defaults applied where a gate runs).
	StepUp caddy.Duration `json:"step_up,omitempty"`
	MaxAge caddy.Duration `json:"max_age,omitempty"`
	Checks
}

// User is a user the gate's config provisions, as the admin's tools read
// it: the name (the number is the gate's business).
type User struct {
	Name string `json:"name"`
}

// identityNone is the identity of a gate whose users name themselves at
// its login form (caddymodule.IdentityNone).
const identityNone = "none"

// admits says whether the gate signs user in, as far as its config can
// tell: a login form that names its users (identity none, users) signs in
// only them (signin.LoginForm, whose rule this is), and one that names
// none, any name. A first factor's gate (basic_auth, an SSO) signs in
// whomever the first factor names, which its config does not say (the
// accounts are another handler's, or another server's): it may admit any
// name, and is taken to.
func (c *Config) admits(user string) bool {
	if c.Identity != identityNone {
		return true
	}
	named := make(map[string]bool, len(c.Provisioned))
	for _, u := range c.Provisioned {
		named[u.Name] = true
	}
	return signin.LoginForm{Named: named}.Admits(user, "")
}

// StoreID names the gate's store by its config (see continuity.Identity).
func (c *Config) StoreID() string { return continuity.Identity(c.StoreConfig) }

// LinkOrigin is where the links the admin's tools print point: the public
// origin, else the site's own address, else https and the realm.
func (c *Config) LinkOrigin() string {
	switch {
	case c.PublicOrigin != "":
		return strings.TrimSuffix(c.PublicOrigin, "/")
	case c.SiteOrigin != "":
		return strings.TrimSuffix(c.SiteOrigin, "/")
	}
	return "https://" + c.Realm
}

// defaultPrefix is where a gate's pages are unless path_prefix moves them.
const defaultPrefix = "/.smsgate/"

// prefix is where the gate's pages are.
func (c *Config) prefix() string {
	if c.PathPrefix == "" {
		return defaultPrefix
	}
	return c.PathPrefix
}

// inviteGate is the gate an invite for user leads to, where one may be
// minted for her at all: never where the config gives her a phone at a
// gate of the realm (configUsers, signin.RefuseInvite: she enrolls
// nothing, so a login form's own users get none), nor for her twin (her
// name in other capitals, spacing or invisible characters: the refusal
// names her spelling). Else one of the realm's
// gates on s's store (s first, then the others in the order they were
// configured) where a phone can be enrolled (a route that requires
// another kind, an app or a passkey, sends no texts) and that signs user
// in (admits). With none, the invite is refused with the reason: its link
// could never be used (a login form would refuse it when it is opened,
// signin.ErrInviteNotHere): every gate requires another kind; or a gate
// that signs user in does, and those that enroll do not sign user in; or
// no gate signs user in at all.
func (s *Site) inviteGate(user string) (*Site, error) {
	if err := signin.RefuseInvite(user, s.configUsers()); err != nil && s.SignIn == nil {
		return nil, signin.OnAStoppedCaddy(err) // the CLI's: no add until Caddy runs
	} else if err != nil {
		return nil, err
	}
	enrolling := false
	var strong *Site // the first gate that signs user in, where no phone can be enrolled
	for _, g := range s.realmGates() {
		switch {
		case len(g.Require) > 0:
			if strong == nil && g.admits(user) {
				strong = g
			}
		case g.admits(user):
			return g, nil
		default:
			enrolling = true
		}
	}
	switch {
	case !enrolling:
		return nil, &adminError{http.StatusConflict, fmt.Errorf("realm %s is served here only by gates with require %s, where no phone can be enrolled: add a gate without require for invites to lead to",
			s.Realm, factor.Join(s.Require, " "))}
	case strong != nil:
		return nil, &adminError{http.StatusConflict, fmt.Errorf("no invite for %q: realm %s signs %s in only at gates with require (%s at %s), where no phone can be enrolled, "+
			"and its gates that enroll phones are login forms (identity none) whose users do not name %s, so its link could never be used: "+
			"give %s a user line at such a gate (its phone then signs them in, no invite needed), or serve the realm with a gate without require that signs in any name",
			user, s.Realm, user, factor.Join(strong.Require, " "), strong.prefix(), user, user)}
	}
	return nil, unadmitted(s.Realm, user, fmt.Sprintf("no invite for %q", user), "its link could never be used")
}

// configUsers names the users the config gives a phone at a gate of s's
// realm (signin.RefuseInvite): the running gate's sign-in knows them
// (signin.ConfigUsers, the source of its ConfigPhone); on a stopped Caddy,
// the user lines of the realm's gates in its config file (realmGates), or,
// with a Badger folder alone, the users the last settle kept numbers for
// (settledUsers).
func (s *Site) configUsers() []string {
	if s.SignIn != nil {
		return s.SignIn.ConfigUsers()
	}
	var names []string
	for _, g := range s.realmGates() {
		for _, u := range g.Provisioned {
			names = append(names, u.Name)
		}
	}
	return names
}

// admitted refuses to provision a phone for user (the admin's add) where
// no gate of the realm on s's store signs user in (admits): the phone
// could never sign them in anywhere, as an invite's link could never be
// used (inviteGate). A gate's require does not matter here: the phone is
// the user's, wherever they sign in.
func (s *Site) admitted(user string) error {
	if slices.ContainsFunc(s.realmGates(), func(g *Site) bool { return g.admits(user) }) {
		return nil
	}
	return unadmitted(s.Realm, user, fmt.Sprintf("no phone for %q", user), "it could never be used to sign in")
}

// unadmitted is the 409 of a change for user, refused (what), that no gate
// of realm signs in, and why that makes it useless.
func unadmitted(realm, user, refused, useless string) error {
	return &adminError{http.StatusConflict, fmt.Errorf("%s: no gate of realm %s signs in %s, so %s. "+
		"The realm's login forms (identity none) sign in only the users their config names (its user lines), and %s is not one of them: "+
		"add %s to a gate's users, or serve the realm with a gate that signs in any name", refused, realm, user, useless, user, user)}
}

// realmGates are the gates of s's realm on s's store, s first, as the
// admin's tools know them: the running config's (the smsgate app), or a
// stopped Caddy's config file's (configuredSite); s alone where they know
// no config (a Badger folder named by --store).
func (s *Site) realmGates() []*Site {
	gates := []*Site{s}
	for _, g := range s.app.all() {
		if g != s && g.Realm == s.Realm && s.sameStore(g) {
			gates = append(gates, g)
		}
	}
	return gates
}

// storeKey names s's store for the settle's lock: its epoch record's ID
// where it read one, which each spelling of the store shares.
func (s *Site) storeKey() string { return cmp.Or(s.Epoch.ID(), s.StoreID()) }

// settleKey names the lock of s's realm on its store that its settles
// and its re-keying take: fixed at its config's start (giveNumbers), so
// that an epoch accepted since (accept-store: a new ID, storeKey) never
// gives a retry and a re-keying of that config two locks (final16 L-2).
func (s *Site) settleKey() string { return cmp.Or(s.lockKey, s.Realm+"\x00"+s.storeKey()) }

// Site is a gate as the admin's tools see it: its config and, while it
// runs, what Provision built that the admin's changes go through. The CLI
// on a stopped Caddy has the config only.
type Site struct {
	Config
	Admin    *enrollment.Admin
	Store    store.Store
	Epoch    *continuity.Watch // is the store still the one the gate knew?
	Sessions *session.Manager
	// SignIn is the running gate's sign-in: an admin's removal of a device
	// texts the user's phones through it (nil on a stopped Caddy).
	SignIn *signin.Service
	Logger *zap.Logger
	// Audit logs an admin's change and emits it as a Caddy event.
	Audit func(event, user, e164 string, fields ...zap.Field)
	// Alarm logs a change of the store's state at level, and emits it.
	Alarm func(level zapcore.Level, event, msg string, fields ...zap.Field)
	// Tally is the running gate's figures not yet in the store; Now its
	// clock (the machine's when nil).
	Tally *figures.Tally
	Now   func() time.Time
	// Recent is the realm's recent audit events (nil on a stopped Caddy).
	Recent *recent.Ring

	app     *App   // the config's gates (Register, configuredSite); nil: none known
	lockKey string // its realm's settle lock, set at the start (settleKey)
}

// sawUsers notes that the store holds users now: losing them freezes it.
func (s *Site) sawUsers(ctx context.Context) {
	if err := s.Epoch.SawUsers(ctx); err != nil {
		s.Logger.Error("noting that the store holds users", zap.Error(err))
	}
}

// pick chooses among sites the one serving realm, or the only realm when
// realm is empty. An unknown realm, several realms with none named, or one
// realm on gates with different stores is an error: an admin's change
// must never land in another site's store. Of a realm's gates, one that
// enrolls phones (no require) is preferred: the links the tools print
// (invites) must lead somewhere a new user can enroll.
func pick(sites []*Site, realm string) (*Site, error) {
	var realms []string
	for _, s := range sites {
		if !slices.Contains(realms, s.Realm) {
			realms = append(realms, s.Realm)
		}
	}
	slices.Sort(realms)
	realm = strings.ToLower(realm)
	switch {
	case len(sites) == 0:
		return nil, errNoGate
	case realm == "" && len(realms) > 1:
		return nil, &adminError{http.StatusBadRequest, fmt.Errorf("several realms are served (%s): name one with realm", strings.Join(realms, ", "))}
	case realm == "":
		realm = realms[0]
	case !slices.Contains(realms, realm):
		return nil, &adminError{http.StatusNotFound, fmt.Errorf("no smsgate handler serves realm %s (realms: %s)", echo(realm), strings.Join(realms, ", "))}
	}
	var found *Site
	for _, s := range sites {
		if s.Realm != realm {
			continue
		}
		if found != nil && !found.sameStore(s) {
			return nil, &adminError{http.StatusConflict, fmt.Errorf("realm %s is served by gates with different stores: the admin tools cannot tell which one you mean", realm)}
		}
		if found == nil || (len(found.Require) > 0 && len(s.Require) == 0) {
			found = s
		}
	}
	return found, nil
}
