package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestALogoutOfAnEndedSessionKeepsTheEndsMark (review39 R1), on Badger
// and a real Redis: an admin's end of a session (End) writes its mark,
// with its time, in the session's own revocation record; a logout of that
// session afterwards (a replayed cookie, a step-up replacing it: Revoke)
// keeps it an end's (EndedByAnEnd, EndedAt: the step-up reads it to end
// the session that replaced it), and once announced, a logout asked again
// is a replay (ended false). A record of the release before (1: an end's,
// of no time) is read as an end's, and stays one through a logout.
// (Before: the logout wrote "announced" over the end's mark.)
func TestALogoutOfAnEndedSessionKeepsTheEndsMark(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Second)
		m := managerOf(t, st, "r", &now)
		signIn := func() (string, *Claims) {
			tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{Browser: "Edge"})
			if err != nil {
				t.Fatal(err)
			}
			cl, err := m.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			return tok, cl
		}
		check := func(when, sid string, wantAt time.Time) {
			t.Helper()
			byEnd, at, err := EndedAt(ctx, st, "r", sid)
			if err != nil || !byEnd || !at.Equal(wantAt) {
				t.Errorf("%s: ended by an end %v at %v (%v); want true at %v", when, byEnd, at, err, wantAt)
			}
			if byEnd, err := EndedByAnEnd(ctx, st, "r", sid); err != nil || !byEnd {
				t.Errorf("%s: EndedByAnEnd %v (%v)", when, byEnd, err)
			}
		}

		tok, cl := signIn()
		endedAt := now.Add(time.Second)
		now = endedAt
		if _, err := End(ctx, st, "r", "alice", cl.SID, now); err != nil {
			t.Fatal(err)
		}
		check("ended", cl.SID, endedAt)
		if own, at, err := EndedItself(ctx, st, "r", cl.SID); err != nil || !own || !at.Equal(endedAt) {
			t.Errorf("its own end: EndedItself %v at %v (%v); want true at %v", own, at, err, endedAt)
		}
		now = now.Add(time.Second)
		for i, want := range []string{"the logout of the ended session", "that logout again"} {
			if ended, err := m.Revoke(ctx, tok, cl); err != nil || ended {
				t.Errorf("%s: ended %v (%v); want false, the end ended it", want, ended, err)
			}
			check(want, cl.SID, endedAt)
			if raw, _ := st.Get(ctx, endkeys.Session("r", cl.SID)); i == 1 && string(raw) != string(endAnnounced(endMark(endedAt, true))) {
				t.Errorf("%s: its record %q", want, raw)
			}
		}

		// The release before's end: 1.
		tok, cl = signIn()
		if err := st.Put(ctx, endkeys.Session("r", cl.SID), []byte{1}, time.Hour); err != nil {
			t.Fatal(err)
		}
		check("ended by the release before", cl.SID, time.Time{})
		if ended, err := m.Revoke(ctx, tok, cl); err != nil || ended {
			t.Errorf("its logout: ended %v (%v)", ended, err)
		}
		check("ended by the release before, then its logout", cl.SID, time.Time{})

		// A sign-out's own is not an end's.
		tok, cl = signIn()
		if ended, err := m.Revoke(ctx, tok, cl); err != nil || !ended {
			t.Fatalf("a sign-out: ended %v (%v)", ended, err)
		}
		if byEnd, _, err := EndedAt(ctx, st, "r", cl.SID); err != nil || byEnd {
			t.Errorf("a sign-out's record read as an end's (%v)", err)
		}
	})
}

// TestAnEndWithItsDeviceIsNotItsOwnEnd: a session ended with what it came
// from (its device's removal, its trust's end: endListed) is marked so
// apart from an end of the session itself (EndWith), and keeps that kind
// once a logout announced it again: a step-up replacing it follows only
// its own end to the new session (EndedItself; signin's afterTheMove).
// Before, the removal of the phone that signed a browser in ended, by
// following its step-up, the session a new phone kept had just earned
// (caddymodule TestTheAdminsRemovalWhileHerSessionsAddDevices, redis).
func TestAnEndWithItsDeviceIsNotItsOwnEnd(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Second)
		list := []Info{{SID: "a", Expires: now.Add(time.Hour)}, {SID: "b", Expires: now.Add(time.Hour)}}
		if err := revokeListed(ctx, st, "r", list, now, func(Info) bool { return true }, "b"); err != nil {
			t.Fatal(err)
		}
		for sid, want := range map[string]bool{"a": false, "b": true} {
			byEnd, at, err := EndedAt(ctx, st, "r", sid)
			if err != nil || !byEnd || !at.Equal(now) {
				t.Errorf("%s: EndedAt %v at %v (%v); want an end at %v", sid, byEnd, at, err, now)
			}
			if own, _, err := EndedItself(ctx, st, "r", sid); err != nil || own != want {
				t.Errorf("%s: EndedItself %v (%v); want %v", sid, own, err, want)
			}
			raw, _ := st.Get(ctx, endkeys.Session("r", sid))
			if _, own, at := readEnd(endAnnounced(raw)); own != want || !at.Equal(now) {
				t.Errorf("%s: announced again, own %v at %v; want %v at %v", sid, own, at, want, now)
			}
		}
	})
}
