package signin

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// failMintedOnce fails the next read of mallory's index of the invites she
// minted, where failNext is set (after pass reads of it let through): the
// end of the invites fails, after the session or trust it goes with has
// ended.
type failMintedOnce struct {
	store.Store
	failNext atomic.Bool
	pass     atomic.Int32
}

func (s *failMintedOnce) Get(ctx context.Context, key string) ([]byte, error) {
	if key == endkeys.MintedInvites("r", "mallory") && s.failNext.Load() && s.pass.Add(-1) < 0 && s.failNext.CompareAndSwap(true, false) {
		return nil, errors.New("ends38: the store went away")
	}
	return s.Store.Get(ctx, key)
}

// endsRig is mallory, an admin: a thief signed in as her in a browser she
// trusted (thiefTrust; his session thiefSID) and minted at the console an
// invite for mal; in her own session (ownSID) she minted one for ned.
// With pushOff, 19 more sessions of hers came between, so the thief's is
// the one off her list (session.MaxListed).
type endsRig struct {
	ends       Ends
	st         *failMintedOnce
	m          *session.Manager
	thiefToken string
	thiefTrust string
	thiefSID   string
	ownSID     string
	audited    []map[string]any
}

func newEndsRig(t *testing.T, inner store.Store, pushOff bool) *endsRig {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	r := &endsRig{st: &failMintedOnce{Store: inner}}
	m, err := session.NewManager(ctx, session.Config{Store: inner, Realm: "r", Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Remember: 24 * time.Hour, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	amr := []factor.AMR{factor.AMRSMS}
	_, tb, err := m.TrustHeld(ctx, session.Began{}, "mallory", "", "", time.Time{}, session.Where{Browser: "Firefox"}, "", amr, now.Unix(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.thiefTrust = tb.ID
	if r.thiefToken, r.thiefSID, err = m.IssueTrusted(ctx, session.Began{}, "mallory", tb, session.Where{Browser: "Firefox", Trust: tb.ID}); err != nil {
		t.Fatal(err)
	}
	thiefIssued := now
	if pushOff {
		for range session.MaxListed - 1 {
			now = now.Add(time.Second)
			if _, _, err := m.IssueBegun(ctx, session.Began{}, "mallory", amr, session.Where{Browser: "Safari"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	now = now.Add(time.Second)
	if _, r.ownSID, err = m.IssueBegun(ctx, session.Began{}, "mallory", amr, session.Where{Browser: "Safari"}); err != nil {
		t.Fatal(err)
	}
	list := []endkeys.Minted{
		{User: "mal", ID: "mal-invite", Expires: now.Add(24 * time.Hour), Made: now, From: &endkeys.MintedFrom{SID: r.thiefSID, Issued: thiefIssued, Trust: r.thiefTrust}},
		{User: "ned", ID: "ned-invite", Expires: now.Add(24 * time.Hour), Made: now, From: &endkeys.MintedFrom{SID: r.ownSID, Issued: now}},
	}
	raw, _ := json.Marshal(list)
	if err := inner.Put(ctx, endkeys.MintedInvites("r", "mallory"), raw, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if err := inner.Put(ctx, endkeys.LatestInvite("r", m.User), []byte(`{"id":"`+m.ID+`"}`), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if r.thiefOut() {
		t.Fatal("the thief's session does not count before any end")
	}
	r.ends = Ends{Store: r.st, Realm: "r", Now: clock, Logger: zap.NewNop(), Sessions: m, Audit: func(event, user, _ string, fields ...zap.Field) {
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range fields {
			f.AddTo(enc)
		}
		enc.Fields["event"], enc.Fields["user"] = event, user
		r.audited = append(r.audited, enc.Fields)
	}}
	return r
}

// withdrawn says whether user's invite was ended (its newest, withdrawn).
func (r *endsRig) withdrawn(t *testing.T, user string) bool {
	t.Helper()
	raw, err := r.st.Store.Get(context.Background(), endkeys.LatestInvite("r", user))
	if err != nil {
		t.Fatal(err)
	}
	var latest map[string]any
	_ = json.Unmarshal(raw, &latest)
	return latest["id"] == endkeys.Withdrawn
}

// thiefOut says whether the thief's session has ended.
func (r *endsRig) thiefOut() bool { return r.m.Uncached(context.Background(), r.thiefToken) == nil }

// wantInvites checks that mal's invite (the thief's) ended, ned's (hers)
// did not, and the thief is signed out.
func (r *endsRig) wantInvites(t *testing.T) {
	t.Helper()
	if !r.withdrawn(t, "mal") || r.withdrawn(t, "ned") {
		t.Errorf("mal's invite ended %v, ned's %v; want mal's (the thief's) only", r.withdrawn(t, "mal"), r.withdrawn(t, "ned"))
	}
	if !r.thiefOut() {
		t.Error("the thief's session outlived its end")
	}
}

// wantAudit checks that the end was audited once, as event, with fields.
func (r *endsRig) wantAudit(t *testing.T, event string, fields map[string]any) {
	t.Helper()
	if len(r.audited) != 1 || r.audited[0]["event"] != event {
		t.Fatalf("audited %v; want one %s", r.audited, event)
	}
	for k, v := range fields {
		if got := r.audited[0][k]; got != v {
			t.Errorf("%s's %s: %v (%T); want %v", event, k, got, got, v)
		}
	}
}

// TestEndTrustEndsWhatItMinted: the devices page's "Stop trusting" of the
// thief's browser (attack37 F2), one step of signin's: his session ends,
// and so does the invite he minted in it, not hers; one browser_untrusted
// names invites_ended 1. Where the end of the invites fails, the step
// answers the error (the page: 503) with nothing audited, the trust and
// its session ended already; asked again, the trust is gone (Trust
// false) and its invites end all the same, audited once. On Badger and
// Redis.
func TestEndTrustEndsWhatItMinted(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		r := newEndsRig(t, st, false)
		ended, err := r.ends.EndTrust(ctx, "mallory", r.thiefTrust)
		if err != nil || !ended.Trust || ended.Minted.Ended != 1 {
			t.Fatalf("EndTrust: %+v, %v; want the trust and one invite ended", ended, err)
		}
		r.wantInvites(t)
		r.wantAudit(t, "browser_untrusted", map[string]any{"user": "mallory", "invites_ended": int64(1)})
	})
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		r := newEndsRig(t, st, false)
		r.st.failNext.Store(true)
		if _, err := r.ends.EndTrust(ctx, "mallory", r.thiefTrust); err == nil {
			t.Fatal("EndTrust whose invites failed: no error")
		}
		if len(r.audited) != 0 || !r.thiefOut() || r.withdrawn(t, "mal") {
			t.Fatalf("after the failure: audited %v, thief out %v, mal's invite ended %v; want none, true, false", r.audited, r.thiefOut(), r.withdrawn(t, "mal"))
		}
		ended, err := r.ends.EndTrust(ctx, "mallory", r.thiefTrust)
		if err != nil || ended.Trust || ended.Minted.Ended != 1 {
			t.Fatalf("EndTrust asked again: %+v, %v; want the trust gone and one invite ended", ended, err)
		}
		r.wantInvites(t)
		r.wantAudit(t, "browser_untrusted", map[string]any{"invites_ended": int64(1)})
	})
}

// TestEndSessionEndsWhatItMinted: the admin's end of the thief's session
// (attack36 F3) ends it, its trust, and the invite minted in it, not
// hers; one admin_sessions_end names the admin, the session (short) and
// invites_ended 1. Where the end of the invites fails, the step answers
// the error (the admin: 503, "try again") with nothing audited, the
// session ended already; asked again, it ends the invite, audited once
// (ends38: before, the retry was no session, the admin's 404, and the
// thief's invite stayed live). On Badger and Redis.
func TestEndSessionEndsWhatItMinted(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		r := newEndsRig(t, st, false)
		ended, err := r.ends.EndSession(ctx, "mallory", r.thiefSID, "root")
		if err != nil || ended.Session == nil || ended.Session.SID != r.thiefSID || ended.Minted.Ended != 1 {
			t.Fatalf("EndSession: %+v, %v; want the thief's session and one invite ended", ended, err)
		}
		r.wantInvites(t)
		r.wantAudit(t, "admin_sessions_end", map[string]any{"by": "root", "session": ShortSID(r.thiefSID), "invites_ended": int64(1)})
	})
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		r := newEndsRig(t, st, false)
		r.st.failNext.Store(true)
		if _, err := r.ends.EndSession(ctx, "mallory", r.thiefSID, ""); err == nil {
			t.Fatal("EndSession whose invites failed: no error")
		}
		if len(r.audited) != 0 || !r.thiefOut() {
			t.Fatalf("after the failure: audited %v, thief out %v; want none, true", r.audited, r.thiefOut())
		}
		ended, err := r.ends.EndSession(ctx, "mallory", r.thiefSID, "")
		if err != nil || ended.Session == nil || ended.Session.SID != r.thiefSID || ended.Minted.Ended != 1 {
			t.Fatalf("EndSession asked again: %+v, %v; want the thief's session and one invite ended", ended, err)
		}
		r.wantInvites(t)
		r.wantAudit(t, "admin_sessions_end", map[string]any{"session": ShortSID(r.thiefSID), "invites_ended": int64(1)})
		if _, err := r.ends.EndSession(ctx, "mallory", r.thiefSID, ""); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("EndSession asked a third time: %v; want ErrNoSession (done, and out of her index)", err)
		}
	})
}

// TestEndUnlistedEndsWhatItMinted: the admin's end of the sessions pushed
// off mallory's list (the thief's, under 20 of hers) ends his and the
// invite minted in it, not hers (her listed session's); one
// admin_sessions_end_unlisted names the admin and invites_ended 1. Where
// the end of the invites fails, the step answers the error with nothing
// audited, the thief signed out already; its record kept (review37 F2),
// the end asked again ends his invite, audited once. On Badger and Redis.
func TestEndUnlistedEndsWhatItMinted(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		r := newEndsRig(t, st, true)
		ended, err := r.ends.EndUnlisted(ctx, "mallory", "root")
		if err != nil || ended.Unlisted.Count != 1 || ended.Minted.Ended != 1 {
			t.Fatalf("EndUnlisted: %+v, %v; want the thief's session and one invite ended", ended, err)
		}
		r.wantInvites(t)
		r.wantAudit(t, "admin_sessions_end_unlisted", map[string]any{"by": "root", "invites_ended": int64(1)})
	})
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		r := newEndsRig(t, st, true)
		r.st.failNext.Store(true)
		if _, err := r.ends.EndUnlisted(ctx, "mallory", ""); err == nil {
			t.Fatal("EndUnlisted whose invites failed: no error")
		}
		if len(r.audited) != 0 || !r.thiefOut() || r.withdrawn(t, "mal") {
			t.Fatalf("after the failure: audited %v, thief out %v, mal's invite ended %v; want none, true, false", r.audited, r.thiefOut(), r.withdrawn(t, "mal"))
		}
		ended, err := r.ends.EndUnlisted(ctx, "mallory", "")
		if err != nil || ended.Minted.Ended != 1 {
			t.Fatalf("EndUnlisted asked again: %+v, %v; want one invite ended", ended, err)
		}
		r.wantInvites(t)
		r.wantAudit(t, "admin_sessions_end_unlisted", map[string]any{"invites_ended": int64(1)})
	})
}

