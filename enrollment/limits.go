package enrollment

import (
	"context"
	"errors"
	"math"
	"net"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/store"
)

// Rate is at most Count events per Window; a Count of 0 turns it off.
type Rate struct {
	Count  int
	Window time.Duration
}

// Limits bound what sending codes can cost and how long guessing can go
// on. Every counter lives in the store, so limits survive restarts and are
// shared by every instance on a shared store.
type Limits struct {
	// Sends per user (in a realm), per number, per client IP (IPv6 by
	// /64), per destination country, voice calls per user, and the hourly
	// budgets of all sends to enrolled numbers and to new ones (a number
	// the user has not confirmed: a first enrollment's, a phone being
	// added). The two budgets are separate so that draining one
	// (enrollment spam, unconfirmed adds) cannot stop enrolled users from
	// signing in. Each is a realm's: its gates share them, other realms
	// on the store have their own (budgets.go).
	User, Number, IP, Country, Voice, GlobalEnrolled, GlobalNew Rate

	// What strangers (a login form's names, passkey sign-ins begun) may
	// make the gate keep: per client IP, per IPv6 /48, and in total
	// (see Strangers).
	StrangerIP, StrangerNet, Strangers Rate
	// KnownUser is one known user's share of the known browsers' total
	// of passkey sign-ins begun at a login form (as large as Strangers):
	// where a config sets none, a KnownUserShare-th of Strangers, in its
	// window (knownshare.go).
	KnownUser Rate

	// LockAfter wrong codes from one (user, IP) lock that pair out for
	// Lockout, doubling with each further round, up to a day.
	LockAfter int
	Lockout   time.Duration
	// MaxFailures wrong codes in a row (a right one starts afresh) lock
	// the account for AccountLockout, whatever the IPs, sent at once or
	// not (NIST SP 800-63B: at most MaxMaxFailures).
	MaxFailures int
	// Guesses is how many codes may be checked for one account in a
	// sliding window, from browsers that are not the owner's (the owner's
	// known browsers have a window of their own): what bounds guessing
	// from unlimited IPs, whatever the lock lengths (see guesses.go).
	Guesses Rate
}

// MaxMaxFailures is the most consecutive wrong codes an account may be
// allowed (NIST SP 800-63B).
const MaxMaxFailures = 100

// DefaultLimits are the limits when none are configured.
var DefaultLimits = Limits{
	User:           Rate{10, time.Hour}, // Auth0's default
	Number:         Rate{10, time.Hour},
	IP:             Rate{20, time.Hour},
	Country:        Rate{200, time.Hour},
	Voice:          Rate{1, time.Hour}, // calls cost more: Auth0 allows one an hour
	GlobalEnrolled: Rate{1000, time.Hour},
	GlobalNew:      Rate{100, time.Hour},
	StrangerIP:     Rate{60, time.Hour},
	StrangerNet:    Rate{600, time.Hour},
	Strangers:      Rate{5000, time.Hour},
	KnownUser:      Rate{50, time.Hour}, // knownUserOf(Strangers)
	LockAfter:      10,
	Lockout:        time.Minute,
	MaxFailures:    MaxMaxFailures,
	Guesses:        Rate{100, 24 * time.Hour},
}

// Check is why rate cannot be limit name's (a negative count or window,
// or a count without a window), naming its option; nil when it can. A
// Caddyfile and JSON read it alike.
func (rate Rate) Check(name string) error {
	if rate.Count < 0 || rate.Window < 0 || (rate.Count > 0 && rate.Window == 0) {
		return cfutil.OptionErrf("limit "+name, "limit %s: want a count of 0 (off) or more and a positive window, not %d %s", name, rate.Count, rate.Window)
	}
	return nil
}

// LimitNames are the limits a config sets by name (limit <name> …).
var LimitNames = []string{"user", "number", "ip", "country", "voice", "global_enrolled", "global_new", "guesses",
	"stranger_ip", "stranger_net", "strangers", "known_user"}

// Named is the limit a config calls name, or nil if there is none.
func (l *Limits) Named(name string) *Rate {
	place := map[string]*Rate{"user": &l.User, "number": &l.Number, "ip": &l.IP, "country": &l.Country, "voice": &l.Voice,
		"global_enrolled": &l.GlobalEnrolled, "global_new": &l.GlobalNew, "guesses": &l.Guesses,
		"stranger_ip": &l.StrangerIP, "stranger_net": &l.StrangerNet, "strangers": &l.Strangers,
		"known_user": &l.KnownUser}
	return place[name]
}

