package enrollment

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Strangers bounds what people the gate does not know yet can make it
// keep. A login form answers every name it is given with a challenge (a
// decoy for a name it does not know, so that nobody learns who exists), and
// a passkey sign-in keeps its ceremony: each is a few records that live an
// hour or minutes. Admit counts such a request per client IP (IPv6: per
// /64), per IPv6 /48, and in total per window; the total is the bound on
// the store, whatever the number of addresses: at most Total.Count
// admissions per window, in one counter per window in the store (shared by
// every instance). The per-address counts are kept in memory, so that an
// address that is refused writes nothing to the store: in Tallies, which
// the gates of a realm on one store share in a process (Shared; each
// instance keeps its own), and which forget some when they hold
// MaxTallies.
type Strangers struct {
	IP, Net, Total Rate
	// KnownUser is one known user's share of the known browsers' total
	// (AdmitKnown): counted in the store before the total, so that a
	// request her share refuses spends none of it (knownshare.go).
	KnownUser Rate
	Store     store.Store
	Now       func() time.Time
	// Tallies are the addresses' counts: nil, the Strangers' own (own);
	// a realm's gates' on one store (Shared).
	Tallies *Tallies

	own Tallies
}

// Tallies are the addresses' counts, in two parts that forget apart:
// IPv6 /64s (of which whoever holds a /48 has 65,536), and the units a
// holder cannot multiply so (IPv4 addresses, IPv6 /48s). A flood of one
// /48's /64s that fills its part makes it forget at random; in one part,
// it forgot the /48's own tally too, which started again: the /48 was
// admitted anew as often as the flood made the gate forget.
type Tallies struct {
	mu    sync.Mutex
	max   int // the addresses remembered (0: MaxTallies): fewer in a test of a flood that fills them
	parts [2]map[string]*tally
}

// The parts of Tallies.
const (
	sub64  = 0 // IPv6 /64s
	wholes = 1 // IPv4 addresses, IPv6 /48s
)

// tally counts one address's admissions in a fixed window, until end.
type tally struct {
	end time.Time
	n   int
}

// MaxTallies bounds the addresses remembered (about 100 bytes each), half
// of them in each part of the tallies.
const MaxTallies = 1 << 16

// remembered is how many addresses t remembers at most (MaxTallies).
func (t *Tallies) remembered() int {
	if t.max > 0 {
		return t.max
	}
	return MaxTallies
}

// tallies are the counts s keeps: Tallies, or its own.
func (s *Strangers) tallies() *Tallies {
	if s.Tallies != nil {
		return s.Tallies
	}
	return &s.own
}

// Admit counts one request from ip for realm, or refuses it with a
// *LimitError (stranger_ip, stranger_net or strangers) saying how long to
// wait. Only an admitted request reaches the store.
func (s *Strangers) Admit(ctx context.Context, realm, ip string) error {
	if err := s.admitAddress(realm, ip, ""); err != nil {
		return err
	}
	return s.countTotal(ctx, realm, "strangers")
}

// AdmitAddress is Admit's part in memory: per client IP and per IPv6 /48.
// The total is then counted with the request's first store work (Count),
// so that it costs no round trip of its own.
func (s *Strangers) AdmitAddress(realm, ip string) error { return s.admitAddress(realm, ip, "") }

// AdmitKnown counts a request of a known browser (one that signed in here
// before) that does not name its user (a passkey sign-in at a login form)
// from ip for realm, or refuses it as Admit does: in tallies of the known
// browsers at that address (IP, /48) apart from strangers' there (a
// shared NAT, a carrier's CGNAT), so that neither spends the other's; and
// in a total of their own, apart from strangers' too. Its ceremony is
// records in the store as a stranger's is, and a known-browser cookie is
// copied whole: without that total, one cookie sent from many addresses
// made the store keep what it was asked, unbounded. The tallies are the
// known user's (the cookie's subject) at the address: a known browser of
// another user there does not spend hers (attack40 H2; they are kept in
// memory, so an upgrade carries none over). The total is the realm's, so
// one user's share of it is bounded too (KnownUser, shareOf): without that,
// her own cookie sent from many addresses spent it for every known browser
// of the realm (attack40 H3).
func (s *Strangers) AdmitKnown(ctx context.Context, realm, ip, user string) error {
	if err := s.admitAddress(realm, ip, store.Key("", "known", user)); err != nil {
		return err
	}
	if err := s.shareOf(ctx, realm, user); err != nil {
		return err
	}
	return s.countTotal(ctx, realm, "strangers-known")
}

