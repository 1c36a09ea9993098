package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAKeptSessionsMarkOutlivesTheEndAskedAgainAndAWipe: the removal of
// the thief's device Y (which recorded a config phone's mark) from the
// recovery session it keeps writes that mark in Y's end (EndMarkedDevice),
// for what the session adds (KeptMark); the same removal asked again
// (the admin's, later, naming no mark: the device is gone) keeps it, as
// it keeps the session; and a gate that read the end in the revocation
// log puts it back with the mark once Redis forgot it. A session the end
// does not keep has no mark.
func TestAKeptSessionsMarkOutlivesTheEndAskedAgainAndAWipe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st := wipeable(t)
	now := time.Now().Truncate(time.Second)
	m := managerOf(t, st, "r", &now)
	y := "Y"
	session := func(amr factor.AMR) *Claims {
		tok, err := m.Issue(ctx, "alice", []factor.AMR{amr}, Where{Device: &y})
		if err != nil {
			t.Fatal(err)
		}
		cl, err := m.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	kept, other := session(factor.AMRRecovery), session(factor.AMRRecovery)
	mark := NumberMark("x")
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			name string
			cl   *Claims
			kept bool
			mark string
		}{{"the removing session", kept, true, mark}, {"another browser's", other, false, ""}} {
			if ok, got, err := KeptMark(ctx, st, "r", c.cl); err != nil || ok != c.kept || got != c.mark {
				t.Errorf("%s: %s kept %v with mark %q (%v); want %v, %q", when, c.name, ok, got, err, c.kept, c.mark)
			}
		}
	}
	if err := EndMarkedDevice(ctx, st, "r", "alice", y, mark, kept, now); err != nil {
		t.Fatal(err)
	}
	check("Y removed")
	now = now.Add(time.Minute)
	if err := EndDevice(ctx, st, "r", "alice", y, nil, now); err != nil {
		t.Fatal(err)
	}
	check("the removal asked again")
	m.poll(ctx) // the log read, as every second
	r.Restart() // every record gone
	m.poll(ctx) // the wipe noticed: what the log told put back
	check("the end put back after a wipe")
}

// TestAnEndWithNoMarkIsFilledInByTheRemovalThatTookTheDevice: of two
// removals of Y at once from the recovery session they keep, the one that
// found Y gone (no mark to give) wrote the end first; the one that took Y
// away, writing the mark it read, fills it in (review17 B): before, the
// end kept the first's empty mark and the session added devices naming
// nothing. An end that keeps another session, or none, is given no mark
// and keeps no more; on Badger and Redis.
func TestAnEndWithNoMarkIsFilledInByTheRemovalThatTookTheDevice(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Second)
		m, err := NewManager(ctx, Config{Store: st, Realm: "r", Lifetime: time.Hour, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		recovery := func(device string) *Claims {
			tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRRecovery}, Where{Device: &device})
			if err != nil {
				t.Fatal(err)
			}
			cl, err := m.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			return cl
		}
		mark := NumberMark("x")
		keptY, keptW, otherW, byAdmin := recovery("Y"), recovery("W"), recovery("W"), recovery("V")
		for _, c := range []struct {
			device      string
			first, then *Claims
			read        *Claims
			kept        bool
			want        string
		}{
			{"Y", keptY, keptY, keptY, true, mark}, // the same session: filled in
			{"W", keptW, otherW, keptW, true, ""},  // another browser's session asking: no mark given
			{"W", keptW, otherW, otherW, false, ""},
			{"V", nil, byAdmin, byAdmin, false, ""}, // the admin's end first: keeps nothing
		} {
			if err := EndMarkedDevice(ctx, st, "r", "alice", c.device, "", c.first, now); err != nil {
				t.Fatal(err)
			}
			if err := EndMarkedDevice(ctx, st, "r", "alice", c.device, mark, c.then, now); err != nil {
				t.Fatal(err)
			}
			ok, got, err := KeptMark(ctx, st, "r", c.read)
			if err != nil || got != c.want || ok != c.kept {
				t.Errorf("%s: kept %v, mark %q (%v); want %v, %q", c.device, ok, got, err, c.kept, c.want)
			}
		}
	})
}