// LimitList names every limit, for an error that says which exist.
func LimitList() string {
	return strings.Join(LimitNames[:len(LimitNames)-1], ", ") + " or " + LimitNames[len(LimitNames)-1]
}

// Configured is DefaultLimits with a config's own: rates by name (Named),
// and the lockout's settings where not 0, which the caller checked are in
// their ranges (the gate's table of numbers). A mistake names its option
// (cfutil.OptionError: "limit <name>").
func Configured(rates map[string]Rate, lockAfter int, lockout time.Duration, maxFailures int) (Limits, error) {
	l := DefaultLimits
	for name, rate := range rates {
		r := l.Named(name)
		if r == nil {
			return l, cfutil.OptionErrf("limit "+name, "unknown limit %q: use %s", name, LimitList())
		}
		if err := rate.Check(name); err != nil {
			return l, err
		}
		*r = rate
	}
	if _, set := rates["known_user"]; !set && l.Strangers.Count > 0 && l.Strangers.Window > 0 {
		l.KnownUser = knownUserOf(l.Strangers) // a share of the total the config set
	}
	if lockAfter != 0 {
		l.LockAfter = lockAfter
	}
	if lockout != 0 {
		l.Lockout = lockout
	}
	if maxFailures != 0 {
		l.MaxFailures = maxFailures
	}
	if err := l.CheckGuesses(); err != nil {
		return l, &cfutil.OptionError{Key: "limit guesses", Err: err}
	}
	return l, nil
}

// IPKey is the part of a client IP that limits count: the address for
// IPv4, the /64 network for IPv6 (one subscriber's usual share).
func IPKey(ip string) string {
	parsed := net.ParseIP(ip)
	if parsed == nil {
		return "unknown"
	}
	if v4 := parsed.To4(); v4 != nil {
		return v4.String()
	}
	return parsed.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// spent is one send recorded in a limit's sliding window, so that it can
// be given back when the gateway, not the user, failed.
type spent struct{ key, id string }

// sends is one send counted in every limit that applies (a batch's
// slides), narrowest first: the sender's own IP, the user, the number,
// the country, then the global budget. Windows slide: no burst around the
// hour gets twice the budget.
type sends struct {
	names  []string
	spent  []spent
	slides []*store.Op
	budget int // index of the global budget
	// storeWait is when the oldest send of the previous release's
	// store-wide budget counted in the realm's leaves it (0: none).
	storeWait time.Duration
	// shared is a known browser's read of the previous release's window
	// of its address (Scope.probeShared): full, the send is refused.
	shared *probe
}

// budgetOf is the global budget a send of c counts in, and its rate: a
// number the user has not confirmed (a first phone, one being added) is
// a new number's send, whoever asks.
func (s *Challenges) budgetOf(c *Challenge) (string, Rate) {
	if c.Purpose == Enroll || c.Purpose == Add {
		return "global_new", s.Limits.GlobalNew
	}
	return "global_enrolled", s.Limits.GlobalEnrolled
}

// readBudget adds to b the read countSend needs of the previous
// release's store-wide budget (readStoreBudget), a decoy's too (the same
// store work: it counts nothing there).
func (s *Challenges) readBudget(b *store.Batch, c *Challenge, now time.Time) *store.Op {
	name, rate := s.budgetOf(c)
	return s.readStoreBudget(b, name, rate, now)
}

// countSend adds one slide per limit that applies to b; old is
// readBudget's read, made before.
func (s *Challenges) countSend(b *store.Batch, sc Scope, c *Challenge, old *store.Op, now time.Time) *sends {
	type check struct {
		name, key string
		rate      Rate
	}
	// A browser that signed in before (a known browser) has budgets of its
	// own, so that strangers naming the user cannot spend them.
	who := sc.spender(c.limitKey())
	checks := []check{
		{"ip", "", s.Limits.IP}, // its key: sc.ipWindow
		{"user", who, s.Limits.User},
	}
	if c.Channel == factor.ChannelVoice {
		checks = append(checks, check{"voice", who, s.Limits.Voice})
	}
	budget, rate := s.budgetOf(c)
	room, storeWait := s.budgetRoom(budget, rate, old)
	number, country, all := s.numberID(c.Phone), phone.Region(c.Phone), budgetKey(budget, sc.Realm)
	decoy := c.Phone == ""
	if decoy {
		// A decoy does the same store work, on the number it pretends to
		// reach (the one typed, or one made from the name), so that its
		// answers match a real send's; its country and budget cost
		// nothing, so they slide through windows that keep nothing
		// (decoyWindow) on keys of their own.
		number = "decoy/" + s.numberID("name "+c.limitKey())
		country, all = "decoy/country", store.Key("limit", budget, "decoy/budget")
	}
	if sc.Known {
		number += "/known"
	}
	checks = append(checks,
		check{"number", number, s.Limits.Number},
		check{"country", country, s.Limits.Country},
		check{budget, all, rate})
	r := &sends{budget: -1, shared: sc.probeShared(b, "ip", s.Limits.IP, now)}
	for _, ch := range checks {
		if ch.rate.Count <= 0 || ch.rate.Window <= 0 {
			continue
		}
		key, count, window := store.Key("limit", ch.name, ch.key), ch.rate.Count, ch.rate.Window
		if ch.name == budget {
			// The realm's window (its key made whole: budgetKey), under
			// what the previous release's leaves of the limit.
			r.budget, r.storeWait, key, count = len(r.slides), storeWait, ch.key, room
		}
		sp := spent{key, RandomID()}
		if ch.name == "ip" {
			sp.key = sc.ipWindow("ip", c.User)
		}
		r.names, r.spent = append(r.names, ch.name), append(r.spent, sp)
		if decoy && (ch.name == "country" || ch.name == budget) {
			count, window = math.MaxInt32, decoyWindow
		}
		r.slides = append(r.slides, b.Slide(sp.key, sp.id, count, window, now))
	}
	return r
}

// decoyWindow is the span of a decoy's country and budget windows: a
// decoy's send is forgotten at once, so strangers' decoys keep nothing
// there (the windows a real send would count stay the same in shape).
const decoyWindow = time.Millisecond

// CountNaming counts a name typed at a login form that sends nothing (a
// gate that takes no texted codes) toward the client IP's send limit, so
// that probing names there costs what it costs at a form that sends. user
// is the known browser's (sc.Known), whose window it is: never the typed
// name, which would give a known browser a window for each name it types.
func (s *Core) CountNaming(ctx context.Context, sc Scope, user string) error {
	r := s.Limits.IP
	if r.Count <= 0 || r.Window <= 0 {
		return nil
	}
	var b store.Batch
	key, id := sc.ipWindow("ip", user), RandomID()
	shared := sc.probeShared(&b, "ip", r, s.Now())
	op := b.Slide(key, id, r.Count, r.Window, s.Now())
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return err
	}
	if shared.full() {
		if op.OK {
			_ = s.Store.Unslide(ctx, key, id)
		}
		return &LimitError{Limit: "ip", Wait: shared.wait()}
	}
	if !op.OK {
		return &LimitError{Limit: "ip", Wait: op.Wait}
	}
	return nil
}

