package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// The addresses a gate remembers are bounded, and a window's end lets an
// address in again. The bound is shrunk to 1,024 here (as in
// TestAFloodOfOneNetworksAddressesKeepsItsLimit): forget is the same at
// any bound, and MaxTallies' 70,536 admissions were 0.45 s of CPU under
// -race; that the bound is MaxTallies unless shrunk is checked apart.
func TestStrangersRememberFewAddresses(t *testing.T) {
	t.Parallel()
	if n := (&Tallies{}).remembered(); n != MaxTallies {
		t.Fatalf("tallies remember %d addresses by default, not MaxTallies (%d)", n, MaxTallies)
	}
	const bound = 1 << 10
	now := time.Unix(1_700_000_000, 0)
	s := &Strangers{IP: Rate{2, time.Hour}, Net: Rate{100, time.Hour}, Now: func() time.Time { return now }, own: Tallies{max: bound}}
	for i := range bound + 5000 {
		if err := s.AdmitAddress("r", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.own.parts[sub64]) + len(s.own.parts[wholes]); n > bound {
		t.Fatalf("%d addresses remembered, more than %d", n, bound)
	}
	ip := "192.0.2.1"
	for range 2 {
		if err := s.AdmitAddress("r", ip); err != nil {
			t.Fatal(err)
		}
	}
	var limit *LimitError
	if err := s.AdmitAddress("r", ip); !errors.As(err, &limit) || limit.Limit != "stranger_ip" || limit.Wait != time.Hour {
		t.Fatalf("third from one address: %v", err)
	}
	now = now.Add(time.Hour)
	if err := s.AdmitAddress("r", ip); err != nil {
		t.Fatalf("a new window: %v", err)
	}
}

// The total is one counter a window, aligned to the clock.
func TestStrangersTotal(t *testing.T) {
	t.Parallel()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	now := time.Date(2026, 1, 1, 10, 59, 0, 0, time.UTC)
	s := &Strangers{Total: Rate{3, time.Hour}, Store: st, Now: func() time.Time { return now }}
	ctx := context.Background()
	for i := range 3 {
		if err := s.Admit(ctx, "r", fmt.Sprintf("192.0.2.%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var limit *LimitError
	if err := s.Admit(ctx, "r", "192.0.2.9"); !errors.As(err, &limit) || limit.Limit != "strangers" || limit.Wait != time.Minute {
		t.Fatalf("over the total: %v", err)
	}
	now = now.Add(time.Minute)
	if err := s.Admit(ctx, "r", "192.0.2.9"); err != nil {
		t.Fatalf("the next window: %v", err)
	}
}

// Known browsers at an address have tallies of their own, per IP and per
// IPv6 /48, apart from strangers': neither spends the other's, and each
// is held by its own (AdmitKnown: a known browser's passkey sign-in at a
// login form).
func TestKnownBrowsersCountApartFromStrangers(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	s := &Strangers{IP: Rate{2, time.Hour}, Net: Rate{3, time.Hour}, Now: func() time.Time { return now }}
	for _, c := range []struct{ first, second, ip, limit string }{
		{"strangers", "known", "192.0.2.1", "stranger_ip"},
		{"known", "strangers", "192.0.2.2", "stranger_ip"},
	} {
		known := func(realm, ip string) error { return s.AdmitKnown(context.Background(), realm, ip, "alice") }
		admit := map[string]func(realm, ip string) error{"strangers": s.AdmitAddress, "known": known}
		for _, side := range []string{c.first, c.second} {
			for i := range 3 {
				err := admit[side]("r", c.ip)
				var limit *LimitError
				if i < 2 && err != nil || i == 2 && (!errors.As(err, &limit) || limit.Limit != c.limit) {
					t.Errorf("%s at %s after the %s: %d: %v", side, c.ip, c.first, i+1, err)
				}
			}
		}
		// Another user's known browser there has tallies of its own
		// (attack40 H2: it spent hers).
		if err := s.AdmitKnown(context.Background(), "r", c.ip, "bob"); err != nil {
			t.Errorf("bob's known browser at %s after alice's: %v", c.ip, err)
		}
	}
	// A /48's: three each, from three of its /64s.
	known := func(realm, ip string) error { return s.AdmitKnown(context.Background(), realm, ip, "alice") }
	for _, side := range []func(realm, ip string) error{known, s.AdmitAddress} {
		for i := range 4 {
			err := side("r", fmt.Sprintf("2001:db8:1:%x::1", i))
			var limit *LimitError
			if i < 3 && err != nil || i == 3 && (!errors.As(err, &limit) || limit.Limit != "stranger_net") {
				t.Errorf("the /48's %d: %v", i+1, err)
			}
		}
	}
}

// TestAKnownBrowsersCookieFromManyAddressesIsBounded: a known browser's
// passkey sign-ins at a login form keep a ceremony in the store each, as a
// stranger's do, and its cookie is copied whole: one cookie sent from
// ever new addresses is held by a total of the known browsers' own (at
// 6c5275d, by none: all 40 admitted), apart from strangers' (neither
// spends the other's), on a real Badger.
func TestAKnownBrowsersCookieFromManyAddressesIsBounded(t *testing.T) {
	t.Parallel()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	s := &Strangers{IP: Rate{2, time.Hour}, Net: Rate{2, time.Hour}, Total: Rate{5, time.Hour}, Store: st, Now: func() time.Time { return now }}
	ctx := context.Background()
	admitted := 0
	for i := range 40 {
		err := s.AdmitKnown(ctx, "r", fmt.Sprintf("198.51.100.%d", i), "alice")
		var limit *LimitError
		switch {
		case err == nil:
			admitted++
		case !errors.As(err, &limit) || limit.Limit != "strangers":
			t.Fatalf("the %d-th address: %v", i+1, err)
		}
	}
	if admitted != 5 {
		t.Errorf("a known browser's cookie from 40 addresses: %d admitted, want the total's 5", admitted)
	}
	for i := range 5 { // strangers: their own total, unspent
		if err := s.Admit(ctx, "r", fmt.Sprintf("203.0.113.%d", i)); err != nil {
			t.Fatalf("a stranger after the known browsers' total was spent: %v", err)
		}
	}
	now = now.Add(time.Hour)
	if err := s.AdmitKnown(ctx, "r", "198.51.100.250", "alice"); err != nil {
		t.Fatalf("the next window: %v", err)
	}
}

// TestAFloodOfOneNetworksAddressesKeepsItsLimit: whoever holds one IPv6
// /48 (a tunnel broker gives one away) holds 65,536 /64s, each an address
// of its own to the per-address tallies, which a gate keeps in memory and
// forgets at random once it holds too many. Requests from ever-new /64s of
// one /48 filled the tallies, and each forgetting could drop the /48's
// own tally: it started again, and the /48 was admitted anew, as often as
// the flood made the gate forget (the tallies shrunk to 64 addresses: 35
// of 400 passkey sign-ins begun through a real Caddy were admitted where
// stranger_net allows 5; at the real bound, 1,200 of 1,000,000 where it
// allows 600). The /48 is the unit its holder cannot multiply: its tally
// is never forgotten for its /64s.
func TestAFloodOfOneNetworksAddressesKeepsItsLimit(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := &Strangers{IP: DefaultLimits.StrangerIP, Net: Rate{5, time.Hour}, Now: func() time.Time { return now }, own: Tallies{max: 64}}
	admitted := 0
	for i := range 400 {
		err := s.AdmitAddress("r", fmt.Sprintf("2001:db8:7:%x::1", i))
		var limit *LimitError
		switch {
		case err == nil:
			admitted++
		case !errors.As(err, &limit) || limit.Limit != "stranger_net":
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if admitted != 5 {
		t.Fatalf("%d requests admitted from the /64s of one /48, where stranger_net allows 5", admitted)
	}
	if n := len(s.own.parts[sub64]) + len(s.own.parts[wholes]); n > 64 {
		t.Fatalf("%d addresses remembered, more than the 64 allowed", n)
	}
}

// TestARealmsGatesShareTheirTallies: the gates of one realm on one store
// (written alike, or holding one epoch record) count an address once
// (Shared), a gate of another realm or store apart; a reload's gates keep
// the counts (they take them before the old ones end), and once the last
// gate ended they are forgotten. (Before, each gate counted alone: an
// address was admitted stranger_ip times at each.)
func TestARealmsGatesShareTheirTallies(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	gate := func(realm, storeID, epoch string) (*Strangers, context.CancelFunc) {
		ctx, end := context.WithCancel(context.Background())
		s := &Strangers{IP: Rate{2, time.Hour}, Now: func() time.Time { return now }}
		return s.Shared(ctx, realm, storeID, epoch), end
	}
	const ip = "192.0.2.44"
	admits := func(s *Strangers) bool { return s.AdmitAddress("r", ip) == nil }
	a, endA := gate("r", "S", "")
	b, endB := gate("r", "S", "E") // its epoch read, a's not
	byNumber, endC := gate("r", "S by number", "E")
	other, endO := gate("o", "S", "E")
	apart, endD := gate("r", "T", "F")
	defer endO()
	defer endD()
	if !admits(a) || !admits(b) || admits(a) || admits(b) || admits(byNumber) {
		t.Fatal("the realm's gates on one store gave the address more than stranger_ip's 2")
	}
	if !admits(other) || !admits(apart) {
		t.Fatal("a gate of another realm, or on another store, counted the realm's")
	}
	reloaded, endR := gate("r", "S", "E")
	endA()
	endB()
	endC()
	if admits(reloaded) {
		t.Fatal("a reload's gate forgot the count")
	}
	endR()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		fresh, endF := gate("r", "S", "")
		ok := admits(fresh)
		endF()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tallies outlived the realm's last gate")
		}
	}
}