// TestSignOutEverywhereEndsWhatSheMinted: her sign out everywhere (the
// devices page's) ends every trust and session of hers, the thief's and
// her own, and every invite she minted (attack34b), his and hers; one
// signed_out_everywhere names invites_ended 2. Where the end of the
// invites fails, the step answers the error (the page: 503) with nothing
// audited, her sessions ended already; asked again (signed in anew), it
// ends them, audited once. On Badger and Redis.
func TestSignOutEverywhereEndsWhatSheMinted(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
			ctx := context.Background()
			r := newEndsRig(t, st, false)
			r.ends.Sessions = r.m
			r.st.failNext.Store(fail)
			ended, err := r.ends.SignOutEverywhere(ctx, "mallory")
			if fail {
				if err == nil {
					t.Fatal("SignOutEverywhere whose invites failed: no error")
				}
				if len(r.audited) != 0 || !r.thiefOut() || r.withdrawn(t, "mal") {
					t.Fatalf("after the failure: audited %v, thief out %v, mal's invite ended %v; want none, true, false", r.audited, r.thiefOut(), r.withdrawn(t, "mal"))
				}
				ended, err = r.ends.SignOutEverywhere(ctx, "mallory")
			}
			if err != nil || ended.Minted.Ended != 2 {
				t.Fatalf("SignOutEverywhere: %+v, %v; want both invites ended", ended, err)
			}
			if !r.withdrawn(t, "mal") || !r.withdrawn(t, "ned") || !r.thiefOut() {
				t.Errorf("mal's invite ended %v, ned's %v, the thief out %v; want all", r.withdrawn(t, "mal"), r.withdrawn(t, "ned"), r.thiefOut())
			}
			if trusts, err := r.m.TrustedBrowsers(ctx, "mallory"); err != nil || len(trusts) != 0 {
				t.Errorf("her trusts after: %v, %v; want none", trusts, err)
			}
			r.wantAudit(t, "signed_out_everywhere", map[string]any{"user": "mallory", "invites_ended": int64(2)})
		})
	}
}
