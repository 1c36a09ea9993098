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
// address in again.
func TestStrangersRememberFewAddresses(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := &Strangers{IP: Rate{2, time.Hour}, Net: Rate{100, time.Hour}, Now: func() time.Time { return now }}
	for i := range maxTallies + 5000 {
		if err := s.AdmitAddress("r", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.tallies); n > maxTallies {
		t.Fatalf("%d addresses remembered, more than %d", n, maxTallies)
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