// refusal is the first limit, in order, that refused the send.
func (r *sends) refusal() error {
	if r.shared.full() {
		return &LimitError{Limit: "ip", Wait: r.shared.wait()}
	}
	for i, op := range r.slides {
		if !op.OK {
			wait := op.Wait
			if i == r.budget && r.storeWait > 0 {
				// The previous release's sends leave first: room then.
				wait = min(wait, r.storeWait)
			}
			return &LimitError{Limit: r.names[i], Wait: wait}
		}
	}
	return nil
}

// recorded is what the send took from the windows, to give back: with the
// budget when no send happened at all, without it when the gateway was
// tried (the budget bounds what outages can cost too).
func (r *sends) recorded(budgetToo bool) []spent {
	var list []spent
	for i, op := range r.slides {
		if op.Err == nil && op.OK && (budgetToo || i != r.budget) {
			list = append(list, r.spent[i])
		}
	}
	return list
}

// unsent is what a send the gateway (or a number's lookup) was asked for
// and that sent nothing gives back: the number's and the country's
// windows (and a call's), never the budget, the user's or the IP's. A
// refusal costs the gate what a send does (a paid lookup, a gateway's
// 4xx an attacker can bring about with the numbers typed), so the
// user's and the IP's windows bound how many one account or one address
// gets, as they bound sends; an outage's retries count there too.
func (r *sends) unsent() []spent {
	var list []spent
	for i, op := range r.slides {
		if op.Err == nil && op.OK && i != r.budget && r.names[i] != "user" && r.names[i] != "ip" {
			list = append(list, r.spent[i])
		}
	}
	return list
}

// refundOf is what a send that sent nothing (err: the gateway's refusal,
// or a number's lookup's) gives back of what it counted: nothing where
// the number is at fault (a UserError: as a send), else the windows
// unsent names.
func refundOf(err error, r *sends) []spent {
	if errors.As(err, new(*providers.UserError)) {
		return nil
	}
	return r.unsent()
}
