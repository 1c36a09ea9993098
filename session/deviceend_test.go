package session

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestEndDeviceEndsWhatTheDeviceEarned: the removal of alice's lost phone
// ends the sessions and trusts it earned and those of the release before
// the claim (which name no device), with the sessions of the trusts it
// ends; a session and a trust another phone earned stay, so does one no
// device earned (a recovery code's), and so do the session that asked for
// the removal and its trust, another phone's.
func TestEndDeviceEndsWhatTheDeviceEarned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	lost, kept, none := "lost", "kept", ""
	a := alicesRecords{t, m, st, &now}
	trust, issue := a.trust, a.issue
	tLost, tKept, tOld, tKeep := trust(lost), trust(kept), trust(kept), trust(kept)
	sLost, _ := issue(Where{Device: &lost})
	sKept, _ := issue(Where{Device: &kept})
	sNone, _ := issue(Where{Device: &none})
	sOld, oldCl := issue(Where{})
	sOfTrust, _ := issue(Where{Trust: tLost.ID, Device: &kept}) // a code of kept in a browser lost's trust holds
	sKeep, keep := issue(Where{Trust: tKeep.ID, Device: &kept})
	// The previous release's: no device in the index, nor in the trust.
	a.ofThePreviousRelease(oldCl.SID, tOld.ID)
	now = now.Add(time.Second)
	if err := EndDevice(ctx, st, "example.com", "alice", lost, keep, now); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"the lost phone's": sLost, "the previous release's": sOld, "its trust's": sOfTrust} {
		if m.Check(ctx, tok) != nil {
			t.Errorf("%s session outlived the removal", name)
		}
	}
	for name, tok := range map[string]string{"another phone's": sKept, "no device's": sNone, "the removing": sKeep} {
		if m.Check(ctx, tok) == nil {
			t.Errorf("%s session ended with the removal", name)
		}
	}
	left := a.trustsLeft()
	if want := []string{tKept.ID, tKeep.ID}; !slices.Equal(left, want) {
		t.Errorf("trusts left %v, want another phone's and the removing session's %v", left, want)
	}
}

// TestEndDeviceEndsItsUnlistedSessions, on Badger and a real Redis: alice's
// lost phone signs in a session that alice's other sign-ins then push off
// her list of MaxListed, and another whose listing the store failed; a
// gate of another process has checked both. Removing the phone ends both
// there (the revocation log) and in the store (the device's end: a check
// that never saw them refuses them), with no list to find them in, and so
// the session that asked for the removal, which the phone earned (its
// holder removed the phone that signed it in); another phone's sessions
// stay, and so does one of the same phone issued after the end. (Before,
// both sessions lived on until they expired: nothing read the token's
// device; and the asking session stayed though the phone earned it.)
func TestEndDeviceEndsItsUnlistedSessions(t *testing.T) {
	t.Parallel()
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			a, b := gatesOn(t, st, &now)
			lost, other := "lost", "other"
			issue := func(m *Manager, device *string) (string, *Claims) {
				t.Helper()
				tok, _, err := m.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRSMS}, Where{Device: device})
				if err != nil {
					t.Fatal(err)
				}
				cl, err := m.Verify(tok)
				if err != nil {
					t.Fatal(err)
				}
				return tok, cl
			}
			pushed, _ := issue(a, &lost)
			// Its listing failed: the sign-in stands, unlisted.
			failing, err := NewManager(ctx, Config{Store: &failingWrites{Store: st, prefix: "sessions/"}, Realm: "example.com",
				Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			failing.store.(*failingWrites).on.Store(true)
			unlisted, _ := issue(awaitingPolls(failing), &lost)
			keepTok, keep := issue(a, &lost)
			var others []string
			for range MaxListed {
				now = now.Add(time.Second)
				tok, _ := issue(a, &other)
				others = append(others, tok)
			}
			list, err := Sessions(ctx, st, "example.com", "alice", now)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range list {
				if s.Where.Device != nil && *s.Where.Device == lost && s.SID != keep.SID {
					t.Fatal("a session of the lost phone is still listed")
				}
			}
			for _, tok := range append([]string{pushed, unlisted, keepTok}, others...) {
				if b.Check(ctx, tok) == nil {
					t.Fatal("a session refused before the removal")
				}
			}
			now = now.Add(time.Second)
			if err := EndDevice(ctx, st, "example.com", "alice", lost, keep, now); err != nil {
				t.Fatal(err)
			}
			now = now.Add(RevocationPoll)
			later, _ := issue(failing, &lost) // unlisted: a later removal's list does not find it
			// A gate that starts now knows only the store.
			_, fresh := gatesOn(t, st, &now)
			for name, tok := range map[string]string{"pushed off the list": pushed, "whose listing failed": unlisted, "removing": keepTok} {
				if b.Check(ctx, tok) != nil {
					t.Errorf("the lost phone's session %s is live at the other gate after the removal", name)
				}
				if fresh.Check(ctx, tok) != nil {
					t.Errorf("the lost phone's session %s is live in the store after the removal", name)
				}
			}
			for name, tok := range map[string]string{"another phone's": others[0], "a later": later} {
				if b.Check(ctx, tok) == nil || fresh.Check(ctx, tok) == nil {
					t.Errorf("%s session ended with the removal", name)
				}
			}
			// Asked again with an earlier time (a clock behind), the end
			// does not move back.
			if err := EndDevice(ctx, st, "example.com", "alice", lost, nil, now.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, fresh := gatesOn(t, st, &now); fresh.Check(ctx, pushed) != nil || fresh.Check(ctx, later) == nil {
				t.Error("a removal asked again at an earlier time moved the device's end")
			}
		})
	}
}