// countTotal counts one request in the total named total of realm, in a
// round trip of its own, or refuses it.
func (s *Strangers) countTotal(ctx context.Context, realm, total string) error {
	var b store.Batch
	op := s.total(&b, total, realm)
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return err
	}
	return s.Refusal(op)
}

// admitAddress is AdmitAddress, the tallies' keys ending in side.
func (s *Strangers) admitAddress(realm, ip, side string) error {
	now := s.Now()
	n := net48(ip)
	part := wholes
	if n != "" {
		part = sub64
	}
	if err := s.count(now, "stranger_ip", realm+"/"+IPKey(ip)+side, s.IP, part); err != nil {
		return err
	}
	if n != "" {
		return s.count(now, "stranger_net", realm+"/"+n+side, s.Net, wholes)
	}
	return nil
}

// Count adds counting a stranger's request (sc.Stranger) in its realm's
// total to b, or nothing (nil); Refusal reads it once b is done. The
// windows are aligned to the clock, one counter key each, which expires
// with its window.
func (s *Strangers) Count(b *store.Batch, sc Scope) *store.Op {
	if s == nil || !sc.Stranger {
		return nil
	}
	return s.total(b, "strangers", sc.Realm)
}

// total adds counting one request in the total named name of realm to b
// (a counter per window), or nothing (nil) where there is no total.
func (s *Strangers) total(b *store.Batch, name, realm string) *store.Op {
	if s.Total.Count <= 0 || s.Total.Window <= 0 {
		return nil
	}
	slot := s.Now().UnixNano() / int64(s.Total.Window)
	return b.Incr(store.Key(name, realm, strconv.FormatInt(slot, 10)), s.Total.Window)
}

// Refusal is the total's answer to the count op: nil, or a *LimitError
// saying how long until the next window.
func (s *Strangers) Refusal(op *store.Op) error {
	if op == nil || op.Err != nil || op.N <= int64(s.Total.Count) {
		return nil
	}
	return &LimitError{Limit: "strangers", Wait: untilNextWindow(s.Now(), s.Total.Window)}
}

// untilNextWindow is how long from now until the next of the clock-aligned
// windows of length w begins.
func untilNextWindow(now time.Time, w time.Duration) time.Duration {
	return time.Unix(0, (now.UnixNano()/int64(w)+1)*int64(w)).Sub(now)
}

// count adds one to key's tally, in part of the tallies, under rate, or
// refuses.
func (s *Strangers) count(now time.Time, name, key string, rate Rate, part int) error {
	if rate.Count <= 0 || rate.Window <= 0 {
		return nil
	}
	ts := s.tallies()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	tallies := ts.parts[part]
	if tallies == nil {
		tallies = make(map[string]*tally)
		ts.parts[part] = tallies
	}
	t := tallies[key]
	if t == nil || !now.Before(t.end) {
		if t == nil && len(tallies) >= ts.remembered()/2 {
			forget(tallies, now, ts.remembered())
		}
		t = &tally{end: now.Add(rate.Window)}
		tallies[key] = t
	}
	if t.n >= rate.Count {
		return &LimitError{Limit: name, Wait: t.end.Sub(now)}
	}
	t.n++
	return nil
}

// forget drops the tallies (one part's, of at most remembered/2) whose
// window has passed and, while more than 7/8 of the part's bound are left,
// others at random: a flood from many addresses must not grow memory
// without end (the total still bounds the store), and one scan makes room
// for many new addresses.
func forget(tallies map[string]*tally, now time.Time, remembered int) {
	keep := remembered / 2 * 7 / 8
	for k, t := range tallies {
		if !now.Before(t.end) {
			delete(tallies, k)
		}
	}
	for k := range tallies {
		if len(tallies) <= keep {
			break
		}
		delete(tallies, k)
	}
}

// net48 is the /48 of an IPv6 address (a site's usual allocation), or ""
// for IPv4.
func net48(ip string) string {
	parsed := net.ParseIP(ip)
	if parsed == nil || parsed.To4() != nil {
		return ""
	}
	return parsed.Mask(net.CIDRMask(48, 128)).String() + "/48"
}
