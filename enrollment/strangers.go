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
// address that is refused writes nothing to the store; each instance (and
// each config, after a reload) keeps its own, and forgets some when it
// holds maxTallies.
type Strangers struct {
	IP, Net, Total Rate
	Store          store.Store
	Now            func() time.Time

	mu      sync.Mutex
	tallies map[string]*tally
}

// tally counts one address's admissions in a fixed window, until end.
type tally struct {
	end time.Time
	n   int
}

// maxTallies bounds the addresses remembered (about 100 bytes each).
const maxTallies = 1 << 16

// Admit counts one request from ip for realm, or refuses it with a
// *LimitError (stranger_ip, stranger_net or strangers) saying how long to
// wait. Only an admitted request reaches the store.
func (s *Strangers) Admit(ctx context.Context, realm, ip string) error {
	return s.admit(ctx, realm, ip, "", "strangers")
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
// made the store keep what it was asked, unbounded.
func (s *Strangers) AdmitKnown(ctx context.Context, realm, ip string) error {
	return s.admit(ctx, realm, ip, "/known", "strangers-known")
}

// admit is Admit with the address tallies' keys ending in side, counted
// in the total named total.
func (s *Strangers) admit(ctx context.Context, realm, ip, side, total string) error {
	if err := s.admitAddress(realm, ip, side); err != nil {
		return err
	}
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
	if err := s.count(now, "stranger_ip", realm+"/"+IPKey(ip)+side, s.IP); err != nil {
		return err
	}
	if n := net48(ip); n != "" {
		return s.count(now, "stranger_net", realm+"/"+n+side, s.Net)
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
	w := int64(s.Total.Window)
	now := s.Now()
	return &LimitError{Limit: "strangers", Wait: time.Unix(0, (now.UnixNano()/w+1)*w).Sub(now)}
}

// count adds one to key's tally under rate, or refuses.
func (s *Strangers) count(now time.Time, name, key string, rate Rate) error {
	if rate.Count <= 0 || rate.Window <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tallies == nil {
		s.tallies = make(map[string]*tally)
	}
	t := s.tallies[key]
	if t == nil || !now.Before(t.end) {
		if t == nil && len(s.tallies) >= maxTallies {
			s.forget(now)
		}
		t = &tally{end: now.Add(rate.Window)}
		s.tallies[key] = t
	}
	if t.n >= rate.Count {
		return &LimitError{Limit: name, Wait: t.end.Sub(now)}
	}
	t.n++
	return nil
}

// forget drops the tallies whose window has passed and, while more than
// 7/8 of maxTallies are left, others at random: a flood from many
// addresses must not grow memory without end (the total still bounds the
// store), and one scan makes room for many new addresses.
func (s *Strangers) forget(now time.Time) {
	for k, t := range s.tallies {
		if !now.Before(t.end) {
			delete(s.tallies, k)
		}
	}
	for k := range s.tallies {
		if len(s.tallies) <= maxTallies*7/8 {
			break
		}
		delete(s.tallies, k)
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