// TestTheLogTellsOfADevicesEnd: a gate that read a device's end in the
// revocation log refuses the device's sessions issued until then, from memory while the store cannot answer or has forgotten the
// record (revokes, admits), and puts the record back (knownDevices); other
// devices', other users', later ones and those of no device are left
// alone.
func TestTheLogTellsOfADevicesEnd(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_800_000_000, 0)
	var c coverage
	c.reset(start)
	end := start.Add(time.Hour)
	c.add(end, revocation{Realm: "localhost", Of: "alice", Device: "lost", At: end.UnixNano()}, 12*time.Hour)
	session := func(user, sid string, device *string, issued time.Time) *Claims {
		return &Claims{SID: sid, Device: device, RegisteredClaims: jwt.RegisteredClaims{Subject: user, IssuedAt: jwt.NewNumericDate(issued)}}
	}
	lost, other, none := "lost", "other", ""
	if cl := session("alice", "s1", &lost, end.Add(-time.Minute)); !c.revokes(cl) || c.admits(cl) {
		t.Error("a session of the ended device, told of by the log")
	}
	for name, cl := range map[string]*Claims{
		"later":         session("alice", "s2", &lost, end.Add(time.Minute)),
		"other device":  session("alice", "s3", &other, end.Add(-time.Minute)),
		"other user":    session("bob", "s4", &lost, end.Add(-time.Minute)),
		"no device":     session("alice", "s5", &none, end.Add(-time.Minute)),
		"earlier claim": session("alice", "s6", nil, end.Add(-time.Minute)),
	} {
		if c.revokes(cl) {
			t.Errorf("the %s session is refused", name)
		}
		if cl.IssuedAt.After(start.Add(Leeway)) && !c.admits(cl) {
			t.Errorf("the %s session is not admitted", name)
		}
	}
	if d := c.knownDevices(); len(d) != 1 || !d[deviceOf("alice", "lost")].end.At.Equal(end) {
		t.Errorf("put back: %+v", d)
	}
	c.add(end.Add(13*time.Hour), revocation{Realm: "localhost", SID: "later"}, 12*time.Hour)
	if d := c.knownDevices(); len(d) != 0 {
		t.Errorf("kept past its sessions' lifetime: %+v", d)
	}
}

// TestRemovingTheDeviceThatSignedInEndsTheRemover: a thief holding her
// password and her stolen phone signs in with it, trusting his browser,
// and removes the phone from that session: the session and its trust end
// with everything else the phone earned (before, both stayed: he kept
// signing in, and she could no longer remove the phone). A session of the
// previous release, which names no device, removing the phone still stays
// with its trust.
func TestRemovingTheDeviceThatSignedInEndsTheRemover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	stolen := "stolen"
	_, tb, err := m.TrustHeld(ctx, Began{}, "alice", "", "", time.Time{}, Where{Browser: "his browser"}, stolen, []factor.AMR{factor.AMRSMS}, now.Unix(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := m.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRSMS}, Where{Trust: tb.ID, Device: &stolen})
	if err != nil {
		t.Fatal(err)
	}
	thief, err := m.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if err := EndDevice(ctx, st, "example.com", "alice", stolen, thief, now); err != nil {
		t.Fatal(err)
	}
	if m.Check(ctx, tok) != nil {
		t.Error("the session the removed phone earned stayed because it asked for the removal")
	}
	if list, err := m.TrustedBrowsers(ctx, "alice"); err != nil || len(list) != 0 {
		t.Errorf("the removed phone's trust stayed because its session asked for the removal: %v, %v", list, err)
	}
	// A previous release's session (no dv) asking: kept, as before.
	old, _, err := m.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	oldCl, _ := m.Verify(old)
	now = now.Add(time.Second)
	if err := EndDevice(ctx, st, "example.com", "alice", "another", oldCl, now); err != nil {
		t.Fatal(err)
	}
	if m.Check(ctx, old) == nil {
		t.Error("a previous release's session removing a device ended itself")
	}
}

