package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAKeptRecoverySessionsBrowserStaysKnown: alice, signed in with a
// recovery code of the set her lost phone's session made (her session
// names the phone), removes the phone; her session stays (the end's
// Keep), and so must her browser's known-ness: its cookie names the same
// session and phone. The thief's recovery session of that set, and his
// browser, end. (Before, final read: StillKnown read the end without its
// Keep, and her browser was a stranger's again.)
func TestAKeptRecoverySessionsBrowserStaysKnown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	if w, _, err := continuity.Open(ctx, st, continuity.Options{Now: func() time.Time { return now }}); err != nil || w == nil {
		t.Fatal(err)
	}
	lost := "lost"
	signIn := func() *Claims {
		t.Helper()
		tok, _, err := m.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRRecovery}, Where{Device: &lost})
		if err != nil {
			t.Fatal(err)
		}
		cl, err := m.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	hers, thiefs := signIn(), signIn()
	now = now.Add(time.Second)
	if err := EndDevice(ctx, st, "example.com", "alice", lost, hers, now); err != nil {
		t.Fatal(err)
	}
	if known, err := StillKnown(ctx, st, "example.com", "alice", hers.SID, "", lost, hers.IssuedAt.Time); err != nil || !known {
		t.Errorf("her browser, whose session the removal kept, is known no more: %v, %v", known, err)
	}
	if known, err := StillKnown(ctx, st, "example.com", "alice", thiefs.SID, "", lost, thiefs.IssuedAt.Time); err != nil || known {
		t.Errorf("the thief's browser is still known: %v, %v", known, err)
	}
}

// TestAnUnreadableDeviceEndEndsForEachReader: a device's end the store
// holds but that cannot be read ends the device's session (deviceEnds),
// its browser's known-ness (StillKnown) and keeps no session
// (KeptMark), as each reader did before they shared parseDeviceEnd;
// one the store holds keeping her session keeps it for each.
func TestAnUnreadableDeviceEndEndsForEachReader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	if w, _, err := continuity.Open(ctx, st, continuity.Options{Now: func() time.Time { return now }}); err != nil || w == nil {
		t.Fatal(err)
	}
	phone := "phone"
	tok, _, err := m.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRRecovery}, Where{Device: &phone})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := m.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	key := endkeys.Device("example.com", "alice", phone)
	for _, c := range []struct {
		name  string
		value []byte
		ends  bool
	}{
		{"unreadable", []byte("not an end"), true},
		{"keeping her session", deviceEnd{At: now, Keep: cl.SID}.record(), false},
	} {
		if err := st.Put(ctx, key, c.value, time.Hour); err != nil {
			t.Fatal(err)
		}
		var b store.Batch
		op := readDeviceEnd(&b, "example.com", cl)
		if err := store.Do(ctx, st, &b); err != nil {
			t.Fatal(err)
		}
		known, err := StillKnown(ctx, st, "example.com", "alice", cl.SID, "", phone, cl.IssuedAt.Time)
		if err != nil {
			t.Fatal(err)
		}
		kept, _, err := KeptMark(ctx, st, "example.com", cl)
		if err != nil {
			t.Fatal(err)
		}
		if deviceEnds(op, cl) != c.ends || known == c.ends || kept == c.ends {
			t.Errorf("an end %s: ends her session %v, her browser known %v, her session kept %v; want ends %v",
				c.name, deviceEnds(op, cl), known, kept, c.ends)
		}
	}
}