// TestADevicesListedSessionsKeepTheirOwnEnds: the removal of alice's lost
// phone writes, for each listed session the phone earned, the session's
// own end and its end mark, though the device's end refuses them at every
// gate of this release: a gate of the release before reads no device end
// (only the session's), and a browser that signed in with the phone stays
// known (a guess window of its own) until its session's end mark says
// otherwise where its known-browser cookie names no device (a previous
// release's: StillKnown reads the device's end only for a cookie naming
// it). Skipping them, as ends the device's already covers, would keep a
// thief's browser known.
func TestADevicesListedSessionsKeepTheirOwnEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m, st := newManager(t, "HS256", &now)
	if w, _, err := continuity.Open(ctx, st, continuity.Options{Now: func() time.Time { return now }}); err != nil || w == nil {
		t.Fatal(err) // the store's epoch: browsers signed in since are known
	}
	lost := "lost"
	tok, _, err := m.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRSMS}, Where{Device: &lost})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := m.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if known, err := StillKnown(ctx, st, "example.com", "alice", cl.SID, "", "", cl.IssuedAt.Time); err != nil || !known {
		t.Fatalf("the browser the phone signed in is not known before the removal: %v, %v", known, err)
	}
	now = now.Add(time.Second)
	if err := EndDevice(ctx, st, "example.com", "alice", lost, nil, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, endkeys.Session("example.com", cl.SID)); err != nil {
		t.Errorf("the lost phone's listed session has no end of its own: %v", err)
	}
	if known, err := StillKnown(ctx, st, "example.com", "alice", cl.SID, "", "", cl.IssuedAt.Time); err != nil || known {
		t.Errorf("the browser the lost phone signed in is still known: %v, %v", known, err)
	}
}

// alicesRecords issues alice's sessions and trusts on m (st its store),
// at *now, for the tests of a device's end.
type alicesRecords struct {
	t   *testing.T
	m   *Manager
	st  store.Store
	now *time.Time
}

// trust is a trust of a browser device earned.
func (a alicesRecords) trust(device string) *TrustedBrowser {
	a.t.Helper()
	_, tb, err := a.m.TrustHeld(context.Background(), Began{}, "alice", "", "", time.Time{}, Where{Browser: "a browser"}, device, []factor.AMR{factor.AMRSMS}, a.now.Unix(), 24*time.Hour)
	if err != nil {
		a.t.Fatal(err)
	}
	return tb
}

// issue is a session signed in at w.
func (a alicesRecords) issue(w Where) (string, *Claims) {
	a.t.Helper()
	tok, _, err := a.m.IssueBegun(context.Background(), Began{}, "alice", []factor.AMR{factor.AMRSMS}, w)
	if err != nil {
		a.t.Fatal(err)
	}
	cl, err := a.m.Verify(tok)
	if err != nil {
		a.t.Fatal(err)
	}
	return tok, cl
}

// ofThePreviousRelease makes sid's listing and trust's record name no
// device, as the release before the claim wrote them.
func (a alicesRecords) ofThePreviousRelease(sid, trust string) {
	a.t.Helper()
	ctx := context.Background()
	if err := editIndex(ctx, a.st, "example.com", "alice", *a.now, func(list []Info) []Info {
		for i := range list {
			if list[i].SID == sid {
				list[i].Where.Device = nil
			}
		}
		return list
	}); err != nil {
		a.t.Fatal(err)
	}
	list, err := a.m.TrustedBrowsers(ctx, "alice")
	if err != nil {
		a.t.Fatal(err)
	}
	for i := range list {
		if list[i].ID == trust {
			list[i].Device = nil
		}
	}
	raw, _ := json.Marshal(list)
	if err := a.st.Put(ctx, trustedKey("example.com", "alice"), raw, time.Hour); err != nil {
		a.t.Fatal(err)
	}
}

// trustsLeft is the IDs of alice's trusts.
func (a alicesRecords) trustsLeft() []string {
	a.t.Helper()
	list, err := a.m.TrustedBrowsers(context.Background(), "alice")
	if err != nil {
		a.t.Fatal(err)
	}
	var left []string
	for _, tb := range list {
		left = append(left, tb.ID)
	}
	return left
}
